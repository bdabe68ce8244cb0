"""Leases: renewed while a handler runs, set per job kind, and a lost one records nothing over the new owner."""

import logging
import threading
import time
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from clinicflow.automation.models import Job, JobAttempt
from clinicflow.automation.registry import handlers, job_handler, leases
from clinicflow.automation.services import job_plan
from clinicflow.automation.worker import Worker, claim_one, release, run_job, work_once

runs: list[str] = []


@pytest.fixture(autouse=True)
def slow_handlers():
    runs.clear()

    @job_handler("test.slow", lease_seconds=1)
    def slow(job):
        runs.append(job.locked_by)
        time.sleep(2.5)  # two and a half leases
        return "slow but done"

    @job_handler("test.taken-over", lease_seconds=1)
    def taken_over(job):
        # The worker froze past its lease and another worker took the job over meanwhile.
        Job.objects.filter(pk=job.pk).update(locked_by="w2", attempts=job.attempts + 1)
        time.sleep(0.8)  # the lease keeper's next renewal, at a third of the lease, finds it lost
        return "stale result"

    yield
    for kind in ("test.slow", "test.taken-over"):
        handlers.pop(kind)
        leases.pop(kind, None)


def plan(kind: str, key: str = "k1") -> Job:
    return job_plan(kind=kind, due_at=timezone.now() - timedelta(seconds=1), key=key)


@pytest.mark.django_db(transaction=True)
def test_a_handler_that_outlives_its_lease_runs_once_while_a_second_worker_polls():
    job = plan("test.slow")
    second = Worker(name="w2", poll_seconds=0.05, listen=False)
    second.next_periodic_check = float("inf")  # only the job under test
    polls = 0

    def poll():
        nonlocal polls
        try:
            while not second.stopping.is_set():
                second.wait(second.step())
                polls += 1
        finally:
            connection.close()

    def run_first():
        try:
            work_once("w1")
        finally:
            connection.close()

    first = threading.Thread(target=run_first)
    first.start()
    time.sleep(0.2)  # w1 has claimed it
    poller = threading.Thread(target=poll)
    poller.start()
    first.join(timeout=30)
    second.stop()
    poller.join(timeout=10)
    job.refresh_from_db()
    assert runs == ["w1"]
    assert (job.state, job.attempts, job.result) == (Job.State.DONE, 1, "slow but done")
    assert JobAttempt.objects.filter(job=job).count() == 1
    assert polls > 10  # w2 really was polling all along


@pytest.mark.django_db(transaction=True)
def test_a_worker_that_lost_its_lease_records_nothing_over_the_new_owners_run(caplog):
    caplog.set_level(logging.WARNING, logger="clinicflow.worker")
    job = plan("test.taken-over")
    run_job(claim_one("w1"), "w1")
    job.refresh_from_db()
    assert (job.state, job.locked_by, job.result) == (Job.State.RUNNING, "w2", "")
    assert "lease was lost to another worker" in JobAttempt.objects.get(job=job).error
    assert any("lease lost to another worker" in r.getMessage() for r in caplog.records)


@pytest.mark.django_db
def test_each_job_kind_may_set_its_lease(settings):
    settings.CLINICFLOW_JOB_LEASE_SECONDS = 300
    job_handler("test.quick-lease", lease_seconds=20)(lambda job: "")
    job_handler("test.default-lease")(lambda job: "")
    try:
        plan("test.quick-lease", "quick")
        plan("test.default-lease", "default")
        with time_machine.travel(timezone.now(), tick=False):
            quick, default = claim_one("w1"), claim_one("w1")
            assert quick.lease_expires_at == timezone.now() + timedelta(seconds=20)
            assert default.lease_expires_at == timezone.now() + timedelta(seconds=300)
    finally:
        for kind in ("test.quick-lease", "test.default-lease"):
            handlers.pop(kind)
            leases.pop(kind, None)


@pytest.mark.django_db
def test_jobs_claimed_but_not_started_are_handed_back_as_if_never_claimed():
    job = plan("test.slow")
    release([claim_one("w1")], "w1")
    job.refresh_from_db()
    assert (job.state, job.attempts, job.locked_by, job.lease_expires_at) == (Job.State.PENDING, 0, "", None)
    assert claim_one("w2").pk == job.pk
