from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinicflow.clinic.models import Branch, Doctor


class MisSchedule(models.Model):
    """A bookable calendar of the MIS (FHIR Schedule): whose, and where. Free slots are searched by it."""

    mis_id = models.CharField(_("MIS id"), max_length=64, unique=True)
    doctor = models.ForeignKey(Doctor, models.CASCADE, related_name="mis_schedules", verbose_name=_("doctor"))
    branch = models.ForeignKey(Branch, models.CASCADE, null=True, blank=True, related_name="mis_schedules",
                               verbose_name=_("branch"), help_text=_("Empty: any branch of the doctor."))
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["doctor", "mis_id"]
        verbose_name = _("MIS schedule")
        verbose_name_plural = _("MIS schedules")

    def __str__(self):
        return f"{self.doctor}: {self.mis_id}"


class MisCursor(models.Model):
    """How far the reconciliation poll has read the MIS's changes, so the next poll asks only for newer ones."""

    name = models.CharField(_("name"), max_length=64, unique=True)
    position = models.DateTimeField(_("read up to"))
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    class Meta:
        verbose_name = _("MIS sync position")
        verbose_name_plural = _("MIS sync positions")

    def __str__(self):
        return self.name


class UnmappedMisStatus(models.Model):
    """An appointment status from the MIS that we do not map to ours: kept for a manager, never guessed.

    One row per (appointment, status): a webhook delivered again and the poll only count up.
    """

    mis_appointment_id = models.CharField(_("MIS appointment id"), max_length=64)
    status = models.CharField(_("MIS status"), max_length=32)
    # A plain id, as the job engine does: the row is about the MIS's data and must not open a patient's visit.
    appointment_id = models.BigIntegerField(_("appointment"), null=True, blank=True)
    first_seen_at = models.DateTimeField(_("first seen"), default=timezone.now)
    last_seen_at = models.DateTimeField(_("last seen"), default=timezone.now)
    times_seen = models.PositiveIntegerField(_("times seen"), default=1)

    class Meta:
        ordering = ["-last_seen_at"]
        verbose_name = _("unmapped MIS status")
        verbose_name_plural = _("unmapped MIS statuses")
        constraints = [models.UniqueConstraint(fields=["mis_appointment_id", "status"],
                                               name="one_unmapped_status_row_per_appointment")]

    def __str__(self):
        return f"{self.mis_appointment_id}: {self.status}"
