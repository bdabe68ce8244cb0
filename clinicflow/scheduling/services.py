from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from clinicflow.accounts.models import Role, user_roles
from clinicflow.automation import events
from clinicflow.automation.events import event_emit
from clinicflow.automation.services import job_plan
from clinicflow.clinic.models import Doctor
from clinicflow.funnel.models import Case, Source, Stage
from clinicflow.funnel.services import case_move, mis_is_connected

from .models import Appointment
from .slots import FreeSlot, LocalSchedule, SlotSourceUnavailable, free_slots, slot_minutes

S = Appointment.Status
# Where a person (or the API) may take an appointment's status. The MIS, the owner of the schedule, may
# set any status: it also corrects mistakes.
STATUS_CHANGES: dict[str, tuple[str, ...]] = {
    S.REQUESTED: (S.BOOKED, S.CANCELLED),
    S.BOOKED: (S.CONFIRMED, S.ARRIVED, S.COMPLETED, S.NO_SHOW, S.CANCELLED),
    S.CONFIRMED: (S.BOOKED, S.ARRIVED, S.COMPLETED, S.NO_SHOW, S.CANCELLED),
    S.ARRIVED: (S.COMPLETED, S.CANCELLED),
    S.COMPLETED: (),
    S.NO_SHOW: (),
    S.CANCELLED: (),
}
BOOKABLE_STAGES = (Stage.NEW, Stage.QUALIFICATION, Stage.BOOKING, Stage.REBOOKING)
# What robots hear when a status changes (the MIS cancels and closes visits through appointment_set_status).
STATUS_EVENTS = {S.CONFIRMED: events.APPOINTMENT_CONFIRMED, S.COMPLETED: events.APPOINTMENT_COMPLETED,
                 S.NO_SHOW: events.APPOINTMENT_NO_SHOW, S.CANCELLED: events.APPOINTMENT_CANCELLED}


# An MIS job: push the appointment's current state (create, move or cancel it there). The MIS app handles it.
MIS_PUSH_JOB = "mis.appointment_push"
# Statuses a booking can still be moved or cancelled from by people.
CHANGEABLE = (S.REQUESTED, S.BOOKED, S.CONFIRMED)
ALTERNATIVES = 5
# Roles that may record a visit's outcome by hand when no MIS is connected (receptionists never do).
OUTCOME_ROLES = frozenset({Role.FRONT_OFFICE_MANAGER, Role.CLINIC_ADMIN})


class SlotTaken(ValidationError):
    """Someone else got this time first. Carries the next free slots of that doctor to offer instead."""

    def __init__(self, alternatives: list[FreeSlot]):
        super().__init__({"starts_at": _("This time was just taken.")})
        self.alternatives = alternatives


def _booking_errors(patient, doctor, branch, case) -> dict:
    errors = {}
    if case is not None and case.patient_id != patient.pk:
        errors["case_id"] = _("This case belongs to another patient.")
    errors.update(_doctor_errors(doctor, branch))
    return errors


def _doctor_errors(doctor, branch) -> dict:
    if not doctor.active:
        return {"doctor_id": _("%(doctor)s no longer sees patients.") % {"doctor": doctor}}
    if not doctor.branches.filter(pk=branch.pk).exists():
        return {"branch_id": _("%(doctor)s does not work at %(branch)s.") % {"doctor": doctor, "branch": branch}}
    return {}


