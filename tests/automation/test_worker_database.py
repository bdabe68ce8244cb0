"""A worker that loses its database: one line when it goes, one when it is back, ever longer waits between."""

import logging
import os
import subprocess
import sys
import time
from datetime import timedelta
from unittest import mock

import pytest
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from clinicflow.automation.models import WorkerHeartbeat
from clinicflow.automation.worker import Worker
from clinicflow.core.models import RateLimitWindow

REFUSED = OperationalError('connection to server at "127.0.0.1", port 5432 failed: Connection refused\n'
                           "\tIs the server running on that host and accepting TCP/IP connections?")

# Transactional: after a database error the worker closes its connection, which would end the
# transaction an ordinary test runs in (PostgreSQL).
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def worker() -> Worker:
    return Worker(name="w-db", poll_seconds=2, max_wait_seconds=60)


def messages(caplog) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.name == "clinicflow.worker"]


def test_it_logs_one_line_when_the_database_goes_and_backs_off_to_a_minute(worker, db, caplog):
    caplog.set_level(logging.INFO, logger="clinicflow.worker")
    with mock.patch("clinicflow.automation.worker.work_once", side_effect=REFUSED):
        waits = [worker.step() for _ in range(8)]
    assert waits == [2, 4, 8, 16, 32, 60, 60, 60]
    assert messages(caplog) == [
        'database unreachable: OperationalError: connection to server at "127.0.0.1", port 5432 failed: '
        "Connection refused"]
    assert not any(record.exc_info for record in caplog.records)


def test_it_says_once_when_the_database_is_back_and_polls_normally_again(worker, db, caplog):
    caplog.set_level(logging.INFO, logger="clinicflow.worker")
    worker.next_periodic_check = float("inf")  # no chores due: every round finds nothing to do
    with mock.patch("clinicflow.automation.worker.work_once", side_effect=InterfaceError("connection already closed")):
        worker.step()
        worker.step()
    assert [worker.step(), worker.step()] == [2, 2]
    assert messages(caplog) == ["database unreachable: InterfaceError: connection already closed",
                                "database reachable again"]
    assert WorkerHeartbeat.objects.filter(name="w-db").exists()


def test_a_second_outage_is_logged_again_and_waits_from_the_start(worker, db, caplog):
    caplog.set_level(logging.INFO, logger="clinicflow.worker")
    with mock.patch("clinicflow.automation.worker.work_once", side_effect=REFUSED):
        worker.step()
        worker.step()
    worker.step()
    with mock.patch("clinicflow.automation.worker.work_once", side_effect=REFUSED):
        assert worker.step() == 2
    assert [m.split(":")[0] for m in messages(caplog)] == [
        "database unreachable", "database reachable again", "database unreachable"]


def test_other_errors_are_still_logged_with_their_traceback(worker, db, caplog):
    with mock.patch("clinicflow.automation.worker.work_once", side_effect=KeyError("bug")):
        assert worker.step() == 2
    assert caplog.records[-1].exc_info


def test_it_purges_old_rate_limit_windows_at_most_once_an_hour(worker, db):
    with mock.patch("clinicflow.automation.jobs.rate_limit_purge") as purge:
        worker.step()
        worker.step()
    assert purge.call_count == 1


def test_the_hourly_purge_deletes_windows_older_than_a_day(worker, db):
    now = timezone.now()
    RateLimitWindow.objects.create(key="old", window_start=now - timedelta(days=2))
    RateLimitWindow.objects.create(key="recent", window_start=now - timedelta(hours=1))
    worker.step()
    assert list(RateLimitWindow.objects.values_list("key", flat=True)) == ["recent"]


def test_a_worker_process_without_its_database_logs_no_tracebacks_and_stops_on_sigterm(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path}/no-such-folder/clinicflow.sqlite3"  # cannot be opened
    env["CLINICFLOW_DATA_DIR"] = str(tmp_path)
    worker = subprocess.Popen([sys.executable, "-m", "clinicflow.cli", "worker", "--poll", "0.05"],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    # Django's start-up takes seconds on a loaded machine: wait for the worker's first attempt, then let it poll.
    first_lines = ""
    while "database unreachable" not in first_lines and worker.poll() is None:
        first_lines += worker.stdout.readline()
    time.sleep(2)  # long enough for many polls at 0.05 s were every round logged
    worker.terminate()
    output, _ = worker.communicate(timeout=30)
    assert worker.returncode == 0, output
    output = first_lines + output
    assert output.count("database unreachable: OperationalError: unable to open database file") == 1, output
    assert "Traceback" not in output
    assert "stopped" in output
