import logging
import os
import time

from django.apps import AppConfig
from django.contrib.auth.signals import user_logged_in
from django.db.backends.signals import connection_created
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "clinicflow.core"
    verbose_name = _("Core")

    def ready(self):
        connection_created.connect(unicode_lower_on_sqlite)
        connection_created.connect(sqlite_files_owner_only)
        user_logged_in.connect(idle_clock_start)


def unicode_lower_on_sqlite(sender, connection, **kwargs):
    """SQLite's LOWER() folds ASCII only; PostgreSQL's folds Cyrillic too. Make both find "иван" in "Иван"."""
    if connection.vendor == "sqlite":
        connection.connection.create_function("LOWER", 1, lambda value: value.lower() if value else value,
                                              deterministic=True)


def sqlite_files_owner_only(sender, connection, **kwargs):
    """The database holds patients' contact data: 0600 for it and its -wal/-shm, whatever the umask.

    SQLite creates -wal and -shm with the main file's mode, so once the main file is 0600 they follow;
    the ones already there (made before this rule, or by the WAL pragma of this very connection) are fixed.
    """
    if connection.vendor != "sqlite" or connection.is_in_memory_db():
        return
    path = str(connection.settings_dict["NAME"])
    for name in (path, path + "-wal", path + "-shm"):
        try:
            if os.stat(name).st_mode & 0o077:
                os.chmod(name, 0o600)
        except FileNotFoundError:
            pass
        except PermissionError:
            logging.getLogger(__name__).warning("%s is readable by others and not ours to chmod", name)


def idle_clock_start(sender, request, user, **kwargs):
    """The idle log-out counts from the log-in (so the first page after it need not save the session)."""
    from .middleware import LAST_SEEN_KEY

    if request is not None and hasattr(request, "session"):
        request.session[LAST_SEEN_KEY] = time.time()
