from datetime import datetime

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status

from clinicflow import gates
from clinicflow.clinic.models import Doctor, Service
from clinicflow.core.api_types import DbId, Limit, Moment
from clinicflow.funnel.access import case_for_user
from clinicflow.funnel.models import Source

from .access import appointment_for_user, appointments_visible_to
from .models import Appointment
from .services import appointment_book, appointment_set_status

router = Router(tags=["appointments"])


class AppointmentOut(Schema):
    id: int
    patient_id: int
    case_id: int | None
    doctor_id: int
    service_id: int | None
    branch_id: int
    starts_at: datetime
    ends_at: datetime
    status: str
    source: str
    is_primary: bool
    mis_id: str


class AppointmentIn(Schema):
    patient_id: DbId
    doctor_id: DbId
    starts_at: Moment
    branch_id: DbId | None = Field(None, description="One of yours; default: the patient's home branch")
    service_id: DbId | None = None
    case_id: DbId | None = None


class StatusIn(Schema):
    status: Appointment.Status


@router.get("", response=list[AppointmentOut])
def list_appointments(request, patient_id: DbId | None = None, since: Moment | None = None, limit: Limit = 100):
    appointments = appointments_visible_to(request.auth)
    if patient_id:
        appointments = appointments.filter(patient_id=patient_id)
    if since:
        appointments = appointments.filter(starts_at__gte=since)
    return list(appointments[:limit])


@router.post("", response={201: AppointmentOut}, summary="Book a slot (422 if it is taken)")
def book(request, payload: AppointmentIn):
    patient = gates.patient_for_user(request.auth, payload.patient_id)  # the visit is the branch's own
    doctor = Doctor.objects.filter(pk=payload.doctor_id).first()
    if doctor is None:
        raise ValidationError({"doctor_id": _("No doctor with this id.")})
    service = Service.objects.filter(pk=payload.service_id).first() if payload.service_id else None
    if payload.service_id and service is None:
        raise ValidationError({"service_id": _("No service with this id.")})
    case = case_for_user(request.auth, payload.case_id, write=True) if payload.case_id else None
    branch = gates.branch_for_user(request.auth, payload.branch_id or patient.branch_id)
    if branch is None:
        raise ValidationError({"branch_id": _("No such branch among yours (the default is the patient's home "
                                              "branch).")})
    return Status(201, appointment_book(patient=patient, doctor=doctor, branch=branch, service=service,
                                        case=case, starts_at=payload.starts_at, source=Appointment.Source.API,
                                        by=request.auth))


@router.post("/{appointment_id}/status", response=AppointmentOut)
def set_status(request, appointment_id: DbId, payload: StatusIn):
    appointment = appointment_for_user(request.auth, appointment_id, write=True)
    return appointment_set_status(appointment=appointment, status=payload.status, source=Source.API, by=request.auth)