def _time_errors(*, doctor, branch, starts_at: datetime, ends_at: datetime, keep: int | None = None) -> None:
    """Refuse the past, a closed branch, the doctor's time off; SlotTaken when another visit overlaps.

    With an MIS connected the MIS owns the doctors' hours: only the branch's hours are checked here, the MIS
    refuses a time it does not offer when the booking is pushed.
    """
    if starts_at < timezone.now():
        raise ValidationError({"starts_at": _("This time has already passed.")})
    schedule = LocalSchedule.load(branch=branch, doctors=[doctor], start=starts_at, end=ends_at,
                                  exclude_appointment=keep)
    local = starts_at.astimezone(branch.zone)
    open_intervals = schedule.calendar.intervals_on(local.date())
    if not any(opens <= starts_at and ends_at <= closes for opens, closes in open_intervals):
        raise ValidationError({"starts_at": _("%(branch)s is closed at %(time)s (its local time).") % {
            "branch": branch, "time": local.strftime("%d.%m.%Y %H:%M")}})
    if not mis_is_connected() and not schedule.fits(doctor, starts_at, ends_at):
        raise ValidationError({"starts_at": _("%(doctor)s does not see patients at %(time)s (local time of "
                                              "%(branch)s).") % {"doctor": doctor, "branch": branch,
                                                                 "time": local.strftime("%d.%m.%Y %H:%M")}})
    # The database only refuses the same start twice; a visit overlapping at another start is caught here.
    if schedule.is_taken(doctor, starts_at, ends_at):
        raise SlotTaken(alternatives_for(doctor=doctor, branch=branch, after=starts_at, length=ends_at - starts_at))


def _claim_doctor_time(*, doctor, starts_at: datetime, ends_at: datetime, keep: int | None = None) -> bool:
    """Inside the booking's transaction: lock the doctor, then look for a visit overlapping the time.

    The unique constraint only refuses the same start twice; two requests for overlapping times at different
    starts (10:00 for 30 minutes and 10:15) would both pass a check made before the transaction. The doctor's
    row lock makes bookings of one doctor take turns (SQLite's BEGIN IMMEDIATE already does).
    Returns whether the time is still free.
    """
    Doctor.objects.select_for_update().filter(pk=doctor.pk).first()
    overlapping = Appointment.objects.filter(doctor=doctor, status__in=Appointment.HOLDS_SLOT,
                                             starts_at__lt=ends_at, ends_at__gt=starts_at)
    return not overlapping.exclude(pk=keep).exists()


def alternatives_for(*, doctor, branch, after: datetime, service=None, length: timedelta | None = None
                     ) -> list[FreeSlot]:
    """The next few free slots of this doctor at this branch, to offer when a time was taken."""
    try:
        slots = free_slots(branch=branch, doctor=doctor, service=service, start=after - timedelta(hours=1),
                           end=after + timedelta(days=14))
    except SlotSourceUnavailable:
        return []
    if length and service is None:
        slots = [s for s in slots if s.ends_at - s.starts_at == length] or slots
    return [slot for slot in slots if slot.starts_at != after][:ALTERNATIVES]


def _plan_mis_push(appointment: Appointment) -> None:
    """Plan a push of the appointment's current state to the MIS, in the caller's transaction.

    Every change plans a new job (key `appointment:<pk>:mis-push:<n>`, n counts the changes) rather than
    moving one, because a push that already ran cannot be planned again under its key; the handler pushes
    the appointment as it is when the job runs, so an older pending push that runs late does no harm.
    """
    appointment.mis_pushes += 1
    appointment.save(update_fields=["mis_pushes"])
    key = f"appointment:{appointment.pk}:mis-push:{appointment.mis_pushes}"
    job_plan(kind=MIS_PUSH_JOB, due_at=timezone.now(), key=key, payload={"appointment_id": appointment.pk},
             patient_id=appointment.patient_id, branch_id=appointment.branch_id)


