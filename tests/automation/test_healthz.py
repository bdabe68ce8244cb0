"""/healthz: what a monitor polls. 200 while the database answers; says whether a worker is alive."""

from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from django.db import OperationalError

from clinicflow.automation.models import Job, WorkerHeartbeat

URL = "/healthz"
NOW = datetime(2025, 3, 12, 7, 0, tzinfo=UTC)

pytestmark = pytest.mark.time_machine(NOW, tick=False)


def health(client) -> dict:
    response = client.get(URL)
    assert response.status_code == 200
    return response.json()


def test_it_reports_a_healthy_database(client, db):
    report = health(client)
    assert report["status"] == "ok"
    assert report["database"]["status"] == "ok"
    assert report["database"]["vendor"] in ("sqlite", "postgresql")
    assert report["version"]


def test_it_needs_no_login(client, db):
    assert client.get(URL).status_code == 200


def test_it_is_never_cached(client, db):
    assert "no-cache" in client.get(URL)["Cache-Control"]


def test_it_says_the_worker_is_down_without_a_heartbeat(client, db):
    assert health(client)["worker"] == {"status": "down", "alive": 0, "overdue_jobs": 0, "failed_jobs": 0}


def test_it_says_the_worker_is_ok_with_a_fresh_heartbeat(client, db):
    WorkerHeartbeat.objects.create(name="host:1", last_seen_at=NOW - timedelta(seconds=5))
    assert health(client)["worker"]["status"] == "ok"
    assert health(client)["worker"]["alive"] == 1


def test_it_says_the_worker_is_down_when_the_heartbeat_is_stale(client, db):
    WorkerHeartbeat.objects.create(name="host:1", last_seen_at=NOW - timedelta(minutes=2))
    assert health(client)["worker"]["status"] == "down"


def test_it_counts_overdue_and_failed_jobs(client, db):
    Job.objects.create(kind="x", due_at=NOW - timedelta(minutes=10), idempotency_key="overdue")
    Job.objects.create(kind="x", due_at=NOW - timedelta(minutes=1), idempotency_key="just-due")
    Job.objects.create(kind="x", due_at=NOW, idempotency_key="failed", state=Job.State.FAILED)
    worker = health(client)["worker"]
    assert (worker["overdue_jobs"], worker["failed_jobs"]) == (1, 1)


def test_it_answers_503_when_the_database_is_unreachable(client, db):
    with mock.patch("django.db.connection.cursor", side_effect=OperationalError("connection refused")):
        response = client.get(URL)
    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "unreachable", "error": "OperationalError"}


def test_the_503_does_not_leak_the_database_error(client, db):
    with mock.patch("django.db.connection.cursor", side_effect=OperationalError("password for postgres is x")):
        response = client.get(URL)
    assert "password" not in response.content.decode()
