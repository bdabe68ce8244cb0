"""The job worker: claim due jobs safely, run them, record every attempt, retry with backoff.

Claiming, on SQLite, is a conditional UPDATE on the values just read (state, attempts, lease). Two workers
that read the same candidate both issue the UPDATE; the database lets only one match, the other sees a row
count of 0 and moves on. On PostgreSQL a worker claims a batch with SELECT … FOR UPDATE SKIP LOCKED in one
transaction: workers never wait on each other's rows, and a claim costs two statements for ten jobs.

A claimed job is leased. While its handler runs, a thread renews the lease every third of it, so a long job
is never taken over by another worker; a worker that dies stops renewing and its job is reclaimed when the
lease runs out. A worker that finds it lost the lease (it was frozen longer than the lease) records nothing
over the new owner's run.

On PostgreSQL a worker may run the jobs of a batch in CLINICFLOW_JOB_THREADS threads, each with its own
connection: a job that mostly waits for a provider's answer (a message) then does not hold up the others.

On PostgreSQL an idle worker LISTENs for the NOTIFY that planning a due job sends, so it starts the job at
once rather than at its next poll.
"""

import logging
import os
import selectors
import signal
import socket
import threading
import time
import traceback
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import wait as all_done
from contextlib import contextmanager
from datetime import datetime, timedelta

from django.conf import settings
from django.db import InterfaceError, OperationalError, close_old_connections, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from .models import Job, JobAttempt, WorkerHeartbeat
from .registry import handlers, leases, periodic
from .services import NOTIFY_CHANNEL, periodic_job_replan, periodic_jobs_plan
from .supervisor import Backoff

log = logging.getLogger("clinicflow.worker")

# What a lost database raises (refused, dropped, locked file): the worker waits these out quietly.
DATABASE_ERRORS = (OperationalError, InterfaceError)
# How often each worker makes sure the periodic jobs are planned (they re-plan themselves after each run;
# this catches a worker that died between a run and its re-plan, and a newly registered kind).
PERIODIC_CHECK_SECONDS = 60
# After LISTEN failed (e.g. a pgbouncer in transaction mode): poll, and try listening again this much later.
LISTEN_RETRY_SECONDS = 60


def default_worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident() % 10000}"


def lease_for(kind: str) -> timedelta:
    return timedelta(seconds=leases.get(kind, settings.CLINICFLOW_JOB_LEASE_SECONDS))


def claimable(now):
    due = Q(state=Job.State.PENDING, due_at__lte=now)
    stale = Q(state=Job.State.RUNNING, lease_expires_at__lt=now)  # its worker died mid-run
    return Job.objects.filter(due | stale)


def _give_up(job: Job, now: datetime):
    """What a stale job that was started max_attempts times becomes: failed, visibly."""
    # Its worker died on every attempt (a crash, an out-of-memory kill): stop.
    return {"state": Job.State.FAILED, "finished_at": now, "lease_expires_at": None,
            "last_error": f"the worker running it stopped {job.attempts} times (lease expired)"}


def claim_one(worker: str, now=None) -> Job | None:
    """Claim the next due job with a conditional UPDATE, or None. Works on every database."""
    now = now or timezone.now()
    for job in claimable(now).order_by("due_at", "id")[:10]:
        unchanged = Job.objects.filter(
            pk=job.pk, state=job.state, attempts=job.attempts, lease_expires_at=job.lease_expires_at)
        if job.attempts >= job.max_attempts:
            unchanged.update(**_give_up(job, now))
            continue
        won = unchanged.update(state=Job.State.RUNNING, attempts=F("attempts") + 1, locked_by=worker,
                               lease_expires_at=now + lease_for(job.kind))
        if won:
            job.refresh_from_db()
            return job
    return None


