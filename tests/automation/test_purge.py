"""Finished jobs and their attempts are deleted after the retention period; nothing unfinished ever is."""

from datetime import UTC, datetime, timedelta

import pytest

from clinicflow.automation.jobs import PURGE_JOBS
from clinicflow.automation.models import Job, JobAttempt
from clinicflow.automation.services import job_purge
from clinicflow.automation.worker import Worker

NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
pytestmark = [pytest.mark.django_db, pytest.mark.time_machine(NOW, tick=False)]


def job(key: str, state: str, *, finished_days_ago: float | None, due_days_ago: float = 40) -> Job:
    finished = NOW - timedelta(days=finished_days_ago) if finished_days_ago is not None else None
    made = Job.objects.create(kind="x", idempotency_key=key, state=state, finished_at=finished,
                              due_at=NOW - timedelta(days=due_days_ago))
    JobAttempt.objects.create(job=made, worker="w1")
    return made


def keys() -> set[str]:
    return set(Job.objects.values_list("idempotency_key", flat=True))


def test_finished_jobs_past_the_retention_go_with_their_attempts(settings):
    settings.CLINICFLOW_JOB_RETENTION_DAYS = 30
    for state in (Job.State.DONE, Job.State.FAILED, Job.State.CANCELLED):
        job(f"old-{state}", state, finished_days_ago=31)
        job(f"recent-{state}", state, finished_days_ago=29)
    assert job_purge() == 3
    assert keys() == {"recent-done", "recent-failed", "recent-cancelled"}
    assert JobAttempt.objects.count() == 3


def test_unfinished_jobs_are_never_purged_however_old(settings):
    settings.CLINICFLOW_JOB_RETENTION_DAYS = 30
    job("pending", Job.State.PENDING, finished_days_ago=None, due_days_ago=400)
    job("running", Job.State.RUNNING, finished_days_ago=None, due_days_ago=400)
    assert job_purge() == 0
    assert keys() == {"pending", "running"}


def test_a_finished_job_without_a_finish_time_goes_by_its_due_time(settings):
    settings.CLINICFLOW_JOB_RETENTION_DAYS = 30
    job("old", Job.State.DONE, finished_days_ago=None, due_days_ago=31)
    job("recent", Job.State.DONE, finished_days_ago=None, due_days_ago=2)
    job_purge()
    assert keys() == {"recent"}


def test_a_retention_of_zero_keeps_everything(settings):
    settings.CLINICFLOW_JOB_RETENTION_DAYS = 0
    job("ancient", Job.State.DONE, finished_days_ago=3000)
    assert job_purge() == 0
    assert keys() == {"ancient"}


def test_it_deletes_in_batches(settings, monkeypatch):
    settings.CLINICFLOW_JOB_RETENTION_DAYS = 30
    monkeypatch.setattr("clinicflow.automation.services.PURGE_BATCH", 2)
    for n in range(5):
        job(f"old-{n}", Job.State.DONE, finished_days_ago=60)
    assert job_purge() == 5
    assert not Job.objects.exists() and not JobAttempt.objects.exists()


# Transactional: a worker round starts by closing stale connections, which ends an ordinary test's transaction.
@pytest.mark.django_db(transaction=True)
def test_the_worker_plans_and_runs_the_engines_daily_purge():
    Worker(name="w1", listen=False).step()
    purge = Job.objects.get(kind=PURGE_JOBS, state=Job.State.DONE)
    assert (purge.due_at, purge.result) == (datetime(2026, 12, 1, tzinfo=UTC), "deleted 0 job(s)")
    assert Job.objects.filter(kind=PURGE_JOBS, state=Job.State.PENDING,
                              due_at=datetime(2026, 12, 2, tzinfo=UTC)).exists()
