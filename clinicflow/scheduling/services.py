from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from clinicflow.funnel.models import Case, Source, Stage
from clinicflow.funnel.services import case_move, mis_is_connected

from .models import Appointment

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


def _booking_errors(patient, doctor, branch, case) -> dict:
    errors = {}
    if case is not None and case.patient_id != patient.pk:
        errors["case_id"] = _("This case belongs to another patient.")
    if not doctor.active:
        errors["doctor_id"] = _("%(doctor)s no longer sees patients.") % {"doctor": doctor}
    elif not doctor.branches.filter(pk=branch.pk).exists():
        errors["branch_id"] = _("%(doctor)s does not work at %(branch)s.") % {"doctor": doctor, "branch": branch}
    return errors


def appointment_book(*, patient, doctor, branch, starts_at: datetime, service=None, case: Case | None = None,
                     source: str = Appointment.Source.PHONE, by=None, mis_id: str = "") -> Appointment:
    """Book a slot and move the patient's case on to Reminder, all or nothing.

    The database refuses a second booking of the same doctor's slot, however close the race.
    """
    errors = _booking_errors(patient, doctor, branch, case)
    if errors:
        raise ValidationError(errors)
    minutes = service.duration_minutes if service else 30
    is_primary = not patient.appointments.filter(status=Appointment.Status.COMPLETED).exists()
    try:
        with transaction.atomic():
            appointment = Appointment.objects.create(
                patient=patient, doctor=doctor, branch=branch, service=service, case=case, source=source,
                starts_at=starts_at, ends_at=starts_at + timedelta(minutes=minutes), is_primary=is_primary,
                created_by=by if by and by.is_authenticated else None, mis_id=mis_id,
                status=Appointment.Status.BOOKED)
            if case is not None:
                _advance_case_to_reminder(case, by)
    except IntegrityError:
        raise ValidationError(
            {"starts_at": _("This slot of %(doctor)s is already taken.") % {"doctor": doctor}}) from None
    return appointment


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
    except IntegrityError:
        appointment.refresh_from_db()
        raise ValidationError({"status": _("The slot has been booked by someone else meanwhile.")}) from None
    return appointment