def claim_batch(worker: str, limit: int, now=None) -> list[Job]:
    """Claim up to `limit` due jobs at once with SELECT … FOR UPDATE SKIP LOCKED (PostgreSQL).

    Rows another worker is claiming are skipped, not waited for; the UPDATE needs no condition because
    the rows stay locked until this transaction commits.
    """
    now = now or timezone.now()
    claimed: list[Job] = []
    with transaction.atomic():
        rows = list(claimable(now).select_for_update(skip_locked=True).order_by("due_at", "id")[:limit])
        by_lease: dict[timedelta, list[int]] = {}
        for job in rows:
            if job.attempts >= job.max_attempts:
                Job.objects.filter(pk=job.pk).update(**_give_up(job, now))
                continue
            lease = lease_for(job.kind)
            by_lease.setdefault(lease, []).append(job.pk)
            job.state, job.attempts, job.locked_by = Job.State.RUNNING, job.attempts + 1, worker
            job.lease_expires_at = now + lease
            claimed.append(job)
        for lease, ids in by_lease.items():
            Job.objects.filter(pk__in=ids).update(state=Job.State.RUNNING, attempts=F("attempts") + 1,
                                                   locked_by=worker, lease_expires_at=now + lease)
    return claimed


def claim(worker: str, limit: int) -> list[Job]:
    """The next due jobs for `worker`: a batch on PostgreSQL, one at a time elsewhere."""
    batch = min(limit, settings.CLINICFLOW_JOB_CLAIM_BATCH)
    if connection.vendor == "postgresql" and batch > 1:
        return claim_batch(worker, batch)
    job = claim_one(worker)
    return [job] if job else []


def held_by(job: Job, worker: str):
    """The job's row while this very claim of it holds it (attempts tell a reclaim by the same name apart)."""
    return Job.objects.filter(pk=job.pk, state=Job.State.RUNNING, locked_by=worker, attempts=job.attempts)


def lease_renew(job: Job, worker: str) -> bool:
    """Push the job's lease forward; False when another worker has taken it over meanwhile."""
    return bool(held_by(job, worker).update(lease_expires_at=timezone.now() + lease_for(job.kind)))


def release(jobs: list[Job], worker: str) -> None:
    """Hand back jobs claimed but not started (the worker is stopping): as if never claimed."""
    for job in jobs:
        held_by(job, worker).update(state=Job.State.PENDING, attempts=F("attempts") - 1, locked_by="",
                                    lease_expires_at=None)


class LeaseKeeper:
    """A thread that renews a running job's lease every third of it, until the handler returns."""

    def __init__(self, job: Job, worker: str):
        self.job, self.worker = job, worker
        self.lost = threading.Event()
        self.done = threading.Event()
        self.every = lease_for(job.kind).total_seconds() / 3
        self.thread = threading.Thread(target=self._keep, name=f"lease-{job.pk}", daemon=True)

    def _keep(self) -> None:
        touched = False  # most jobs end before the first renewal: no connection is opened for them
        try:
            while not self.done.wait(self.every):
                touched = True
                try:
                    if not lease_renew(self.job, self.worker):
                        log.warning("job %s (%s): lease lost to another worker; this run's result will not "
                                    "be recorded", self.job.pk, self.job.kind)
                        self.lost.set()
                        return
                except DATABASE_ERRORS as exc:
                    # The lease still runs for two more thirds: try again at the next third.
                    log.warning("job %s: could not renew its lease: %s", self.job.pk, _first_line(exc))
        finally:
            if touched:
                connection.close()  # this thread's own connection

    @contextmanager
    def kept(self) -> Iterator["LeaseKeeper"]:
        self.thread.start()
        try:
            yield self
        finally:
            self.done.set()
            self.thread.join()


