"""Settings come from the environment and refuse bad values loudly."""

from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from clinicflow.settings import database_from_url, envbool, envint, envnetworks


def test_no_database_url_means_sqlite_in_wal_mode_under_the_data_folder():
    db = database_from_url("", Path("/srv/clinicflow"))
    assert db["ENGINE"] == "django.db.backends.sqlite3"
    assert db["NAME"] == Path("/srv/clinicflow/clinicflow.sqlite3")
    assert "journal_mode=WAL" in db["OPTIONS"]["init_command"]


def test_a_postgresql_url_is_split_into_its_parts():
    db = database_from_url("postgresql://crm:s%40cret@db.local:6432/clinic?sslmode=require", Path("."))
    assert (db["ENGINE"], db["NAME"], db["USER"], db["PASSWORD"], db["HOST"], db["PORT"]) == (
        "django.db.backends.postgresql", "clinic", "crm", "s@cret", "db.local", "6432")
    assert db["OPTIONS"] == {"sslmode": "require"}


def test_an_unknown_database_scheme_is_refused():
    with pytest.raises(ImproperlyConfigured, match="mysql"):
        database_from_url("mysql://root@localhost/clinic", Path("."))


@pytest.mark.parametrize("value,expected", [("1", True), ("yes", True), ("off", False), ("", False)])
def test_envbool_reads_common_spellings(monkeypatch, value, expected):
    monkeypatch.setenv("CLINICFLOW_X", value)
    assert envbool("CLINICFLOW_X") is expected


def test_envbool_and_envint_name_the_variable_they_cannot_read(monkeypatch):
    monkeypatch.setenv("CLINICFLOW_X", "maybe")
    with pytest.raises(ImproperlyConfigured, match="CLINICFLOW_X must be true or false"):
        envbool("CLINICFLOW_X")
    with pytest.raises(ImproperlyConfigured, match="CLINICFLOW_X must be a whole number"):
        envint("CLINICFLOW_X", 5)


def test_envnetworks_reads_addresses_and_networks(monkeypatch):
    monkeypatch.setenv("CLINICFLOW_X", " 10.0.0.2, 172.16.0.0/12 ,2001:db8::/32,")
    assert envnetworks("CLINICFLOW_X") == ["10.0.0.2", "172.16.0.0/12", "2001:db8::/32"]


def test_envnetworks_is_empty_when_unset(monkeypatch):
    monkeypatch.delenv("CLINICFLOW_X", raising=False)
    assert envnetworks("CLINICFLOW_X") == []


def test_envnetworks_names_the_variable_and_the_bad_entry(monkeypatch):
    monkeypatch.setenv("CLINICFLOW_X", "10.0.0.2,proxy.local")
    with pytest.raises(ImproperlyConfigured, match="must list IP addresses or networks, not 'proxy.local'"):
        envnetworks("CLINICFLOW_X")
