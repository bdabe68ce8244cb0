from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinicflow.clinic.models import Branch, Doctor, Service, WorkingHours
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
    mis_slot_id = models.CharField(_("MIS slot id"), max_length=64, blank=True)
    # How many pushes to the MIS were planned: each change plans a new one (its number is in the job's key).
    mis_pushes = models.PositiveIntegerField(default=0, editable=False)
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

    @property
    def local_ends_at(self):
        return self.ends_at.astimezone(self.branch.zone)

    @property
    def holds_slot(self) -> bool:
        return self.status in self.HOLDS_SLOT


class DoctorHours(models.Model):
    """One stretch of a doctor's week at a branch, in the branch's own time zone (the local schedule).

    Without an MIS this is where free slots come from; with an MIS connected it is read-only (the MIS owns it).
    """

    Weekday = WorkingHours.Weekday

    doctor = models.ForeignKey(Doctor, models.CASCADE, related_name="hours", verbose_name=_("doctor"))
    branch = models.ForeignKey(Branch, models.CASCADE, related_name="doctor_hours", verbose_name=_("branch"))
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    starts = models.TimeField(_("starts"))
    ends = models.TimeField(_("ends"))

    class Meta:
        ordering = ["doctor", "branch", "weekday", "starts"]
        verbose_name = _("doctor's hours")
        verbose_name_plural = _("doctor's hours")
        constraints = [
            models.CheckConstraint(condition=Q(starts__lt=models.F("ends")), name="doctor_hours_start_before_end",
                                   violation_error_message=_("The start must be before the end.")),
            models.UniqueConstraint(fields=["doctor", "branch", "weekday", "starts"], name="one_doctor_hours_row",
                                    violation_error_message=_("These hours are already in the schedule.")),
        ]

    def __str__(self):
        return f"{self.get_weekday_display()} {self.starts:%H:%M}–{self.ends:%H:%M}"

    def clean(self):
        if self.starts is not None and self.ends is not None and self.starts >= self.ends:
            raise ValidationError({"ends": _("The start must be before the end.")})


class DoctorDayOff(models.Model):
    """Days a doctor sees nobody (a holiday, a conference): from the first to the last day, both included."""

    doctor = models.ForeignKey(Doctor, models.CASCADE, related_name="days_off", verbose_name=_("doctor"))
    first_day = models.DateField(_("first day"))
    last_day = models.DateField(_("last day"))

    class Meta:
        ordering = ["doctor", "first_day"]
        verbose_name = _("day off")
        verbose_name_plural = _("days off")
        constraints = [models.CheckConstraint(condition=Q(first_day__lte=models.F("last_day")),
                                              name="day_off_first_before_last",
                                              violation_error_message=_("The first day must not be after the "
                                                                        "last one."))]

    def __str__(self):
        return f"{self.first_day}–{self.last_day}" if self.first_day != self.last_day else str(self.first_day)

    def clean(self):
        if self.first_day and self.last_day and self.first_day > self.last_day:
            raise ValidationError({"last_day": _("The first day must not be after the last one.")})

    def covers(self, day: date) -> bool:
        return self.first_day <= day <= self.last_day