def run_job(job: Job, worker: str) -> None:
    attempt = JobAttempt.objects.create(job=job, worker=worker)
    try:
        handler = handlers.get(job.kind)
        if handler is None:
            raise LookupError(f"no handler registered for job kind {job.kind!r}")
        with LeaseKeeper(job, worker).kept() as lease:
            result = handler(job) or ""
    except Exception as exc:
        error = "".join(traceback.format_exception_only(exc)).strip()
        log.warning("job %s (%s) failed on attempt %s: %s", job.pk, job.kind, job.attempts, error)
        with transaction.atomic():
            JobAttempt.objects.filter(pk=attempt.pk).update(finished_at=timezone.now(),
                                                            error=traceback.format_exc()[-4000:])
            _after_failure(job, worker, error)
        return
    now = timezone.now()
    if lease.lost.is_set():
        JobAttempt.objects.filter(pk=attempt.pk).update(
            finished_at=now, error="the lease was lost to another worker; this run's result was not recorded")
        return
    # One commit for both rows (a commit is what a job costs most on PostgreSQL).
    with transaction.atomic():
        JobAttempt.objects.filter(pk=attempt.pk).update(finished_at=now)
        # Finish only if we still hold the lease: a reclaimed job belongs to the other worker now.
        finished = held_by(job, worker).update(state=Job.State.DONE, finished_at=now, lease_expires_at=None,
                                               result=str(result)[:255])
    if finished and job.kind in periodic:
        periodic_job_replan(kind=job.kind)


def _after_failure(job: Job, worker: str, error: str) -> None:
    mine = held_by(job, worker)
    if job.attempts >= job.max_attempts:
        if mine.update(state=Job.State.FAILED, last_error=error, finished_at=timezone.now(),
                       lease_expires_at=None) and job.kind in periodic:
            periodic_job_replan(kind=job.kind)
    else:
        mine.update(state=Job.State.PENDING, last_error=error, lease_expires_at=None,
                    due_at=timezone.now() + job.backoff())


def work_once(worker: str, limit: int = 50, stopping: threading.Event | None = None) -> int:
    """Run the jobs due now, up to `limit`. Returns how many ran. Tests call this, not the loop."""
    ran = 0
    while ran < limit and not (stopping and stopping.is_set()):
        jobs = claim(worker, limit - ran)
        if not jobs:
            break
        claimed_at = time.monotonic()
        if len(jobs) > 1 and job_threads() > 1:
            ran += _run_in_threads(jobs, worker, stopping, claimed_at)
            continue
        for job in jobs:
            ran += _run_claimed(job, worker, stopping, claimed_at)
    return ran


def _run_claimed(job: Job, worker: str, stopping: threading.Event | None, claimed_at: float) -> int:
    """Run one job of a claimed batch; 0 when it was handed back (stopping) or taken over meanwhile."""
    if stopping and stopping.is_set():
        release([job], worker)
        return 0
    # A job that waited behind slow ones of its batch may have been taken over meanwhile.
    waited = time.monotonic() - claimed_at
    if waited > lease_for(job.kind).total_seconds() / 3 and not lease_renew(job, worker):
        return 0
    run_job(job, worker)
    return 1


def job_threads() -> int:
    """Jobs one worker runs at once: CLINICFLOW_JOB_THREADS on PostgreSQL; one on SQLite (a single writer)."""
    return max(1, settings.CLINICFLOW_JOB_THREADS) if connection.vendor == "postgresql" else 1


_executors: dict[int, ThreadPoolExecutor] = {}  # by size: one pool per process, made on first use


def _run_in_threads(jobs: list[Job], worker: str, stopping: threading.Event | None, claimed_at: float) -> int:
    size = job_threads()
    if size not in _executors:
        _executors[size] = ThreadPoolExecutor(max_workers=size, thread_name_prefix="job")

    def run(job: Job) -> int:
        # Each thread has its own connection, kept between jobs; checked as a request would check it.
        close_old_connections()
        try:
            return _run_claimed(job, worker, stopping, claimed_at)
        finally:
            close_old_connections()

    futures = [_executors[size].submit(run, job) for job in jobs]
    all_done(futures)  # every job of the batch ends (or is handed back) before an error is raised
    return sum(future.result() for future in futures)


