from datetime import timedelta

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Job(models.Model):
    """A durable piece of work due at a time: a reminder, an escalation, a sync.

    Jobs are rows so that they survive restarts and so any number of workers can share them: a worker
    claims a job with a conditional UPDATE and holds it under a lease; a crashed worker's lease expires
    and another worker reclaims the job.
    """

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    # Finished jobs are kept for CLINICFLOW_JOB_RETENTION_DAYS, then purged with their attempts.
    FINISHED_STATES = (State.DONE, State.FAILED, State.CANCELLED)
    UNFINISHED_STATES = (State.PENDING, State.RUNNING)

    kind = models.CharField(_("kind"), max_length=64)
    due_at = models.DateTimeField(_("due"))
    # The same reason planned twice (a re-delivered webhook, a retried request) is one job.
    idempotency_key = models.CharField(_("idempotency key"), max_length=200, unique=True)
    payload = models.JSONField(default=dict, blank=True)
    # Whom and which branch the job is about, as plain ids: the engine never reads them (it knows job kinds
    # and payloads, not patients); screens show a patient's planned jobs and retention purges them.
    patient_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    branch_id = models.BigIntegerField(null=True, blank=True)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    max_attempts = models.PositiveSmallIntegerField(_("attempts allowed"), default=5)
    last_error = models.TextField(_("last error"), blank=True)
    locked_by = models.CharField(_("run by worker"), max_length=120, blank=True)
    lease_expires_at = models.DateTimeField(_("lease expires"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    result = models.CharField(_("result"), max_length=255, blank=True)

    class Meta:
        ordering = ["due_at", "id"]
        verbose_name = _("job")
        verbose_name_plural = _("jobs")
        indexes = [
            models.Index(fields=["state", "due_at"], name="job_due"),
            models.Index(fields=["state", "lease_expires_at"], name="job_lease"),
        ]

    def __str__(self):
        return f"{self.kind} @ {self.due_at:%Y-%m-%d %H:%M}"

    @property
    def kind_label(self) -> str:
        from .registry import describers, labels

        described = getattr(self, "described", None)
        if described is None and self.kind in describers:
            described = describers[self.kind]([self]).get(self.pk, "")
        return str(described or labels.get(self.kind, self.kind))

    def backoff(self) -> timedelta:
        """30 s, 2 min, 8 min, 32 min...: wait longer after each failure."""
        return timedelta(seconds=30 * 4 ** max(self.attempts - 1, 0))


class JobAttempt(models.Model):
    """One run of a job by one worker, with its outcome: the audit trail for "why did it fail?"."""

    job = models.ForeignKey(Job, models.CASCADE, related_name="runs", verbose_name=_("job"))
    worker = models.CharField(_("worker"), max_length=120)
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("job attempt")
        verbose_name_plural = _("job attempts")

    def __str__(self):
        return f"{self.job} by {self.worker}"


class WorkerHeartbeat(models.Model):
    """Each worker process writes its row every loop, so /healthz can tell whether any is alive."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    last_seen_at = models.DateTimeField(_("last seen"), default=timezone.now)
    jobs_done = models.PositiveIntegerField(_("jobs done"), default=0)

    class Meta:
        verbose_name = _("worker")
        verbose_name_plural = _("workers")

    def __str__(self):
        return self.name
