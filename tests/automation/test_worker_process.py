"""The worker loop: stops cleanly, beats its heart, and never runs one job twice across workers."""

import os
import signal
import subprocess
import sys
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from clinicflow.automation.models import Job, JobAttempt, WorkerHeartbeat
from clinicflow.automation.registry import periodic
from clinicflow.automation.worker import Worker, work_once
from clinicflow.inbox.services import InquiryDraft, inquiry_receive
from clinicflow.tasks.models import Task

postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="needs DATABASE_URL=postgresql://…")


@pytest.mark.django_db(transaction=True)
def test_the_worker_stops_cleanly_on_sigterm_and_clears_its_heartbeat():
    worker = Worker(name="w-sig", poll_seconds=0.05)
    previous = signal.getsignal(signal.SIGTERM)
    try:
        worker.install_signal_handlers()
        thread = threading.Thread(target=worker.run_forever)
        thread.start()
        for _ in range(100):
            if WorkerHeartbeat.objects.filter(name="w-sig").exists():
                break
            threading.Event().wait(0.05)
        assert WorkerHeartbeat.objects.filter(name="w-sig").exists()
        os.kill(os.getpid(), signal.SIGTERM)
        thread.join(timeout=10)
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert not thread.is_alive()
    assert not WorkerHeartbeat.objects.filter(name="w-sig").exists()


def unanswered_inquiries(branch, count: int):
    long_ago = timezone.now() - timedelta(days=3)
    for n in range(count):
        inquiry_receive(draft=InquiryDraft(channel="web", phone=f"+7916{n:07d}", consent=True,
                                           branch_id=branch.pk, received_at=long_ago))


def assert_each_job_ran_once(count: int):
    # The engine's own periodic chores (planned by `--once` too) are not the subject here.
    escalations = Job.objects.exclude(kind__in=list(periodic))
    assert escalations.filter(state=Job.State.DONE).count() == count
    assert JobAttempt.objects.filter(job__in=escalations).count() == count
    assert set(escalations.values_list("attempts", flat=True)) == {1}
    assert Task.objects.filter(kind=Task.Kind.ESCALATION).count() == count


@postgres_only
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_four_worker_threads_on_postgresql_run_each_job_once(moscow):
    unanswered_inquiries(moscow, 120)

    def drain(name):
        try:
            while work_once(name):
                pass
        finally:
            connection.close()

    threads = [threading.Thread(target=drain, args=(f"t{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert_each_job_ran_once(120)
    assert JobAttempt.objects.values("worker").distinct().count() > 1


@postgres_only
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_worker_processes_on_postgresql_run_each_job_once(moscow):
    unanswered_inquiries(moscow, 150)
    db = connection.settings_dict
    env = {**os.environ, "DATABASE_URL": f"postgresql://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"}
    workers = [subprocess.Popen([sys.executable, "-m", "clinicflow.cli", "worker", "--once", "--name", f"p{n}"],
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for n in range(2)]
    outputs = [w.communicate(timeout=120) for w in workers]
    assert [w.returncode for w in workers] == [0, 0], outputs
    assert_each_job_ran_once(150)


@postgres_only
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_worker_running_its_batches_in_threads_runs_each_job_once(moscow, settings):
    settings.CLINICFLOW_JOB_THREADS = 4
    unanswered_inquiries(moscow, 60)
    while work_once("threads"):
        pass
    assert_each_job_ran_once(60)


@postgres_only
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_stopping_worker_hands_back_the_jobs_of_its_batch_that_its_threads_had_not_started(moscow, settings):
    settings.CLINICFLOW_JOB_THREADS = 4
    unanswered_inquiries(moscow, 10)
    stopping = threading.Event()
    stopping.set()
    assert work_once("threads", stopping=stopping) == 0
    assert not Job.objects.exclude(kind__in=list(periodic)).exclude(state=Job.State.PENDING).exists()
    assert set(Job.objects.exclude(kind__in=list(periodic)).values_list("attempts", flat=True)) == {0}
