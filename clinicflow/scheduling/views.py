"""The schedule screen: doctors × days with their free slots and visits; book, move and cancel from it.

It is opened with what it books for in its query: `patient` (and `case`), or `appointment` to move a visit.
Times are shown in the branch's zone; the zone is named when it differs from the viewer's, which is the zone
of the viewer's branch when they work for exactly one, else the clinic's TIME_ZONE.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from clinicflow import gates
from clinicflow.clinic.models import Branch, Doctor, Service, Specialty
from clinicflow.funnel.access import case_for_user

from .access import appointment_for_user, appointments_visible_to
from .models import Appointment
from .services import SlotTaken, appointment_book, appointment_cancel, appointment_reschedule
from .slots import FreeSlot, SlotSourceUnavailable, bookable_doctors, free_slots

VIEWS = {"day": 1, "week": 7}


@dataclass
class ScheduleQuery:
    """What the screen shows and books for, read from the query string; foreign or unknown values fall away."""

    branch: Branch
    day: date
    view: str = "week"
    specialty: Specialty | None = None
    service: Service | None = None
    doctor: Doctor | None = None
    patient: object = None
    case: object = None
    appointment: Appointment | None = None  # the visit being moved

    @classmethod
    def read(cls, request, data: QueryDict) -> "ScheduleQuery":
        user = request.user
        appointment = _number(data, "appointment") and appointment_for_user(user, data["appointment"], write=True)
        case = _number(data, "case") and case_for_user(user, data["case"], write=True)
        patient_id = appointment.patient_id if appointment else case.patient_id if case else _number(data, "patient")
        patient = gates.patient_for_user(user, patient_id) if patient_id else None
        branch = appointment.branch if appointment else _branch(user, data, case, patient)
        today = timezone.now().astimezone(branch.zone).date() if branch else timezone.localdate()
        return cls(branch=branch, day=_date(data.get("date", "")) or today,
                   view=data.get("view") if data.get("view") in VIEWS else "week",
                   specialty=_one(Specialty.objects.all(), data, "specialty"),
                   service=_one(Service.objects.filter(active=True), data, "service"),
                   doctor=_one(Doctor.objects.filter(active=True), data, "doctor"),
                   patient=patient, case=case or None, appointment=appointment or None)

    @property
    def days(self) -> list[date]:
        return [self.day + timedelta(days=n) for n in range(VIEWS[self.view])]

    def querystring(self, **changes) -> str:
        values = {"branch": self.branch.pk if self.branch else "", "date": self.day.isoformat(), "view": self.view,
                  "specialty": _pk(self.specialty), "service": _pk(self.service), "doctor": _pk(self.doctor),
                  "patient": _pk(self.patient), "case": _pk(self.case), "appointment": _pk(self.appointment),
                  **changes}
        return urlencode({k: v for k, v in values.items() if v})


def _number(data: QueryDict, name: str) -> str:
    value = data.get(name, "")
    return value if value.isdigit() else ""


def _one(queryset, data: QueryDict, name: str):
    pk = _number(data, name)
    return queryset.filter(pk=pk).first() if pk else None


def _branch(user, data: QueryDict, case, patient) -> Branch | None:
    """The branch asked for, else the case's, else the patient's home, else the first one of the user's."""
    branches = gates.branches_at_work(user).order_by("name")
    for wanted in (_number(data, "branch"), case and case.branch_id, patient and patient.branch_id):
        found = branches.filter(pk=wanted).first() if wanted else None
        if found:
            return found
    return branches.first()


def _date(value: str) -> date | None:
    try:
        return parse_date(value) if value else None
    except ValueError:
        return None


def _pk(obj) -> str:
    return str(obj.pk) if obj is not None else ""


@dataclass
class Cell:
    day: date
    slots: list[FreeSlot] = field(default_factory=list)
    visits: list[Appointment] = field(default_factory=list)


@dataclass
class Row:
    doctor: Doctor
    cells: list[Cell]


def viewer_zone(user) -> ZoneInfo:
    """The viewer's own zone: their branch's when they work for exactly one, else the clinic's TIME_ZONE."""
    branch_ids = gates.work_branch_ids(user)
    if branch_ids and len(branch_ids) == 1:
        return Branch.objects.get(pk=next(iter(branch_ids))).zone
    return ZoneInfo(settings.TIME_ZONE)


def schedule_rows(query: ScheduleQuery, user) -> tuple[list[Row], bool]:
    """The grid, and whether the slot source answered (an MIS may be down)."""
    zone = query.branch.zone
    start = datetime.combine(query.days[0], datetime.min.time(), zone)
    end = datetime.combine(query.days[-1] + timedelta(days=1), datetime.min.time(), zone)
    doctors = list(bookable_doctors(branch=query.branch, doctor=query.doctor, service=query.service,
                                    specialty=query.specialty))
    try:
        slots = free_slots(branch=query.branch, start=start, end=end, doctor=query.doctor, service=query.service,
                           specialty=query.specialty)
        answered = True
    except SlotSourceUnavailable:
        slots, answered = [], False
    visits = appointments_visible_to(user).filter(branch=query.branch, doctor__in=doctors, starts_at__gte=start,
                                                   starts_at__lt=end, status__in=Appointment.HOLDS_SLOT)
    cells = {(d.pk, day): Cell(day) for d in doctors for day in query.days}
    for slot in slots:
        cell = cells.get((slot.doctor_id, slot.starts_at.astimezone(zone).date()))
        if cell:
            cell.slots.append(slot)
    for visit in visits.select_related("patient", "branch", "service"):
        cell = cells.get((visit.doctor_id, visit.starts_at.astimezone(zone).date()))
        if cell:
            cell.visits.append(visit)
    return [Row(d, [cells[(d.pk, day)] for day in query.days]) for d in doctors], answered


