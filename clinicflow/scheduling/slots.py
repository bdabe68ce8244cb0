"""Free slots: when each doctor can still be booked.

Two sources. The local schedule (DoctorHours, DoctorDayOff) for a clinic without an MIS and for the demo;
and, with an MIS connected, whatever source the MIS adapter registered (`register_slot_source`), because
then the MIS owns the doctors' time. The registry is a single slot, like automation's job handlers: the MIS
app registers its function in AppConfig.ready(), so scheduling never imports it.

Local slots are the doctor's weekly hours at the branch, inside the branch's open hours (breaks, closed
days and public holidays included), minus the doctor's days off, minus appointments that hold the time,
minus the past. A doctor with no weekly hours at all is bookable whenever the branch is open: a clinic that
has not entered schedules yet keeps booking as before.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from clinicflow.clinic.calendar import BranchCalendar
from clinicflow.clinic.models import Branch, Doctor, Service, Specialty
from clinicflow.funnel.services import mis_is_connected

from .models import Appointment, DoctorDayOff, DoctorHours

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FreeSlot:
    doctor_id: int
    branch_id: int
    starts_at: datetime  # UTC, aware
    ends_at: datetime
    mis_slot_id: str = ""


class SlotSourceUnavailable(Exception):
    """The slot source (the MIS) cannot answer now; callers offer a call-back instead."""


SlotSource = Callable[..., list[FreeSlot]]
_source: dict[str, SlotSource] = {}


def register_slot_source(func: SlotSource) -> SlotSource:
    """Use `func` (same keyword arguments as free_slots) for free slots while an MIS is connected."""
    _source["mis"] = func
    return func


def slot_minutes(service: Service | None) -> int:
    return service.duration_minutes if service else settings.CLINICFLOW_DEFAULT_SLOT_MINUTES


def free_slots(*, branch: Branch, start: datetime, end: datetime, doctor: Doctor | None = None,
               service: Service | None = None, specialty: Specialty | None = None) -> list[FreeSlot]:
    """Free slots at `branch` starting in [start, end), sorted by time then doctor.

    Raises SlotSourceUnavailable when the MIS is connected and cannot answer.
    """
    if mis_is_connected() and "mis" in _source:
        try:
            return _source["mis"](branch=branch, start=start, end=end, doctor=doctor, service=service,
                                  specialty=specialty)
        except SlotSourceUnavailable:
            raise
        except Exception as exc:
            # Whatever the adapter raises when the MIS is down or answers nonsense, the screen and the widget
            # must still answer (with "we will call you back"), not fail.
            log.warning("the slot source failed: %s", exc)
            raise SlotSourceUnavailable(str(exc)) from exc
    start = max(start, timezone.now())
    if end <= start:
        return []
    doctors = list(bookable_doctors(branch=branch, doctor=doctor, service=service, specialty=specialty))
    if not doctors:
        return []
    schedule = LocalSchedule.load(branch=branch, doctors=doctors, start=start, end=end)
    length = timedelta(minutes=slot_minutes(service))
    slots = [slot for d in doctors for slot in schedule.slots_of(d, start, end, length)]
    return sorted(slots, key=lambda s: (s.starts_at, s.doctor_id))


def bookable_doctors(*, branch: Branch, doctor: Doctor | None = None, service: Service | None = None,
                     specialty: Specialty | None = None) -> QuerySet:
    doctors = Doctor.objects.filter(active=True, branches=branch)
    if doctor is not None:
        doctors = doctors.filter(pk=doctor.pk)
    specialty = specialty or (service.specialty if service else None)
    if specialty is not None:
        doctors = doctors.filter(specialties=specialty)
    return doctors.distinct().order_by("full_name")


def bookable_services(*, branch: Branch) -> QuerySet:
    """Active services `branch` can book: a service of a specialty needs an active doctor of it there, a
    service without one any active doctor there (as bookable_doctors picks them)."""
    doctors = Doctor.objects.filter(active=True, branches=branch)
    anyone, specialist = Exists(doctors), Exists(doctors.filter(specialties=OuterRef("specialty")))
    return Service.objects.filter(Q(specialty__isnull=True) & anyone | specialist, active=True).order_by("name")


@dataclass
class LocalSchedule:
    """Everything the local source needs for one branch and period, loaded once; the arithmetic is in memory."""

    branch: Branch
    calendar: BranchCalendar
    hours: dict[int, dict[int, list[tuple[time, time]]]]  # doctor → weekday → stretches at this branch
    scheduled: set[int]  # doctors with weekly hours anywhere (the others follow the branch's hours)
    days_off: dict[int, list[DoctorDayOff]]
    taken: dict[int, list[tuple[datetime, datetime]]]

    @classmethod
    def load(cls, *, branch: Branch, doctors: list[Doctor], start: datetime, end: datetime,
             exclude_appointment: int | None = None) -> LocalSchedule:
        ids = [d.pk for d in doctors]
        hours: dict[int, dict[int, list[tuple[time, time]]]] = {}
        for row in DoctorHours.objects.filter(doctor__in=ids, branch=branch):
            hours.setdefault(row.doctor_id, {}).setdefault(row.weekday, []).append((row.starts, row.ends))
        scheduled = set(DoctorHours.objects.filter(doctor__in=ids).values_list("doctor_id", flat=True))
        days_off: dict[int, list[DoctorDayOff]] = {}
        first, last = start.astimezone(branch.zone).date(), end.astimezone(branch.zone).date()
        for day_off in DoctorDayOff.objects.filter(doctor__in=ids, last_day__gte=first, first_day__lte=last):
            days_off.setdefault(day_off.doctor_id, []).append(day_off)
        # A doctor's visit at any branch takes their time, also one that began before `start`.
        holding = Appointment.objects.filter(doctor__in=ids, status__in=Appointment.HOLDS_SLOT,
                                             starts_at__lt=end + timedelta(days=1),
                                             ends_at__gt=start - timedelta(days=1))
        if exclude_appointment:
            holding = holding.filter(~Q(pk=exclude_appointment))
        taken: dict[int, list[tuple[datetime, datetime]]] = {}
        for doctor_id, starts_at, ends_at in holding.values_list("doctor_id", "starts_at", "ends_at"):
            taken.setdefault(doctor_id, []).append((starts_at, ends_at))
        return cls(branch=branch, calendar=branch.calendar(closed_from=first), hours=hours, scheduled=scheduled,
                   days_off=days_off, taken=taken)

    def working_intervals(self, doctor: Doctor, day: date) -> list[tuple[datetime, datetime]]:
        """When the doctor sees patients at this branch on one local day (aware, in the branch zone)."""
        if any(off.covers(day) for off in self.days_off.get(doctor.pk, [])):
            return []
        open_intervals = self.calendar.intervals_on(day)
        if doctor.pk not in self.scheduled:
            return open_intervals
        zone = self.calendar.zone
        result = []
        for starts, ends in self.hours.get(doctor.pk, {}).get(day.weekday(), []):
            own = (datetime.combine(day, starts, zone), datetime.combine(day, ends, zone))
            for opens, closes in open_intervals:
                begin, finish = max(own[0], opens), min(own[1], closes)
                if begin < finish:
                    result.append((begin, finish))
        return sorted(result)

    def fits(self, doctor: Doctor, starts_at: datetime, ends_at: datetime) -> bool:
        """Does [starts_at, ends_at) lie inside one of the doctor's working intervals?"""
        day = starts_at.astimezone(self.calendar.zone).date()
        return any(begin <= starts_at and ends_at <= finish for begin, finish in self.working_intervals(doctor, day))

    def is_taken(self, doctor: Doctor, starts_at: datetime, ends_at: datetime) -> bool:
        return any(s < ends_at and starts_at < e for s, e in self.taken.get(doctor.pk, []))

    def slots_of(self, doctor: Doctor, start: datetime, end: datetime, length: timedelta) -> list[FreeSlot]:
        slots = []
        day, last = start.astimezone(self.calendar.zone).date(), end.astimezone(self.calendar.zone).date()
        while day <= last:
            for begin, finish in self.working_intervals(doctor, day):
                # Stepped in UTC: wall-clock arithmetic would drift across a daylight-saving change.
                moment, finish = begin.astimezone(UTC), finish.astimezone(UTC)
                while moment + length <= finish:
                    if start <= moment < end and not self.is_taken(doctor, moment, moment + length):
                        slots.append(FreeSlot(doctor_id=doctor.pk, branch_id=self.branch.pk, starts_at=moment,
                                              ends_at=moment + length))
                    moment += length
            day += timedelta(days=1)
        return slots
