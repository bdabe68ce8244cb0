from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import Job


def job_plan(*, kind: str, due_at: datetime, key: str, payload: dict | None = None, patient_id: int | None = None,
             branch_id: int | None = None) -> Job:
    """Plan a job once per idempotency key. Planning the same key again moves a pending job's due time.

    `patient_id` and `branch_id` say whom the job is about, for the patient card and for retention.
    """
    job = Job.objects.filter(idempotency_key=key).first()
    if job is None:
        try:
            with transaction.atomic():
                return Job.objects.create(kind=kind, due_at=due_at, idempotency_key=key,
                                          payload=payload or {}, patient_id=patient_id,
                                          branch_id=branch_id)
        except IntegrityError:
            job = Job.objects.get(idempotency_key=key)
    if job.state == Job.State.PENDING and job.due_at != due_at:
        Job.objects.filter(pk=job.pk, state=Job.State.PENDING).update(due_at=due_at)
        job.refresh_from_db()
    return job


def job_cancel(*, key: str) -> bool:
    """Cancel a job that has not run yet. True if it was pending."""
    return bool(Job.objects.filter(idempotency_key=key, state=Job.State.PENDING)
                .update(state=Job.State.CANCELLED, finished_at=timezone.now()))
