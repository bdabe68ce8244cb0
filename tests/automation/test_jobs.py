"""Jobs: planned once, claimed once, retried with backoff, failed visibly, reclaimed after a crash."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from clinicflow.automation.models import Job, JobAttempt
from clinicflow.automation.registry import handlers, job_handler
from clinicflow.automation.services import job_cancel, job_plan
from clinicflow.automation.worker import claim_one, run_job, work_once

pytestmark = pytest.mark.django_db
runs: list[int] = []


@pytest.fixture(autouse=True)
def test_handlers():
    runs.clear()

    @job_handler("test.record")
    def record(job):
        runs.append(job.pk)
        return "recorded"

    @job_handler("test.explode")
    def explode(job):
        raise RuntimeError("SMS gateway said 502")

    yield
    handlers.pop("test.record")
    handlers.pop("test.explode")


def plan(key="k1", kind="test.record", due_in=timedelta(seconds=-1)) -> Job:
    return job_plan(kind=kind, due_at=timezone.now() + due_in, key=key)


def test_planning_the_same_key_twice_is_one_job():
    first, second = plan(), plan()
    assert first.pk == second.pk
    assert Job.objects.count() == 1


def test_planning_again_moves_a_pending_job():
    plan(due_in=timedelta(hours=1))
    moved = plan(due_in=timedelta(hours=2))
    assert moved.due_at > timezone.now() + timedelta(minutes=90)


def test_planning_again_does_not_revive_a_finished_job():
    job = plan()
    work_once("w1")
    again = plan(due_in=timedelta(hours=3))
    assert again.pk == job.pk and again.state == Job.State.DONE
    assert work_once("w1") == 0


def test_it_runs_only_due_jobs():
    plan("now")
    plan("later", due_in=timedelta(minutes=5))
    assert work_once("w1") == 1
    assert Job.objects.get(idempotency_key="later").state == Job.State.PENDING


def test_a_done_job_records_its_attempt_and_result():
    job = plan()
    work_once("w1")
    job.refresh_from_db()
    assert (job.state, job.attempts, job.result, job.lease_expires_at) == (Job.State.DONE, 1, "recorded", None)
    attempt = JobAttempt.objects.get(job=job)
    assert attempt.worker == "w1" and attempt.finished_at and attempt.error == ""


def test_a_cancelled_job_never_runs():
    plan()
    assert job_cancel(key="k1")
    assert work_once("w1") == 0
    assert runs == []
    assert not job_cancel(key="k1")  # already cancelled


def test_a_job_is_claimed_by_one_worker_only():
    job = plan()
    stale_read = Job.objects.get(pk=job.pk)
    assert claim_one("w1").pk == job.pk
    # Worker w2 read the row before w1 claimed it; its conditional UPDATE matches nothing.
    won = Job.objects.filter(pk=stale_read.pk, state=stale_read.state, attempts=stale_read.attempts,
                             lease_expires_at=stale_read.lease_expires_at).update(locked_by="w2")
    assert won == 0
    assert claim_one("w2") is None


def test_a_failing_job_is_retried_with_growing_backoff():
    job = plan(kind="test.explode")
    with time_machine.travel(timezone.now(), tick=False) as clock:
        work_once("w1")
        job.refresh_from_db()
        assert (job.state, job.attempts) == (Job.State.PENDING, 1)
        assert "SMS gateway said 502" in job.last_error
        assert job.due_at == timezone.now() + timedelta(seconds=30)
        assert work_once("w1") == 0  # not before the backoff
        clock.shift(timedelta(seconds=31))
        work_once("w1")
        job.refresh_from_db()
        assert job.due_at == timezone.now() + timedelta(minutes=2)
    assert JobAttempt.objects.filter(job=job).exclude(error="").count() == 2


def test_a_job_that_keeps_failing_ends_visibly_failed():
    job = plan(kind="test.explode")
    Job.objects.filter(pk=job.pk).update(max_attempts=2)
    with time_machine.travel(timezone.now(), tick=False) as clock:
        for _ in range(3):
            work_once("w1")
            clock.shift(timedelta(hours=1))
    job.refresh_from_db()
    assert (job.state, job.attempts) == (Job.State.FAILED, 2)
    assert job.finished_at is not None


def test_an_unknown_kind_fails_with_a_clear_error():
    job = plan(kind="test.nobody-handles-this")
    work_once("w1")
    job.refresh_from_db()
    assert "no handler registered for job kind 'test.nobody-handles-this'" in job.last_error


def test_a_crashed_workers_job_is_reclaimed_after_its_lease(settings):
    settings.CLINICFLOW_JOB_LEASE_SECONDS = 60
    job = plan()
    with time_machine.travel(timezone.now(), tick=False) as clock:
        crashed = claim_one("w1")  # w1 dies here without finishing
        assert claim_one("w2") is None  # the lease still holds
        clock.shift(timedelta(seconds=61))
        reclaimed = claim_one("w2")
        assert reclaimed.pk == crashed.pk and reclaimed.locked_by == "w2" and reclaimed.attempts == 2
        run_job(reclaimed, "w2")
    job.refresh_from_db()
    assert job.state == Job.State.DONE
    assert runs == [job.pk]


def test_a_late_finish_by_the_old_worker_does_not_override_the_new_owner(settings):
    settings.CLINICFLOW_JOB_LEASE_SECONDS = 60
    job = plan(kind="test.explode")
    with time_machine.travel(timezone.now(), tick=False) as clock:
        slow = claim_one("w1")
        clock.shift(timedelta(seconds=61))
        claim_one("w2")
        run_job(slow, "w1")  # w1 wakes up and fails: it no longer holds the lease
    job.refresh_from_db()
    assert (job.state, job.locked_by) == (Job.State.RUNNING, "w2")


def test_a_job_that_keeps_killing_its_worker_ends_failed(settings):
    settings.CLINICFLOW_JOB_LEASE_SECONDS = 60
    job = plan()
    Job.objects.filter(pk=job.pk).update(max_attempts=2)
    with time_machine.travel(timezone.now(), tick=False) as clock:
        for worker in ("w1", "w2"):
            assert claim_one(worker) is not None  # ...and the worker dies
            clock.shift(timedelta(seconds=61))
        assert claim_one("w3") is None
    job.refresh_from_db()
    assert job.state == Job.State.FAILED
    assert "stopped 2 times (lease expired)" in job.last_error


def test_a_stopping_worker_takes_no_further_job():
    import threading

    plan("a")
    plan("b")
    stopping = threading.Event()
    stopping.set()
    assert work_once("w1", stopping=stopping) == 0
