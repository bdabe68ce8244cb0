"""The job worker: claim due jobs safely, run them, record every attempt, retry with backoff.

Claiming is a conditional UPDATE on the values just read (state, attempts, lease). Two workers that
read the same candidate both issue the UPDATE; the database lets only one match, the other sees a row
count of 0 and moves on. That holds on SQLite and PostgreSQL and for any number of processes.
"""

import logging
import os
import signal
import socket
import threading
import time
import traceback
from datetime import timedelta

from django.conf import settings
from django.db import InterfaceError, OperationalError, close_old_connections, connection
from django.db.models import F, Q
from django.utils import timezone

from clinicflow.core.ratelimit import rate_limit_purge

from .models import Job, JobAttempt, WorkerHeartbeat
from .registry import handlers
from .supervisor import Backoff

log = logging.getLogger("clinicflow.worker")

# What a lost database raises (refused, dropped, locked file): the worker waits these out quietly.
DATABASE_ERRORS = (OperationalError, InterfaceError)
TIDY_UP_SECONDS = 3600


def default_worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident() % 10000}"


def claimable(now):
    due = Q(state=Job.State.PENDING, due_at__lte=now)
    stale = Q(state=Job.State.RUNNING, lease_expires_at__lt=now)  # its worker died mid-run
    return Job.objects.filter(due | stale)


def claim_one(worker: str, now=None) -> Job | None:
    """Claim the next due job, or None. Handlers must finish within the lease, or the job runs again."""
    now = now or timezone.now()
    lease = timedelta(seconds=settings.CLINICFLOW_JOB_LEASE_SECONDS)
    for job in claimable(now).order_by("due_at", "id")[:10]:
        unchanged = Job.objects.filter(
            pk=job.pk, state=job.state, attempts=job.attempts, lease_expires_at=job.lease_expires_at)
        if job.attempts >= job.max_attempts:
            # Its worker died on every attempt (a crash, an out-of-memory kill): stop, visibly.
            unchanged.update(state=Job.State.FAILED, finished_at=now, lease_expires_at=None,
                             last_error=f"the worker running it stopped {job.attempts} times (lease expired)")
            continue
        won = unchanged.update(state=Job.State.RUNNING, attempts=F("attempts") + 1, locked_by=worker,
                               lease_expires_at=now + lease)
        if won:
            job.refresh_from_db()
            return job
    return None


def run_job(job: Job, worker: str) -> None:
    attempt = JobAttempt.objects.create(job=job, worker=worker)
    try:
        handler = handlers.get(job.kind)
        if handler is None:
            raise LookupError(f"no handler registered for job kind {job.kind!r}")
        result = handler(job) or ""
    except Exception as exc:
        error = "".join(traceback.format_exception_only(exc)).strip()
        log.warning("job %s (%s) failed on attempt %s: %s", job.pk, job.kind, job.attempts, error)
        JobAttempt.objects.filter(pk=attempt.pk).update(finished_at=timezone.now(),
                                                        error=traceback.format_exc()[-4000:])
        _after_failure(job, worker, error)
        return
    now = timezone.now()
    JobAttempt.objects.filter(pk=attempt.pk).update(finished_at=now)
    # Finish only if we still hold the lease: a reclaimed job belongs to the other worker now.
    Job.objects.filter(pk=job.pk, state=Job.State.RUNNING, locked_by=worker).update(
        state=Job.State.DONE, finished_at=now, lease_expires_at=None, result=str(result)[:255])


def _after_failure(job: Job, worker: str, error: str) -> None:
    mine = Job.objects.filter(pk=job.pk, state=Job.State.RUNNING, locked_by=worker)
    if job.attempts >= job.max_attempts:
        mine.update(state=Job.State.FAILED, last_error=error, finished_at=timezone.now(), lease_expires_at=None)
    else:
        mine.update(state=Job.State.PENDING, last_error=error, lease_expires_at=None,
                    due_at=timezone.now() + job.backoff())


def work_once(worker: str, limit: int = 50, stopping: threading.Event | None = None) -> int:
    """Run the jobs due now, up to `limit`. Returns how many ran. Tests call this, not the loop."""
    ran = 0
    while ran < limit and not (stopping and stopping.is_set()):
        job = claim_one(worker)
        if job is None:
            break
        run_job(job, worker)
        ran += 1
    return ran


class Worker:
    def __init__(self, name: str | None = None, poll_seconds: float = 2.0, max_wait_seconds: float = 60.0):
        self.name = name or default_worker_name()
        self.poll_seconds = poll_seconds
        self.stopping = threading.Event()
        # Without the database there is nothing to do: wait longer each round instead of logging every poll.
        self.database_backoff = Backoff(first=poll_seconds, ceiling=max_wait_seconds)
        self.database_down = False
        self.next_tidy_up = 0.0

    def install_signal_handlers(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: self.stop())

    def stop(self) -> None:
        log.info("worker %s stopping after the current job", self.name)
        self.stopping.set()

    def beat(self, ran: int) -> None:
        WorkerHeartbeat.objects.update_or_create(
            name=self.name, defaults={"last_seen_at": timezone.now()})
        if ran:
            WorkerHeartbeat.objects.filter(name=self.name).update(jobs_done=F("jobs_done") + ran)

    def tidy_up(self) -> None:
        """Chores no web request should pay for, once an hour: forget old rate-limit windows."""
        if time.monotonic() < self.next_tidy_up:
            return
        rate_limit_purge()
        self.next_tidy_up = time.monotonic() + TIDY_UP_SECONDS

    def step(self) -> float:
        """One round: run what is due, beat, tidy up. Returns the seconds to wait before the next round."""
        close_old_connections()
        try:
            ran = work_once(self.name, stopping=self.stopping)
            self.beat(ran)
            self.tidy_up()
        except DATABASE_ERRORS as exc:
            return self._database_lost(exc)
        except Exception:
            # A bug in one round must not kill the worker; it tries again next round.
            log.exception("worker round failed")
            return self.poll_seconds
        if self.database_down:
            log.warning("database reachable again")
            self.database_down = False
        self.database_backoff.reset()
        return 0 if ran else self.poll_seconds

    def _database_lost(self, exc: Exception) -> float:
        # Logged once per outage, not once per poll: a traceback every 2 s buries everything else.
        if not self.database_down:
            log.error("database unreachable: %s: %s", type(exc).__name__, _first_line(exc))
            self.database_down = True
        _forget_connection()
        return self.database_backoff.next_wait()

    def run_forever(self) -> None:
        log.info("worker %s started", self.name)
        while not self.stopping.is_set():
            wait = self.step()
            if wait:
                self.stopping.wait(wait)
        try:
            WorkerHeartbeat.objects.filter(name=self.name).delete()
        except DATABASE_ERRORS:
            pass  # the heartbeat goes stale on its own; /healthz counts only fresh ones
        log.info("worker %s stopped", self.name)


def _first_line(exc: Exception) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else ""


def _forget_connection() -> None:
    """Drop the broken connection so the next round opens a new one."""
    try:
        connection.close()
    except DATABASE_ERRORS:
        pass  # closing a dead connection may fail too; it is gone either way