@gates.patient_reader_required
def schedule(request):
    return _render(request, ScheduleQuery.read(request, request.GET))


def _render(request, query: ScheduleQuery, *, error: str = "", alternatives=(), status: int = 200):
    if query.branch is None:
        return render(request, "scheduling/schedule.html", {"section": "schedule", "query": query}, status=status)
    gates.list_opened(request.user, "schedule")
    rows, answered = schedule_rows(query, request.user)
    zone = query.branch.zone
    context = {
        "section": "schedule", "query": query, "rows": rows, "answered": answered, "error": error,
        "alternatives": alternatives, "zone": zone.key, "zone_differs": zone.key != viewer_zone(request.user).key,
        "branches": gates.branches_at_work(request.user).order_by("name"),
        "specialties": Specialty.objects.all(), "services": Service.objects.filter(active=True),
        "doctors": Doctor.objects.filter(active=True, branches=query.branch),
        "previous": query.querystring(date=(query.day - timedelta(days=VIEWS[query.view])).isoformat()),
        "next": query.querystring(date=(query.day + timedelta(days=VIEWS[query.view])).isoformat()),
        "patient_visits": _patient_visits(request.user, query),
    }
    template = "scheduling/schedule.html#grid" if request.htmx and not error else "scheduling/schedule.html"
    return render(request, template, context, status=status)


def _patient_visits(user, query: ScheduleQuery):
    if query.patient is None:
        return []
    return appointments_visible_to(user).filter(patient=query.patient, status__in=Appointment.HOLDS_SLOT,
                                                starts_at__gte=timezone.now()).select_related("doctor", "branch")


def _chosen(request) -> tuple[Doctor | None, datetime | None, str]:
    """The slot clicked: "doctor_id|starts_at[|mis_slot_id]" (a slot button), or the fields apart."""
    doctor_id, starts_at, mis_slot_id = (request.POST.get("slot", "").split("|") + ["", "", ""])[:3]
    if not starts_at:
        doctor_id, starts_at = request.POST.get("doctor_id", ""), request.POST.get("starts_at", "")
    try:
        moment = parse_datetime(starts_at)
    except ValueError:
        moment = None
    doctor = Doctor.objects.filter(pk=doctor_id).first() if doctor_id.isdigit() else None
    return doctor, moment if moment and timezone.is_aware(moment) else None, mis_slot_id[:64]


@require_POST
@gates.patient_reader_required
def book(request):
    query = ScheduleQuery.read(request, request.POST)
    doctor, starts_at, mis_slot_id = _chosen(request)
    if query.patient is None or doctor is None or starts_at is None or query.branch is None:
        return _render(request, query, error=_("Choose a patient, a doctor and a time."), status=422)
    try:
        appointment = appointment_book(patient=query.patient, doctor=doctor, branch=query.branch,
                                       service=query.service, case=query.case, starts_at=starts_at, by=request.user,
                                       mis_slot_id=mis_slot_id)
    except SlotTaken as taken:
        return _render(request, query, error=taken.messages[0], alternatives=taken.alternatives, status=409)
    except ValidationError as refused:
        return _render(request, query, error=" ".join(refused.messages), status=422)
    return _done(request, query, appointment, _("Booked: %(doctor)s, %(time)s.") % {
        "doctor": doctor, "time": _local(appointment)})


@require_POST
@gates.patient_reader_required
def reschedule(request, appointment_id):
    appointment = appointment_for_user(request.user, appointment_id, write=True)
    query = ScheduleQuery.read(request, QueryDict(f"appointment={appointment.pk}&{request.POST.urlencode()}"))
    doctor, starts_at, mis_slot_id = _chosen(request)
    if starts_at is None:
        return _render(request, query, error=_("Choose the new time."), status=422)
    try:
        appointment_reschedule(appointment=appointment, starts_at=starts_at, doctor=doctor, by=request.user,
                               mis_slot_id=mis_slot_id)
    except SlotTaken as taken:
        return _render(request, query, error=taken.messages[0], alternatives=taken.alternatives, status=409)
    except ValidationError as refused:
        return _render(request, query, error=" ".join(refused.messages), status=422)
    query.appointment = None
    return _done(request, query, appointment, _("Moved to %(time)s.") % {"time": _local(appointment)})


@require_POST
@gates.patient_reader_required
def cancel(request, appointment_id):
    appointment = appointment_for_user(request.user, appointment_id, write=True)
    query = ScheduleQuery.read(request, QueryDict(f"patient={appointment.patient_id}&{request.POST.urlencode()}"))
    try:
        appointment_cancel(appointment=appointment, by=request.user, reason=request.POST.get("reason", "")[:200])
    except ValidationError as refused:
        return _render(request, query, error=" ".join(refused.messages), status=422)
    return _done(request, query, appointment, _("Cancelled: %(time)s.") % {"time": _local(appointment)})


def _local(appointment: Appointment) -> str:
    return appointment.local_starts_at.strftime("%d.%m.%Y %H:%M")


def _done(request, query: ScheduleQuery, appointment: Appointment, text: str):
    """Back to the screen on the visit's day (a plain redirect: the page's messages and grid both change)."""
    messages.success(request, text)
    day = appointment.local_starts_at.date().isoformat()
    return redirect(f"{reverse('scheduling:schedule')}?{query.querystring(date=day, appointment='')}")
