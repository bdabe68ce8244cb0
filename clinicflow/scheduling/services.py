from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from clinicflow.funnel.models import Case, Source, Stage
from clinicflow.funnel.services import case_move, mis_is_connected

from .models import Appointment


def appointment_book(*, patient, doctor, branch, starts_at: datetime, service=None, case=None,
                     source: str = Appointment.Source.PHONE, by=None, mis_id: str = "") -> Appointment:
    """Book a slot. The database refuses a second booking of the same doctor's slot, however close the race."""
    minutes = service.duration_minutes if service else 30
    is_primary = not patient.appointments.filter(status=Appointment.Status.COMPLETED).exists()
    try:
        with transaction.atomic():
            appointment = Appointment.objects.create(
                patient=patient, doctor=doctor, branch=branch, service=service, case=case, source=source,
                starts_at=starts_at, ends_at=starts_at + timedelta(minutes=minutes), is_primary=is_primary,
                created_by=by if by and by.is_authenticated else None, mis_id=mis_id,
                status=Appointment.Status.BOOKED)
    except IntegrityError:
        raise ValidationError(
            {"starts_at": _("This slot of %(doctor)s is already taken.") % {"doctor": doctor}}) from None
    if case and case.stage in (Stage.NEW, Stage.QUALIFICATION, Stage.BOOKING, Stage.REBOOKING):
        if case.stage != Stage.BOOKING:
            case = case_move(case=case, to_stage=Stage.BOOKING, by=by, source=Source.SYSTEM)
        case_move(case=case, to_stage=Stage.REMINDER, by=by, source=Source.SYSTEM,
                  reason=_("Appointment booked"))
    return appointment


def appointment_set_status(*, appointment: Appointment, status: str, source: str = Source.PERSON,
                           by=None) -> Appointment:
    """Change an appointment's status. Visit outcomes come only from the MIS while one is connected."""
    if status not in Appointment.Status.values:
        raise ValidationError({"status": _("Unknown status “%(status)s”.") % {"status": status}})
    if status in Appointment.MIS_OUTCOMES and source != Source.MIS and mis_is_connected():
        raise ValidationError({"status": _("Only the MIS sets completed or no-show.")})
    appointment.status, appointment.status_changed_at = status, timezone.now()
    appointment.save(update_fields=["status", "status_changed_at"])
    if status == Appointment.Status.COMPLETED and appointment.case_id:
        case = Case.objects.get(pk=appointment.case_id)  # fresh: the cached one may be stages behind
        if Stage.COMPLETED in case.next_stages():
            case_move(case=case, to_stage=Stage.COMPLETED, by=by, source=source)
    return appointment