class JobListener:
    """PostgreSQL only: a connection of its own that LISTENs for "a job is due now" (services.jobs_wake).

    Django's connection cannot listen: it is closed and reopened between rounds. Notifications that come
    while the worker is busy wait on this connection, so none is missed between a round and the next wait.
    """

    def __init__(self):
        self.conn = None

    def open(self) -> None:
        import psycopg

        params = connection.get_connection_params()
        for django_only in ("cursor_factory", "context", "prepare_threshold"):
            params.pop(django_only, None)
        self.conn = psycopg.connect(**params, autocommit=True)
        self.conn.execute(f"LISTEN {NOTIFY_CHANNEL}")

    def wait(self, seconds: float, stopping: threading.Event) -> None:
        """Return after `seconds`, on a notification, or soon after `stopping` is set."""
        deadline = time.monotonic() + seconds
        with selectors.DefaultSelector() as selector:
            selector.register(self.conn.fileno(), selectors.EVENT_READ)
            while not stopping.is_set() and (left := deadline - time.monotonic()) > 0:
                # In short slices, so that SIGTERM (which sets `stopping`) is acted on within a quarter second.
                if selector.select(min(left, 0.25)) and self._drain():
                    return

    def _drain(self) -> bool:
        """Read every notification that arrived; True if there was one."""
        return bool(list(self.conn.notifies(timeout=0)))

    def close(self) -> None:
        if self.conn is not None:
            try:
                self.conn.close()
            finally:
                self.conn = None


class Worker:
    def __init__(self, name: str | None = None, poll_seconds: float = 2.0, max_wait_seconds: float = 60.0,
                 listen: bool | None = None):
        self.name = name or default_worker_name()
        self.poll_seconds = poll_seconds
        self.stopping = threading.Event()
        # Without the database there is nothing to do: wait longer each round instead of logging every poll.
        self.database_backoff = Backoff(first=poll_seconds, ceiling=max_wait_seconds)
        self.database_down = False
        self.next_periodic_check = 0.0
        self.listen = settings.CLINICFLOW_JOB_NOTIFY if listen is None else listen
        self.listener: JobListener | None = None
        self.listen_retry_at = 0.0

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

    def plan_periodic(self) -> None:
        """Once a minute: each periodic kind (the daily purge, …) has its job waiting."""
        if time.monotonic() < self.next_periodic_check:
            return
        periodic_jobs_plan()
        self.next_periodic_check = time.monotonic() + PERIODIC_CHECK_SECONDS

    def step(self) -> float:
        """One round: plan periodic jobs, run what is due, beat. Returns the seconds to wait for the next."""
        close_old_connections()
        try:
            self.plan_periodic()
            ran = work_once(self.name, stopping=self.stopping)
            self.beat(ran)
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

    def wait(self, seconds: float) -> None:
        """Sleep until the next round; on PostgreSQL, wake early when a job is planned due now."""
        listening = self.listen and time.monotonic() >= self.listen_retry_at
        if listening and not self.database_down and connection.vendor == "postgresql":
            self.listener = self.listener or JobListener()
            try:
                if self.listener.conn is None:
                    self.listener.open()
                    return  # listening from now on; one more round finds what was planned just before
                self.listener.wait(seconds, self.stopping)
                return
            except Exception as exc:  # psycopg's own errors: the listening connection broke
                log.warning("listening for new jobs failed (%s: %s); polling, and trying again in a minute",
                            type(exc).__name__, _first_line(exc))
                self.listener.close()
                self.listen_retry_at = time.monotonic() + LISTEN_RETRY_SECONDS
        self.stopping.wait(seconds)

    def _database_lost(self, exc: Exception) -> float:
        # Logged once per outage, not once per poll: a traceback every 2 s buries everything else.
        if not self.database_down:
            log.error("database unreachable: %s: %s", type(exc).__name__, _first_line(exc))
            self.database_down = True
        _forget_connection()
        if self.listener:
            self.listener.close()
        return self.database_backoff.next_wait()

    def run_forever(self) -> None:
        log.info("worker %s started", self.name)
        try:
            while not self.stopping.is_set():
                wait = self.step()
                if wait:
                    self.wait(wait)
        finally:
            if self.listener:
                self.listener.close()
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
