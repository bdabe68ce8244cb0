from datetime import date
from zoneinfo import ZoneInfo, available_timezones

import holidays as holiday_calendars
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from .calendar import BranchCalendar, DayHours


def validate_holiday_country(value: str) -> None:
    if value and value not in holiday_calendars.list_supported_countries():
        raise ValidationError(_("No public-holiday calendar for “%(value)s”: use an ISO code such as RU or KZ."),
                              params={"value": value})


def validate_time_zone(value: str) -> None:
    if value not in available_timezones():
        raise ValidationError(_("%(value)s is not a known IANA time zone"), params={"value": value})


class Branch(models.Model):
    """A physical site of the clinic. Its time zone drives working-hours maths and how times are shown."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    address = models.CharField(_("address"), max_length=255, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    time_zone = models.CharField(_("time zone"), max_length=64, default="Europe/Moscow",
                                 validators=[validate_time_zone])
    holiday_country = models.CharField(
        _("public holidays of"), max_length=2, blank=True,
        help_text=_("ISO country code (e.g. RU); the branch is closed on that country's public holidays."),
        validators=[validate_holiday_country])
    mis_id = models.CharField(_("MIS id"), max_length=64, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("branch")
        verbose_name_plural = _("branches")

    def __str__(self):
        return self.name

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def calendar(self, closed_from: date | None = None) -> BranchCalendar:
        """Load the week and closed days once; do the arithmetic in memory."""
        week: dict[int, list[DayHours]] = {}
        for row in self.working_hours.all():
            week.setdefault(row.weekday, []).append(
                DayHours(row.opens, row.closes, row.break_starts, row.break_ends))
        closed = self.closed_days.all()
        if closed_from:
            closed = closed.filter(date__gte=closed_from)
        return BranchCalendar(zone=self.zone, week=week, closed_dates={c.date for c in closed},
                              holiday_country=self.holiday_country)


class WorkingHours(models.Model):
    class Weekday(models.IntegerChoices):
        MONDAY = 0, _("Monday")
        TUESDAY = 1, _("Tuesday")
        WEDNESDAY = 2, _("Wednesday")
        THURSDAY = 3, _("Thursday")
        FRIDAY = 4, _("Friday")
        SATURDAY = 5, _("Saturday")
        SUNDAY = 6, _("Sunday")

    branch = models.ForeignKey(Branch, models.CASCADE, related_name="working_hours", verbose_name=_("branch"))
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    opens = models.TimeField(_("opens"))
    closes = models.TimeField(_("closes"))
    break_starts = models.TimeField(_("break starts"), null=True, blank=True)
    break_ends = models.TimeField(_("break ends"), null=True, blank=True)

    class Meta:
        ordering = ["branch", "weekday", "opens"]
        verbose_name = _("working hours")
        verbose_name_plural = _("working hours")
        # The messages are what a clinic admin reads in Settings when a row breaks a rule; clean() puts the
        # opening/closing one on the field first, the constraint's message covers any other path.
        constraints = [
            models.UniqueConstraint(
                fields=["branch", "weekday"], name="one_working_day_row_per_weekday",
                violation_error_message=_("This weekday already has its hours: one row per weekday.")),
            models.CheckConstraint(
                condition=models.Q(opens__lt=models.F("closes")), name="opens_before_closes",
                violation_error_message=_("Opening must be before closing.")),
        ]

    def __str__(self):
        return f"{self.get_weekday_display()} {self.opens:%H:%M}–{self.closes:%H:%M}"

    def clean(self):
        # Each error on the field to correct, so the admin shows it in that row's cell, not above the table.
        if self.opens is not None and self.closes is not None and self.opens >= self.closes:
            raise ValidationError({"closes": _("Opening must be before closing.")})
        if (self.break_starts is None) != (self.break_ends is None):
            missing = "break_ends" if self.break_ends is None else "break_starts"
            raise ValidationError({missing: _("A break needs both a start and an end.")})
        if (self.break_starts and self.break_ends and self.opens and self.closes
                and not self.opens < self.break_starts < self.break_ends <= self.closes):
            raise ValidationError({"break_starts": _("The break must lie inside the working hours.")})


class ClosedDay(models.Model):
    branch = models.ForeignKey(Branch, models.CASCADE, related_name="closed_days", verbose_name=_("branch"))
    date = models.DateField(_("date"))
    reason = models.CharField(_("reason"), max_length=120, blank=True)

    class Meta:
        ordering = ["date"]
        verbose_name = _("closed day")
        verbose_name_plural = _("closed days")
        constraints = [models.UniqueConstraint(fields=["branch", "date"], name="one_closed_day_per_date")]

    def __str__(self):
        return f"{self.branch}: {self.date}"


class Specialty(models.Model):
    name = models.CharField(_("name"), max_length=120, unique=True)
    mis_id = models.CharField(_("MIS id"), max_length=64, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("specialty")
        verbose_name_plural = _("specialties")

    def __str__(self):
        return self.name


class Service(models.Model):
    """Something a patient can book, e.g. "Initial cardiology consultation"."""

    name = models.CharField(_("name"), max_length=160, unique=True)
    specialty = models.ForeignKey(Specialty, models.PROTECT, related_name="services", null=True, blank=True,
                                  verbose_name=_("specialty"))
    duration_minutes = models.PositiveSmallIntegerField(_("duration, minutes"), default=30)
    price = models.DecimalField(_("price"), max_digits=10, decimal_places=2, null=True, blank=True)
    active = models.BooleanField(_("active"), default=True)
    mis_id = models.CharField(_("MIS id"), max_length=64, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("service")
        verbose_name_plural = _("services")

    def __str__(self):
        return self.name


class Doctor(models.Model):
    """A mirror of the MIS's practitioner: who can be booked, where and for what."""

    full_name = models.CharField(_("full name"), max_length=160)
    specialties = models.ManyToManyField(Specialty, related_name="doctors", blank=True, verbose_name=_("specialties"))
    branches = models.ManyToManyField(Branch, related_name="doctors", blank=True, verbose_name=_("branches"))
    active = models.BooleanField(_("active"), default=True)
    mis_id = models.CharField(_("MIS id"), max_length=64, blank=True)

    class Meta:
        ordering = ["full_name"]
        verbose_name = _("doctor")
        verbose_name_plural = _("doctors")

    def __str__(self):
        return self.full_name


