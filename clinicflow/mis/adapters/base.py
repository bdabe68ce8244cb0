"""What clinicflow needs from a medical information system (MIS), whatever protocol it speaks.

An adapter turns the MIS's wire format into the small records below and back. Statuses are reported as
HL7 FHIR Appointment.status codes (`booked`, `fulfilled`, `noshow`, ...): a non-FHIR adapter maps its own
codes to those, so that the mapping to our statuses is written once (mis.services). Records carry no
clinical data: an adapter drops reasons, diagnoses, comments and notes before anything else sees them.
"""

from dataclasses import dataclass, field
from datetime import date, datetime


class MisError(Exception):
    """The MIS could not do what we asked. The message names what failed, never patient data."""


class MisUnavailable(MisError):
    """The MIS did not answer (network, timeout, 5xx): try again later."""


class MisRefused(MisError):
    """The MIS answered and said no (4xx, a reply we cannot read): retrying the same request will not help."""


@dataclass(frozen=True)
class Coding:
    """A code of the MIS's own (a specialty, a service type) and the name people read."""

    code: str
    name: str


@dataclass(frozen=True)
class MisPractitioner:
    mis_id: str
    full_name: str
    active: bool = True


@dataclass(frozen=True)
class MisLocation:
    mis_id: str
    name: str
    active: bool = True


@dataclass(frozen=True)
class MisRole:
    """A practitioner's role: what they do (specialties) and where (locations)."""

    mis_id: str
    practitioner_id: str
    specialties: tuple[Coding, ...] = ()
    location_ids: tuple[str, ...] = ()
    active: bool = True


@dataclass(frozen=True)
class MisService:
    mis_id: str
    name: str
    specialty: Coding | None = None
    active: bool = True


@dataclass(frozen=True)
class MisSchedule:
    """A bookable calendar: one practitioner's, at one location when the MIS says which."""

    mis_id: str
    practitioner_id: str
    location_id: str = ""
    active: bool = True


@dataclass
class ReferenceData:
    practitioners: list[MisPractitioner] = field(default_factory=list)
    locations: list[MisLocation] = field(default_factory=list)
    roles: list[MisRole] = field(default_factory=list)
    services: list[MisService] = field(default_factory=list)
    schedules: list[MisSchedule] = field(default_factory=list)


@dataclass(frozen=True)
class MisSlot:
    mis_id: str
    schedule_id: str
    starts_at: datetime
    ends_at: datetime
    service_codes: tuple[str, ...] = ()


@dataclass(frozen=True)
class MisAppointment:
    """An appointment as the MIS sees it: who owns it there, its status code and its time. Nothing clinical."""

    mis_id: str
    status: str
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True)
class PatientDemographics:
    """All we ever tell the MIS about a person."""

    local_id: int
    full_name: str
    phone: str = ""
    birth_date: date | None = None
    gender: str = ""


@dataclass(frozen=True)
class AppointmentRequest:
    local_id: int
    patient_id: str
    practitioner_id: str
    starts_at: datetime
    ends_at: datetime
    slot_id: str = ""
    location_id: str = ""


class MisAdapter:
    """The interface. Each method talks to the MIS once or a few times and raises MisError subclasses."""

    name = "mis"

    def reference_data(self) -> ReferenceData:
        raise NotImplementedError

    def free_slots(self, *, schedule_ids: list[str], start: datetime, end: datetime) -> list[MisSlot]:
        raise NotImplementedError

    def patient_find_or_create(self, patient: PatientDemographics) -> str:
        """The MIS's id of this person: found by our id or their phone, else created with demographics only."""
        raise NotImplementedError

    def appointment_create(self, request: AppointmentRequest) -> str:
        """Create the appointment as booked; creating the same `local_id` twice returns the first one's id."""
        raise NotImplementedError

    def appointment_update(self, mis_id: str, *, starts_at: datetime, ends_at: datetime, slot_id: str = "") -> None:
        raise NotImplementedError

    def appointment_cancel(self, mis_id: str) -> None:
        raise NotImplementedError

    def appointment_get(self, mis_id: str) -> MisAppointment:
        raise NotImplementedError

    def appointments_changed_since(self, since: datetime) -> list[MisAppointment]:
        """Appointments the MIS changed at or after `since`, oldest change first."""
        raise NotImplementedError
