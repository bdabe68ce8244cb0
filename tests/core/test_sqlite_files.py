"""The SQLite database and its data folder are readable by their owner only."""

import os
import stat
from pathlib import Path

import pytest
from django.db.backends.sqlite3.base import DatabaseWrapper

from clinicflow.settings import data_dir_prepare, database_from_url


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_database(django_db_blocker):
    """Open a real SQLite file, as the product does (the test database itself lives in memory)."""
    with django_db_blocker.unblock():
        yield connect


def connect(settings_dict: dict) -> DatabaseWrapper:
    connection = DatabaseWrapper({**settings_dict, "TIME_ZONE": None, "CONN_HEALTH_CHECKS": False,
                                  "CONN_MAX_AGE": 0, "AUTOCOMMIT": True, "ATOMIC_REQUESTS": False}, alias="files")
    connection.ensure_connection()
    return connection


def test_a_new_data_folder_is_0700(tmp_path):
    assert mode(data_dir_prepare(tmp_path / "data")) == 0o700


def test_an_existing_open_data_folder_is_closed_to_others(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    assert mode(data_dir_prepare(folder)) == 0o700


def test_the_database_and_its_wal_and_shm_are_0600_even_with_an_open_umask(tmp_path, open_database):
    old_umask = os.umask(0o022)
    try:
        connection = open_database(database_from_url("", tmp_path))
        with connection.cursor() as cursor:
            cursor.execute("CREATE TABLE t (x)")
            cursor.execute("INSERT INTO t VALUES (1)")
        files = [tmp_path / "clinicflow.sqlite3", tmp_path / "clinicflow.sqlite3-wal",
                 tmp_path / "clinicflow.sqlite3-shm"]
        assert {f.name: mode(f) for f in files} == {f.name: 0o600 for f in files}
        connection.close()
    finally:
        os.umask(old_umask)


def test_an_existing_world_readable_database_is_tightened_on_connect(tmp_path, open_database):
    database = tmp_path / "old.sqlite3"
    database.touch(mode=0o644)
    database.chmod(0o644)
    open_database(database_from_url(f"sqlite:///{database}", tmp_path)).close()
    assert mode(database) == 0o600


def test_a_sqlite_url_gets_the_same_wal_immediate_and_timeout_options_as_the_default(tmp_path):
    default = database_from_url("", tmp_path)
    from_url = database_from_url("sqlite:////srv/clinic/crm.sqlite3", tmp_path)
    assert from_url["NAME"] == "/srv/clinic/crm.sqlite3"
    assert from_url["OPTIONS"] == default["OPTIONS"]
    assert from_url["OPTIONS"]["transaction_mode"] == "IMMEDIATE" and from_url["OPTIONS"]["timeout"] == 20