def appointment_book(*, patient, doctor, branch, starts_at: datetime, service=None, case: Case | None = None,
                     source: str = Appointment.Source.PHONE, by=None, mis_id: str = "",
                     mis_slot_id: str = "") -> Appointment:
    """Book a slot and move the patient's case on to Reminder, all or nothing.

    Refused: the past, a time the branch is closed, outside the doctor's hours or on a day off. The database
    refuses a second booking of the same doctor's slot, however close the race: the loser gets SlotTaken with
    fresh alternatives. With an MIS connected the visit is "requested" and a push to the MIS is planned in the
    same transaction (the MIS app's job confirms it there). A visit the MIS itself reports (source MIS) is
    taken as it is: booked, no checks of our local schedule, no push back.
    """
    errors = _booking_errors(patient, doctor, branch, case)
    if errors:
        raise ValidationError(errors)
    ends_at = starts_at + timedelta(minutes=slot_minutes(service))
    from_mis = source == Appointment.Source.MIS
    if not from_mis:
        _time_errors(doctor=doctor, branch=branch, starts_at=starts_at, ends_at=ends_at)
    push = mis_is_connected() and not from_mis
    is_primary = not patient.appointments.filter(status=Appointment.Status.COMPLETED).exists()
    try:
        with transaction.atomic():
            if not from_mis and not _claim_doctor_time(doctor=doctor, starts_at=starts_at, ends_at=ends_at):
                raise IntegrityError("the time was taken meanwhile")
            appointment = Appointment.objects.create(
                patient=patient, doctor=doctor, branch=branch, service=service, case=case, source=source,
                starts_at=starts_at, ends_at=ends_at, is_primary=is_primary,
                created_by=by if by and by.is_authenticated else None, mis_id=mis_id, mis_slot_id=mis_slot_id,
                status=Appointment.Status.REQUESTED if push else Appointment.Status.BOOKED)
            if push:
                _plan_mis_push(appointment)
            if case is not None:
                _advance_case_to_reminder(case, by)
            event_emit(events.APPOINTMENT_BOOKED, appointment_id=appointment.pk)
    except IntegrityError:
        raise SlotTaken(alternatives_for(doctor=doctor, branch=branch, service=service, after=starts_at)) from None
    return appointment


def appointment_reschedule(*, appointment: Appointment, starts_at: datetime, doctor=None, by,
                           mis_slot_id: str = "") -> Appointment:
    """Move a visit to another time (and perhaps another doctor of the branch), with the booking's checks.

    The visit keeps its length. It needs confirming again: booked without an MIS, requested (and pushed)
    with one.
    """
    doctor = doctor or appointment.doctor
    if appointment.status not in CHANGEABLE:
        raise ValidationError({"status": _("A visit that is %(status)s cannot be moved.") % {
            "status": appointment.get_status_display().lower()}})
    errors = _doctor_errors(doctor, appointment.branch)
    if errors:
        raise ValidationError(errors)
    ends_at = starts_at + (appointment.ends_at - appointment.starts_at)
    _time_errors(doctor=doctor, branch=appointment.branch, starts_at=starts_at, ends_at=ends_at, keep=appointment.pk)
    push = mis_is_connected()
    try:
        with transaction.atomic():
            if not _claim_doctor_time(doctor=doctor, starts_at=starts_at, ends_at=ends_at, keep=appointment.pk):
                raise IntegrityError("the time was taken meanwhile")
            appointment.doctor, appointment.starts_at, appointment.ends_at = doctor, starts_at, ends_at
            appointment.mis_slot_id = mis_slot_id
            appointment.status = Appointment.Status.REQUESTED if push else Appointment.Status.BOOKED
            appointment.status_changed_at = timezone.now()
            appointment.save(update_fields=["doctor", "starts_at", "ends_at", "mis_slot_id", "status",
                                            "status_changed_at"])
            if push:
                _plan_mis_push(appointment)
            event_emit(events.APPOINTMENT_RESCHEDULED, appointment_id=appointment.pk)
    except IntegrityError:
        appointment.refresh_from_db()
        raise SlotTaken(alternatives_for(doctor=doctor, branch=appointment.branch, service=appointment.service,
                                         after=starts_at)) from None
    return appointment


