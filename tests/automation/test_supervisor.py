"""The embedded worker's supervisor: a worker that dies is logged once and started again, ever more slowly."""

import logging
import sys
import threading
import time

import pytest

from clinicflow.automation import supervisor as supervisor_module
from clinicflow.automation.supervisor import Backoff, WorkerSupervisor

CRASH = [sys.executable, "-c", "import sys; sys.exit(3)"]
SLEEP = [sys.executable, "-c", "import time; time.sleep(60)"]


def wait_until(condition, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


@pytest.fixture
def supervise():
    started = []

    def supervise(command, **options) -> WorkerSupervisor:
        supervisor = WorkerSupervisor(command, **options)
        supervisor.start()
        started.append(supervisor)
        return supervisor

    yield supervise
    for supervisor in started:
        supervisor.stop(timeout=5)


class TestBackoff:
    def test_it_doubles_up_to_the_ceiling(self):
        backoff = Backoff(first=1, ceiling=60)
        assert [backoff.next_wait() for _ in range(8)] == [1, 2, 4, 8, 16, 32, 60, 60]

    def test_a_reset_starts_small_again(self):
        backoff = Backoff(first=1, ceiling=60)
        for _ in range(4):
            backoff.next_wait()
        backoff.reset()
        assert backoff.next_wait() == 1


def test_a_worker_that_dies_is_started_again_and_each_death_is_logged_once(supervise, caplog):
    caplog.set_level(logging.ERROR, logger="clinicflow.supervisor")
    supervisor = supervise(CRASH, first_wait=0.01, max_wait=0.02)
    assert wait_until(lambda: supervisor.restarts >= 3)
    supervisor.stop(timeout=5)
    deaths = [r.getMessage() for r in caplog.records if "exited unexpectedly" in r.getMessage()]
    assert len(deaths) == supervisor.restarts
    assert "with code 3; restart 1 in" in deaths[0]
    assert "restart 2 in" in deaths[1]
    assert supervisor.last_exit_code == 3


def test_the_wait_before_a_restart_grows(supervise, caplog):
    caplog.set_level(logging.ERROR, logger="clinicflow.supervisor")
    supervisor = supervise(CRASH, first_wait=0.05, max_wait=0.2, stable_after=60)
    assert wait_until(lambda: supervisor.restarts >= 4)
    supervisor.stop(timeout=5)
    assert supervisor.backoff.current == 0.2  # 0.05, 0.1, 0.2, then the ceiling


def test_a_worker_that_stayed_up_a_while_restarts_after_the_first_wait_again(supervise):
    supervisor = supervise(CRASH, first_wait=0.01, max_wait=30, stable_after=0)
    assert wait_until(lambda: supervisor.restarts >= 3)
    supervisor.stop(timeout=5)
    assert supervisor.backoff.current == 0.02  # reset before each wait: never grew past the first doubling


def test_the_status_counts_restarts_and_says_when_the_last_one_was(supervise):
    assert WorkerSupervisor(CRASH).status() == {"supervised": True, "restarts": 0, "last_restart_at": None,
                                                 "last_exit_code": None}
    supervisor = supervise(CRASH, first_wait=0.01, max_wait=0.01)
    assert wait_until(lambda: supervisor.restarts >= 2 and supervisor.last_restart_at is not None)
    status = supervisor.status()
    assert status["supervised"] is True
    assert status["restarts"] >= 2
    assert status["last_restart_at"].endswith("+00:00")


def test_stop_ends_a_running_worker_and_does_not_restart_it(supervise, caplog):
    caplog.set_level(logging.ERROR, logger="clinicflow.supervisor")
    supervisor = supervise(SLEEP, first_wait=0.01)
    assert wait_until(lambda: supervisor.process is not None)
    process = supervisor.process
    supervisor.stop(timeout=5)
    assert process.poll() is not None
    assert supervisor.restarts == 0
    assert not any("exited unexpectedly" in r.getMessage() for r in caplog.records)


def test_stop_during_the_wait_before_a_restart_starts_nothing_new(supervise):
    supervisor = supervise(CRASH, first_wait=30)
    assert wait_until(lambda: supervisor.restarts == 1)
    process = supervisor.process
    stopper = threading.Thread(target=supervisor.stop)
    stopper.start()
    stopper.join(timeout=5)
    assert not stopper.is_alive()
    assert supervisor.process is process


def test_healthz_reports_the_embedded_workers_restarts(client, db, supervise, monkeypatch):
    supervisor = supervise(CRASH, first_wait=0.01, max_wait=0.01)
    monkeypatch.setattr(supervisor_module, "_embedded", supervisor)
    assert wait_until(lambda: supervisor.restarts >= 1 and supervisor.last_restart_at is not None)
    worker = client.get("/healthz").json()["worker"]
    assert worker["supervised"] is True
    assert worker["restarts"] >= 1
    assert worker["last_restart_at"]
    assert worker["last_exit_code"] == 3


def test_healthz_says_nothing_of_restarts_without_an_embedded_worker(client, db, monkeypatch):
    monkeypatch.setattr(supervisor_module, "_embedded", None)
    assert "restarts" not in client.get("/healthz").json()["worker"]