class ClinicSettings(models.Model):
    """The clinic's own choices, edited in Settings. One row (pk 1), created on first use."""

    class Sharing(models.TextChoices):
        # Branches that are separate legal operators of personal data must not see each other's patients.
        BRANCH = "branch", _("Each branch sees its own patients")
        SHARED = "shared", _("Patients are shared by all branches")

    patient_sharing = models.CharField(
        _("patient data"), max_length=16, choices=Sharing.choices, default=Sharing.BRANCH,
        help_text=_("Shared: staff of any branch read every patient's card, cases, visits and messages, and "
                    "act on their own branches' ones. Each branch: a contact at your branch shows you the "
                    "inquiry and that the patient exists, never another branch's visits, messages or notes."))
    default_language = models.CharField(
        _("default language"), max_length=8, choices=settings.LANGUAGES, default="ru",
        help_text=_("The interface language of staff who have not chosen one, and of the log-in page."))
    default_branch = models.ForeignKey(
        Branch, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("default branch"),
        help_text=_("Where website inquiries that name no branch go."))
    widget_offers_slots = models.BooleanField(
        _("Website widget offers free slots"), default=False,
        help_text=_("The website widget shows free times and books them (public slots and bookings API)."))

    class Meta:
        verbose_name = verbose_name_plural = _("clinic settings")

    def __str__(self):
        return str(_("Clinic settings"))

    @classmethod
    def load(cls) -> "ClinicSettings":
        settings, _created = cls.objects.get_or_create(pk=1)
        return settings

    @property
    def patients_shared(self) -> bool:
        return self.patient_sharing == self.Sharing.SHARED
