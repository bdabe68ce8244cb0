"""The demo MIS (`clinicflow mis-sim`) speaks enough FHIR for clinicflow: sync, book, close visits."""

import threading
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from clinicflow.automation.services import job_plan
from clinicflow.automation.worker import work_once
from clinicflow.funnel.models import Case, Stage
from clinicflow.funnel.services import case_open_for
from clinicflow.mis.services import PUSH_JOB, mis_reference_sync, mis_statuses_poll
from clinicflow.mis.simulator import Simulator
from clinicflow.mis.slots import mis_free_slots
from clinicflow.scheduling.models import Appointment
from clinicflow.scheduling.services import appointment_book

from .conftest import free_port

pytestmark = pytest.mark.django_db
S = Appointment.Status


@pytest.fixture
def simulator(settings, doctor, moscow):
    """The demo MIS with the clinic's own doctor, and clinicflow connected to it."""
    simulator = Simulator()
    simulator.populate([(doctor.full_name, [moscow.name])], days=7)
    port = free_port()
    server = simulator.server("127.0.0.1", port)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.CLINICFLOW_MIS_BASE_URL = f"http://127.0.0.1:{port}/fhir"
    settings.CLINICFLOW_MIS_SLOT_CACHE_SECONDS = 0
    yield simulator
    server.shutdown()
    server.server_close()


def test_the_first_sync_links_the_clinics_doctor_and_the_demo_mis_closes_the_visit(simulator, doctor, moscow, ivan):
    mis_reference_sync()
    doctor.refresh_from_db()
    assert doctor.mis_id
    now = timezone.now()
    [first, *_rest] = mis_free_slots(branch=moscow, start=now, end=now + timedelta(days=7), doctor=doctor)
    case, _created = case_open_for(patient=ivan, branch=moscow)
    appointment = appointment_book(patient=ivan, doctor=doctor, branch=moscow, starts_at=first.starts_at, case=case)
    Appointment.objects.filter(pk=appointment.pk).update(status=S.REQUESTED)
    job_plan(kind=PUSH_JOB, due_at=now, key="push", payload={"appointment_id": appointment.pk})

    work_once("test-worker")

    appointment.refresh_from_db()
    assert appointment.status == S.BOOKED
    assert simulator.store.get("Slot", first.mis_slot_id)["status"] == "busy"
    assert first.mis_slot_id not in {s.mis_slot_id for s in mis_free_slots(
        branch=moscow, start=now, end=now + timedelta(days=7), doctor=doctor)}

    with time_machine.travel(now + timedelta(days=8)):
        assert simulator.close_past_visits() == 1  # seeded: this visit is fulfilled
        mis_statuses_poll()

    appointment.refresh_from_db()
    assert appointment.status == S.COMPLETED
    assert Case.objects.get(pk=case.pk).stage == Stage.COMPLETED
