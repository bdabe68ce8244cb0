"""A clinic whose robots run on a frozen clock: branches in Moscow, Berlin (summer time) and Novosibirsk, a
consenting patient, a doctor who works every day, and the messaging tests' fake providers (tests/messaging)."""

from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine

from clinicflow.automation.models import Job
from clinicflow.automation.worker import work_once
from clinicflow.clinic.cache import clinic_cache_clear
from clinicflow.clinic.models import Branch
from clinicflow.compliance.models import Consent
from clinicflow.compliance.services import consent_record
from clinicflow.messaging.models import OutboundMessage
from clinicflow.patients.services import patient_resolve
from clinicflow.robots.models import Robot, RobotRun
from clinicflow.robots.services import RUN_JOB
from clinicflow.scheduling.models import Appointment, DoctorHours
from clinicflow.scheduling.services import appointment_book
from tests.conftest import open_all_week
from tests.messaging.conftest import providers  # noqa: F401  (a fixture)

# Monday 8 March 2027, 09:00 UTC: 12:00 in Moscow, 10:00 in Berlin, 16:00 in Novosibirsk.
MONDAY_NOON_IN_MOSCOW = datetime(2027, 3, 8, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def in_english():
    """Summaries and labels are read in English here (a test elsewhere may leave Russian active)."""
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture
def clock():
    with time_machine.travel(MONDAY_NOON_IN_MOSCOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def berlin(db) -> Branch:
    branch = Branch.objects.create(name="Berlin, Mitte", time_zone="Europe/Berlin")
    open_all_week(branch, days=range(7))
    return branch


@pytest.fixture
def everywhere(doctor, moscow, novosibirsk, berlin):
    """The doctor sees patients at every branch, every day from 07:00 to 20:00 local time."""
    for branch in (moscow, novosibirsk, berlin):
        doctor.branches.add(branch)
        for weekday in range(7):
            DoctorHours.objects.create(doctor=doctor, branch=branch, weekday=weekday, starts=time(7), ends=time(20))
    return doctor


def consent_to(patient, *purposes):
    for purpose in purposes:
        consent_record(patient=patient, purpose=purpose, source="staff")


SERVICE_CONSENTS = (Consent.Purpose.PROCESSING, Consent.Purpose.SERVICE, Consent.Purpose.CROSS_BORDER)


@pytest.fixture
def patient_at():
    """A patient of a branch, with consent to service messages (and WhatsApp abroad), unless told otherwise."""

    def make(branch, phone="+7 916 123-45-67", name="Ivan Petrov", consents=SERVICE_CONSENTS):
        patient, _created = patient_resolve(branch=branch, phone=phone, full_name=name)
        consent_to(patient, *consents)
        return patient

    return make


def book(patient, doctor, branch, starts_at) -> Appointment:
    """As the MIS reports a booking: no local-schedule checks, and the robots hear it like any booking."""
    return appointment_book(patient=patient, doctor=doctor, branch=branch, starts_at=starts_at,
                            source=Appointment.Source.MIS)


def run_jobs() -> int:
    return work_once("test-worker", limit=200)


def robot(code: str) -> Robot:
    return Robot.objects.get(builtin=code)


def switch(code: str, enabled: bool) -> None:
    Robot.objects.filter(builtin=code).update(enabled=enabled)
    clinic_cache_clear()  # an update sends no signal; robot_toggle clears the process's list of robots itself


def planned(visit=None) -> list[Job]:
    jobs = Job.objects.filter(kind=RUN_JOB, state=Job.State.PENDING)
    if visit is not None:
        jobs = jobs.filter(idempotency_key__contains=f":appointment:{visit.pk}:")
    return list(jobs.order_by("due_at"))


def sent_texts(providers) -> list[str]:  # noqa: F811
    return [m["text"] for fake in providers.values() for m in fake.sent]


def messages_for(patient) -> list[OutboundMessage]:
    return list(OutboundMessage.objects.filter(patient=patient).order_by("id"))


def log_of(code: str) -> list[RobotRun]:
    return list(RobotRun.objects.filter(robot__builtin=code).order_by("id"))


def later(clock, **delta) -> None:
    from django.utils import timezone

    clock.move_to(timezone.now() + timedelta(**delta))