def appointment_cancel(*, appointment: Appointment, by, reason: str = "") -> Appointment:
    """Cancel a visit and free its time. Its case goes back to Booking when this was its only visit ahead.

    The reason is written in the case's history (not on the visit); with an MIS a push of the cancel is planned.
    """
    if appointment.status not in (*CHANGEABLE, S.ARRIVED):
        raise ValidationError({"status": _("A visit that is %(status)s cannot be cancelled.") % {
            "status": appointment.get_status_display().lower()}})
    with transaction.atomic():
        appointment.status, appointment.status_changed_at = S.CANCELLED, timezone.now()
        appointment.save(update_fields=["status", "status_changed_at"])
        if mis_is_connected():
            _plan_mis_push(appointment)
        if appointment.case_id:
            _return_case_to_booking(appointment, by, reason)
        event_emit(events.APPOINTMENT_CANCELLED, appointment_id=appointment.pk)
    return appointment


def _return_case_to_booking(appointment: Appointment, by, reason: str) -> None:
    case = Case.objects.get(pk=appointment.case_id)
    ahead = case.appointments.filter(status__in=Appointment.HOLDS_SLOT, starts_at__gt=timezone.now())
    if case.stage == Stage.REMINDER and not ahead.exists():
        case_move(case=case, to_stage=Stage.BOOKING, by=by, source=Source.PERSON if by else Source.SYSTEM,
                  reason=(reason.strip() or _("Appointment cancelled"))[:200])


def _advance_case_to_reminder(case: Case, by) -> None:
    case = Case.objects.get(pk=case.pk)
    if case.stage not in BOOKABLE_STAGES:
        return
    if case.stage != Stage.BOOKING:
        case = case_move(case=case, to_stage=Stage.BOOKING, by=by, source=Source.SYSTEM)
    case_move(case=case, to_stage=Stage.REMINDER, by=by, source=Source.SYSTEM, reason=_("Appointment booked"))


def appointment_set_status(*, appointment: Appointment, status: str, source: str = Source.PERSON,
                           by=None) -> Appointment:
    """Change an appointment's status. Visit outcomes come only from the MIS while one is connected."""
    if status not in Appointment.Status.values:
        raise ValidationError({"status": _("Unknown status “%(status)s”.") % {"status": status}})
    if status in Appointment.MIS_OUTCOMES and source != Source.MIS and mis_is_connected():
        raise ValidationError({"status": _("Only the MIS sets completed or no-show.")})
    if status in Appointment.MIS_OUTCOMES and source != Source.MIS and not _may_record_outcome(by):
        raise ValidationError({"status": _("A receptionist does not set completed or no-show: the MIS or a "
                                           "front-office manager does.")})
    if source != Source.MIS and status not in STATUS_CHANGES[appointment.status]:
        raise ValidationError({"status": _("An appointment cannot go from %(from)s to %(to)s.") % {
            "from": appointment.get_status_display(), "to": Appointment.Status(status).label}})
    try:
        with transaction.atomic():
            appointment.status, appointment.status_changed_at = status, timezone.now()
            appointment.save(update_fields=["status", "status_changed_at"])
            if status == Appointment.Status.COMPLETED and appointment.case_id:
                case = Case.objects.get(pk=appointment.case_id)  # fresh: the cached one may be stages behind
                if Stage.COMPLETED in case.next_stages():
                    case_move(case=case, to_stage=Stage.COMPLETED, by=by, source=source)
            if status in STATUS_EVENTS:
                event_emit(STATUS_EVENTS[status], appointment_id=appointment.pk)
    except IntegrityError:
        appointment.refresh_from_db()
        raise ValidationError({"status": _("The slot has been booked by someone else meanwhile.")}) from None
    return appointment


def _may_record_outcome(by) -> bool:
    """Without an MIS a manager records outcomes by hand; a receptionist never does (the visit's fate is not
    the front desk's to declare). A caller without a person (a robot, a test) is not a receptionist."""
    if by is None or not by.is_authenticated:
        return True
    return by.is_superuser or bool(user_roles(by) & OUTCOME_ROLES)
