"""The website widget's booking: free slots and a booking, public, while the clinic offers them.

Both answer 404 while Settings → Clinic settings → "Website widget offers free slots" is off. A booking is an
inquiry (channel web, through inquiry_receive, so the front desk sees it in the queue) plus an appointment
(through appointment_book, source widget). The inquiry is kept even when the time was just taken: the
person asked to be seen, the 409 answer offers other times, and sending the same request_id again with one
of them books it for the same inquiry. This module sits in pages because it brings inbox and scheduling
together, and the layers let only a higher app use both.
"""

from datetime import UTC, date, datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from clinicflow.clinic.models import Branch, ClinicSettings, Doctor, Service
from clinicflow.core.api_types import DbId, Moment
from clinicflow.core.ratelimit import client_ip, rate_limit_allows
from clinicflow.inbox.api import InquiryIn, Problem
from clinicflow.inbox.services import Received, inquiry_receive
from clinicflow.patients.models import Channel
from clinicflow.scheduling.models import Appointment
from clinicflow.scheduling.services import SlotTaken, appointment_book
from clinicflow.scheduling.slots import FreeSlot, SlotSourceUnavailable, free_slots

router = Router(tags=["public"], auth=None)
MAX_DAYS = 14


class SlotsQuery(Schema):
    branch_id: DbId
    service_id: DbId | None = None
    date_from: date | None = Field(None, description="The first day, in the branch's zone (default: today)")
    days: int = Field(7, ge=1, le=MAX_DAYS)


class SlotOut(Schema):
    doctor_id: int
    doctor_name: str
    starts_at: datetime
    ends_at: datetime


class SlotsOut(Schema):
    branch_id: int
    time_zone: str = Field(description="The branch's IANA zone: show the times in it")
    slots: list[SlotOut]


class SlotIn(Schema):
    doctor_id: DbId
    starts_at: Moment


class BookingIn(InquiryIn):
    """The widget's form: the inquiry's fields (name, phone, consent, request_id, …) and the slot chosen."""

    branch_id: DbId
    slot: SlotIn


class BookingOut(Schema):
    inquiry_id: int
    status: str = Field(description="booked; or requested: the clinic confirms it by calling back")
    doctor_id: int
    starts_at: datetime
    ends_at: datetime
    message: str
    duplicate: bool


class TakenOut(Schema):
    detail: str
    inquiry_id: int
    alternatives: list[SlotOut]


def _offered() -> bool:
    return ClinicSettings.load().widget_offers_slots


def _limited(request, scope: str, limit: int):
    if not rate_limit_allows(scope=scope, client=client_ip(request), limit=limit):
        return Status(429, {"detail": _("Too many requests from this address; try again in a minute.")})
    return None


def _slots_out(slots: list[FreeSlot]) -> list[dict]:
    names = dict(Doctor.objects.filter(pk__in={s.doctor_id for s in slots}).values_list("pk", "full_name"))
    return [{"doctor_id": s.doctor_id, "doctor_name": names.get(s.doctor_id, ""), "starts_at": s.starts_at,
             "ends_at": s.ends_at} for s in slots]


@router.get("/slots", response={200: SlotsOut, 404: Problem, 429: Problem, 503: Problem},
            summary="Booking widget: free slots of a branch (while the clinic offers them)")
def public_slots(request, filters: Query[SlotsQuery]):
    if not _offered():
        return Status(404, {"detail": _("Not found.")})
    if limited := _limited(request, "public-slots", settings.CLINICFLOW_PUBLIC_SLOTS_RATE_LIMIT):
        return limited
    branch = Branch.objects.filter(pk=filters.branch_id).first()
    if branch is None:
        raise ValidationError({"branch_id": _("No branch with this id.")})
    service = _service(filters.service_id)
    first = filters.date_from or timezone.now().astimezone(branch.zone).date()
    start = datetime.combine(first, datetime.min.time(), branch.zone)
    try:
        slots = free_slots(branch=branch, service=service, start=start, end=start + timedelta(days=filters.days))
    except SlotSourceUnavailable:
        return Status(503, {"detail": _("Free times cannot be shown now: leave your phone and we will call you "
                                        "back.")})
    return {"branch_id": branch.pk, "time_zone": branch.time_zone, "slots": _slots_out(slots)}


def _service(service_id: int | None) -> Service | None:
    if service_id is None:
        return None
    service = Service.objects.filter(pk=service_id, active=True).first()
    if service is None:
        raise ValidationError({"service_id": _("No service with this id.")})
    return service


@router.post("/bookings", response={201: BookingOut, 200: BookingOut, 404: Problem, 409: TakenOut, 429: Problem},
             summary="Booking widget: book a free slot (while the clinic offers them)")
def public_booking(request, payload: BookingIn):
    if not _offered():
        return Status(404, {"detail": _("Not found.")})
    if limited := _limited(request, "public-booking", settings.CLINICFLOW_PUBLIC_RATE_LIMIT):
        return limited
    branch = Branch.objects.filter(pk=payload.branch_id).first()
    doctor = Doctor.objects.filter(pk=payload.slot.doctor_id).first()
    errors = {**({} if branch else {"branch_id": [_("No branch with this id.")]}),
              **({} if doctor else {"slot": [_("No doctor with this id.")]})}
    if errors:
        raise ValidationError(errors)
    service = _service(payload.service_id)
    inquiry, received = _receive(payload, client_ip(request))
    earlier = None if received == Received.CREATED else _widget_booking(inquiry)
    if earlier is not None:
        return Status(200, _booked(inquiry, earlier, duplicate=True))
    try:
        appointment = appointment_book(patient=inquiry.patient, doctor=doctor, branch=branch, service=service,
                                       case=inquiry.case, starts_at=payload.slot.starts_at,
                                       source=Appointment.Source.WIDGET)
    except SlotTaken as taken:
        return Status(409, {"detail": taken.messages[0], "inquiry_id": inquiry.pk,
                            "alternatives": _slots_out(taken.alternatives)})
    except ValidationError as refused:
        # The service names the time "starts_at" and the doctor "doctor_id"; the client sent them in "slot".
        raise ValidationError({"slot" if name in ("starts_at", "doctor_id") else name: messages
                               for name, messages in refused.message_dict.items()}) from None
    return Status(201, _booked(inquiry, appointment, duplicate=False))


def _receive(payload: BookingIn, ip: str):
    draft = payload.draft(Channel.WEB, ip)
    try:
        return inquiry_receive(draft=draft)
    except ValidationError as exc:
        names = {"branch": "branch_id", "service": "service_id", "specialty": "specialty_id"}
        raise ValidationError({names.get(name, name): messages
                               for name, messages in exc.message_dict.items()}) from None


def _widget_booking(inquiry) -> Appointment | None:
    """The visit an earlier delivery of the same request booked, if any."""
    if inquiry.case_id is None:
        return None
    return Appointment.objects.filter(case_id=inquiry.case_id, source=Appointment.Source.WIDGET,
                                      status__in=Appointment.HOLDS_SLOT, created_at__gte=inquiry.received_at).first()


def _booked(inquiry, appointment: Appointment, *, duplicate: bool) -> dict:
    if appointment.status == Appointment.Status.REQUESTED:
        message = _("Thank you! We will call you back to confirm the time.")
    else:
        message = _("Thank you! You are booked; we will remind you before the visit.")
    return {"inquiry_id": inquiry.pk, "status": appointment.status, "doctor_id": appointment.doctor_id,
            "starts_at": appointment.starts_at.astimezone(UTC), "ends_at": appointment.ends_at.astimezone(UTC),
            "message": message,
            "duplicate": duplicate}
