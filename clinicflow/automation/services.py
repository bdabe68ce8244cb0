from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from .models import Job, JobAttempt
from .registry import periodic

# The PostgreSQL channel idle workers LISTEN on (see worker.JobListener).
NOTIFY_CHANNEL = "clinicflow_jobs"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
PURGE_BATCH = 2000


def job_plan(*, kind: str, due_at: datetime, key: str, payload: dict | None = None, patient_id: int | None = None,
             branch_id: int | None = None, new_key: bool = False) -> Job:
    """Plan a job once per idempotency key. Planning the same key again moves a pending job's due time.

    `patient_id` and `branch_id` say whom the job is about, for the patient card and for retention.
    A job due now wakes the idle workers when the caller's transaction commits (PostgreSQL).
    `new_key`: the key names a row the caller's transaction has just created (a new inquiry's escalation), so
    no job can have it yet: a plain INSERT, without the lookup and the savepoint.
    """
    job = None if new_key else Job.objects.filter(idempotency_key=key).first()
    if job is None:
        try:
            with transaction.atomic(savepoint=not new_key):
                job = Job.objects.create(kind=kind, due_at=due_at, idempotency_key=key,
                                         payload=payload or {}, patient_id=patient_id,
                                         branch_id=branch_id)
                jobs_wake(due_at=due_at)
                return job
        except IntegrityError:
            job = Job.objects.get(idempotency_key=key)
    if job.state == Job.State.PENDING and job.due_at != due_at:
        with transaction.atomic():
            if Job.objects.filter(pk=job.pk, state=Job.State.PENDING).update(due_at=due_at):
                jobs_wake(due_at=due_at)
        job.refresh_from_db()
    return job


def jobs_wake(*, due_at: datetime | None = None) -> None:
    """Wake the workers waiting on PostgreSQL's LISTEN, if a job is due now (or `due_at` is None).

    NOTIFY inside a transaction is delivered when it commits and dropped when it rolls back, and the same
    notification sent twice in one transaction is delivered once: a worker never wakes for a job it cannot
    see yet, and an import planning 500 jobs in one transaction wakes the workers once. On SQLite the
    workers poll.
    """
    if connection.vendor != "postgresql" or not settings.CLINICFLOW_JOB_NOTIFY:
        return
    if due_at is not None and due_at > timezone.now():
        return  # a worker's regular poll finds it in time
    with connection.cursor() as cursor:
        cursor.execute(f"NOTIFY {NOTIFY_CHANNEL}")


def job_cancel(*, key: str) -> bool:
    """Cancel a job that has not run yet. True if it was pending."""
    return bool(Job.objects.filter(idempotency_key=key, state=Job.State.PENDING)
                .update(state=Job.State.CANCELLED, finished_at=timezone.now()))


def job_purge(*, now: datetime | None = None) -> int:
    """Delete finished jobs, and their attempts, older than CLINICFLOW_JOB_RETENTION_DAYS (0: keep them).

    In batches, so that SQLite's one writer is never held for long. Returns how many jobs went.
    """
    days = settings.CLINICFLOW_JOB_RETENTION_DAYS
    if days <= 0:
        return 0
    cutoff = (now or timezone.now()) - timedelta(days=days)
    old = Job.objects.filter(state__in=Job.FINISHED_STATES).filter(
        Q(finished_at__lt=cutoff) | Q(finished_at__isnull=True, due_at__lt=cutoff))
    purged = 0
    while ids := list(old.order_by().values_list("pk", flat=True)[:PURGE_BATCH]):
        with transaction.atomic():
            JobAttempt.objects.filter(job_id__in=ids).delete()
            purged += Job.objects.filter(pk__in=ids).delete()[0]
    return purged


def periodic_slot(now: datetime, every: timedelta) -> datetime:
    """The start of the slot `now` falls in: slots of `every` counted from the Unix epoch, in UTC."""
    return EPOCH + every * ((now - EPOCH) // every)


def periodic_key(kind: str, slot: datetime) -> str:
    return f"periodic:{kind}:{slot.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}"


def periodic_jobs_plan(*, now: datetime | None = None) -> int:
    """Make sure each periodic kind has a job waiting: the current slot's, or the next one once that ran.

    The key names the slot, so any number of workers calling this at once plan each slot once. A kind
    with a job pending or running (maybe one overdue after a long stop) gets nothing more: it catches up
    once, not once per missed slot. Returns how many jobs were planned.
    """
    now = now or timezone.now()
    waiting = set(Job.objects.filter(kind__in=list(periodic), state__in=Job.UNFINISHED_STATES)
                  .values_list("kind", flat=True).distinct())
    idle = {kind: periodic_slot(now, every) for kind, every in periodic.items() if kind not in waiting}
    if not idle:
        return 0
    done = set(Job.objects.filter(idempotency_key__in=[periodic_key(k, slot) for k, slot in idle.items()])
               .values_list("idempotency_key", flat=True))
    for kind, slot in idle.items():
        if periodic_key(kind, slot) in done:
            slot += periodic[kind]
        job_plan(kind=kind, due_at=slot, key=periodic_key(kind, slot))
    return len(idle)


def periodic_job_replan(*, kind: str, now: datetime | None = None) -> None:
    """After a periodic job ran: plan its next slot (after now, so that a late run covers the missed ones)."""
    every = periodic.get(kind)
    if every is not None:
        slot = periodic_slot(now or timezone.now(), every) + every
        job_plan(kind=kind, due_at=slot, key=periodic_key(kind, slot))
