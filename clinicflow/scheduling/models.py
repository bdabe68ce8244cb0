from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinicflow.clinic.models import Branch, Doctor, Service
from clinicflow.funnel.models import Case
from clinicflow.patients.models import Patient


class Appointment(models.Model):
    """A visit booked in the MIS's schedule. The MIS owns its outcome (completed, no-show)."""

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        BOOKED = "booked", _("Booked")
        CONFIRMED = "confirmed", _("Confirmed")
        ARRIVED = "arrived", _("Arrived")
        COMPLETED = "completed", _("Completed")
        NO_SHOW = "no_show", _("No-show")
        CANCELLED = "cancelled", _("Cancelled")

    # A slot stays taken while the appointment is in one of these.
    HOLDS_SLOT = [Status.REQUESTED, Status.BOOKED, Status.CONFIRMED, Status.ARRIVED, Status.COMPLETED]
    # Outcomes only the MIS may set while an MIS is connected.
    MIS_OUTCOMES = [Status.COMPLETED, Status.NO_SHOW]

    class Source(models.TextChoices):
        PHONE = "phone", _("Front desk")
        WIDGET = "widget", _("Website widget")
        API = "api", _("API")
        MIS = "mis", _("MIS")

    patient = models.ForeignKey(Patient, models.CASCADE, related_name="appointments", verbose_name=_("patient"))
    case = models.ForeignKey(Case, models.SET_NULL, null=True, blank=True, related_name="appointments",
                             verbose_name=_("case"))
    doctor = models.ForeignKey(Doctor, models.PROTECT, related_name="appointments", verbose_name=_("doctor"))
    service = models.ForeignKey(Service, models.PROTECT, related_name="appointments", null=True, blank=True,
                                verbose_name=_("service"))
    branch = models.ForeignKey(Branch, models.PROTECT, related_name="appointments", verbose_name=_("branch"))
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.BOOKED)
    source = models.CharField(_("source"), max_length=16, choices=Source.choices, default=Source.PHONE)
    is_primary = models.BooleanField(_("first visit"), default=True,
                                     help_text=_("The patient had no completed visit before this one."))
    mis_id = models.CharField(_("MIS id"), max_length=64, blank=True)
    # The clinic says an aggregator (a booking portal) already reminds and confirms this visit: we stay quiet.
    messaged_by_aggregator = models.BooleanField(_("messaged by an aggregator"), default=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+",
                                   verbose_name=_("booked by"))
    status_changed_at = models.DateTimeField(_("status changed"), default=timezone.now)

    class Meta:
        ordering = ["starts_at"]
        verbose_name = _("appointment")
        verbose_name_plural = _("appointments")
        indexes = [models.Index(fields=["branch", "starts_at"]), models.Index(fields=["status", "starts_at"])]
        constraints = [
            # A doctor's slot is booked at most once, enforced by the database even under races.
            models.UniqueConstraint(fields=["doctor", "starts_at"],
                                    condition=Q(status__in=["requested", "booked", "confirmed", "arrived",
                                                            "completed"]),
                                    name="one_booking_per_doctor_slot"),
            models.CheckConstraint(condition=Q(starts_at__lt=models.F("ends_at")), name="starts_before_ends"),
        ]

    def __str__(self):
        return f"{self.patient} with {self.doctor} at {self.starts_at:%Y-%m-%d %H:%M}"

    @property
    def local_starts_at(self):
        return self.starts_at.astimezone(self.branch.zone)
