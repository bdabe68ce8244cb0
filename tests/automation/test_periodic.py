"""Periodic jobs without cron: one job per slot however many workers plan it, re-planned after each run."""

from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest

from clinicflow.automation.models import Job
from clinicflow.automation.registry import handlers, job_handler, periodic, periodic_job
from clinicflow.automation.services import periodic_jobs_plan
from clinicflow.automation.worker import work_once

NOW = datetime(2026, 12, 1, 10, 7, tzinfo=UTC)
pytestmark = [pytest.mark.django_db, pytest.mark.time_machine(NOW, tick=False)]
runs: list[datetime] = []


@pytest.fixture(autouse=True)
def only_a_five_minute_poll():
    """The registry holds just the test's kind (the engine's own chores: test_purge.py)."""
    runs.clear()
    job_handler("test.poll")(lambda job: runs.append(job.due_at))
    with mock.patch.dict(periodic, clear=True):
        periodic_job("test.poll", every=timedelta(minutes=5))
        yield
    handlers.pop("test.poll")


def poll_jobs() -> list[tuple[str, datetime]]:
    return list(Job.objects.filter(kind="test.poll").order_by("due_at").values_list("state", "due_at"))


def test_the_current_slot_is_planned_once_however_many_workers_plan_it():
    for _ in range(3):
        periodic_jobs_plan()
    assert poll_jobs() == [(Job.State.PENDING, datetime(2026, 12, 1, 10, 5, tzinfo=UTC))]
    assert Job.objects.get(kind="test.poll").idempotency_key == "periodic:test.poll:2026-12-01T10:05:00Z"


def test_after_a_run_the_next_slot_waits(time_machine):
    periodic_jobs_plan()
    work_once("w1")
    assert runs == [datetime(2026, 12, 1, 10, 5, tzinfo=UTC)]
    assert poll_jobs() == [(Job.State.DONE, datetime(2026, 12, 1, 10, 5, tzinfo=UTC)),
                           (Job.State.PENDING, datetime(2026, 12, 1, 10, 10, tzinfo=UTC))]
    assert work_once("w1") == 0  # not before its time
    time_machine.shift(timedelta(minutes=3))
    periodic_jobs_plan()
    assert work_once("w1") == 1
    assert len(poll_jobs()) == 3


def test_the_slot_that_already_ran_is_not_planned_again_when_its_replan_was_lost():
    periodic_jobs_plan()
    work_once("w1")
    Job.objects.filter(state=Job.State.PENDING).delete()  # the worker died before re-planning
    periodic_jobs_plan()
    assert poll_jobs()[-1] == (Job.State.PENDING, datetime(2026, 12, 1, 10, 10, tzinfo=UTC))


def test_after_a_long_stop_it_catches_up_once_not_once_per_missed_slot(time_machine):
    periodic_jobs_plan()
    time_machine.shift(timedelta(hours=2))  # every worker was down
    periodic_jobs_plan()
    assert work_once("w1") == 1
    assert work_once("w1") == 0
    assert poll_jobs()[-1] == (Job.State.PENDING, datetime(2026, 12, 1, 12, 10, tzinfo=UTC))


def test_an_interval_must_be_positive():
    with pytest.raises(ValueError, match="positive interval"):
        periodic_job("test.never", every=timedelta(0))

