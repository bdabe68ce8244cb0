"""PostgreSQL: idle workers wake on NOTIFY, so a job planned due now starts at once, not at the next poll."""

import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from clinicflow.automation.models import Job, JobAttempt, WorkerHeartbeat
from clinicflow.automation.registry import handlers, job_handler
from clinicflow.automation.services import job_plan
from clinicflow.automation.worker import Worker
from clinicflow.inbox.services import ESCALATE_JOB, InquiryDraft, inquiry_receive
from clinicflow.tasks.models import Task

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs DATABASE_URL=postgresql://…"),
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]
started: dict[int, float] = {}


def wait_until(condition, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


@pytest.fixture
def listening_worker():
    """A worker thread that would poll only every 30 s: any quick start is NOTIFY's doing."""
    job_handler("test.stamp")(lambda job: started.setdefault(job.pk, time.monotonic()))
    worker = Worker(name="w-listen", poll_seconds=30)
    worker.next_periodic_check = float("inf")

    def run():
        try:
            worker.run_forever()
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    assert wait_until(lambda: worker.listener is not None and worker.listener.conn is not None
                      and WorkerHeartbeat.objects.filter(name="w-listen").exists())
    time.sleep(0.3)  # past the round that follows opening the listener: the worker now waits
    yield worker
    worker.stop()
    thread.join(timeout=10)
    handlers.pop("test.stamp")
    assert not thread.is_alive()


def test_a_job_planned_due_now_starts_within_100_ms(listening_worker):
    latencies = []
    for n in range(5):
        planned = time.monotonic()
        job = job_plan(kind="test.stamp", due_at=timezone.now(), key=f"now-{n}")
        assert wait_until(lambda pk=job.pk: pk in started, timeout=10)
        latencies.append(started[job.pk] - planned)
        time.sleep(0.1)
    assert statistics.median(latencies) < 0.1, latencies
    assert max(latencies) < 1, latencies  # the poll interval is 30 s


def test_a_job_planned_for_later_does_not_wake_the_workers(listening_worker):
    job = job_plan(kind="test.stamp", due_at=timezone.now() + timedelta(minutes=5), key="later")
    time.sleep(0.5)
    assert job.pk not in started
    assert Job.objects.get(pk=job.pk).state == Job.State.PENDING


def test_two_running_worker_processes_woken_by_notify_run_each_job_once(moscow):
    db = connection.settings_dict
    env = {**os.environ, "DATABASE_URL": f"postgresql://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"}
    workers = [subprocess.Popen([sys.executable, "-m", "clinicflow.cli", "worker", "--poll", "30", "--name", f"p{n}"],
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
               for n in range(2)]
    try:
        assert wait_until(lambda: WorkerHeartbeat.objects.count() == 2)
        time.sleep(0.5)  # both past their first round, waiting on LISTEN
        long_ago = timezone.now() - timedelta(days=3)
        for n in range(100):  # each plans an escalation already overdue: due now
            inquiry_receive(draft=InquiryDraft(channel="web", phone=f"+7916{n:07d}", consent=True,
                                               branch_id=moscow.pk, received_at=long_ago))
        assert wait_until(lambda: Task.objects.filter(kind=Task.Kind.ESCALATION).count() >= 100, timeout=20)
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        outputs = [worker.communicate(timeout=30)[0] for worker in workers]
    assert [w.returncode for w in workers] == [0, 0], outputs
    escalations = Job.objects.filter(kind=ESCALATE_JOB)
    assert escalations.filter(state=Job.State.DONE).count() == 100
    assert set(escalations.values_list("attempts", flat=True)) == {1}
    assert JobAttempt.objects.filter(job__in=escalations).count() == 100
    assert Task.objects.filter(kind=Task.Kind.ESCALATION).count() == 100


def test_a_worker_that_cannot_listen_polls_and_says_so_once(monkeypatch, caplog):
    import psycopg

    def refuse(self):
        raise psycopg.OperationalError("LISTEN is not supported in transaction pooling mode")

    monkeypatch.setattr("clinicflow.automation.worker.JobListener.open", refuse)
    worker = Worker(name="w-pooled", poll_seconds=0.01)
    for _ in range(3):
        worker.wait(0.01)
    warnings = [r.getMessage() for r in caplog.records if "listening for new jobs failed" in r.getMessage()]
    assert warnings == ["listening for new jobs failed (OperationalError: LISTEN is not supported in transaction "
                        "pooling mode); polling, and trying again in a minute"]
