from django.apps import AppConfig
from django.db.backends.signals import connection_created


class CoreConfig(AppConfig):
    name = "clinicflow.core"
    verbose_name = "Core"

    def ready(self):
        connection_created.connect(unicode_lower_on_sqlite)


def unicode_lower_on_sqlite(sender, connection, **kwargs):
    """SQLite's LOWER() folds ASCII only; PostgreSQL's folds Cyrillic too. Make both find "иван" in "Иван"."""
    if connection.vendor == "sqlite":
        connection.connection.create_function("LOWER", 1, lambda value: value.lower() if value else value,
                                              deterministic=True)
