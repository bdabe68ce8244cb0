"""clinicflow and an independent FHIR R4 server (Medplum's router, in memory) keep each other in step.

The MIS side is driven through its own REST API, as the MIS's users would; clinicflow's side through its
services, its job worker and its webhook.
"""

from datetime import timedelta
from uuid import uuid4

import pytest
import time_machine
from django.utils import timezone

from clinicflow.automation.models import Job
from clinicflow.automation.services import job_plan
from clinicflow.automation.worker import work_once
from clinicflow.clinic.models import Doctor, Service
from clinicflow.funnel.models import Case, Stage
from clinicflow.funnel.services import case_open_for
from clinicflow.mis.adapters.fhir_r4 import APPOINTMENT_SYSTEM, PATIENT_SYSTEM
from clinicflow.mis.models import MisSchedule
from clinicflow.mis.services import PUSH_JOB, mis_reconcile, mis_reference_sync, mis_statuses_poll
from clinicflow.mis.slots import mis_free_slots
from clinicflow.scheduling.models import Appointment
from clinicflow.scheduling.services import appointment_book
from clinicflow.tasks.models import Task

from .conftest import free_port, hook_headers

pytestmark = [pytest.mark.mis, pytest.mark.django_db]
S = Appointment.Status


def connected_doctor(mis, branch, name: str = "") -> tuple[Doctor, dict]:
    """A practitioner seeded in the MIS and mirrored here by the reference sync."""
    seeded = mis.seed_doctor(name=name or f"Dr. {uuid4().hex[:8]}", location=branch.name)
    mis_reference_sync()
    return Doctor.objects.get(mis_id=seeded["practitioner"]["id"]), seeded


def slot_start(seeded, index: int = 0):
    return Appointment._meta.get_field("starts_at").to_python(seeded["slots"][index]["start"])


def book_requested(patient, doctor, branch, starts_at, service=None) -> Appointment:
    """A booking as the booking screen makes it: with an MIS connected it is requested, and its push planned."""
    case, _created = case_open_for(patient=patient, branch=branch)
    return appointment_book(patient=patient, doctor=doctor, branch=branch, starts_at=starts_at, service=service,
                            case=case)


def plan_push(appointment: Appointment, why: str) -> Job:
    return job_plan(kind=PUSH_JOB, due_at=timezone.now(), key=f"{PUSH_JOB}:{appointment.pk}:{why}",
                    payload={"appointment_id": appointment.pk}, patient_id=appointment.patient_id,
                    branch_id=appointment.branch_id)


def in_mis(mis, appointment: Appointment) -> dict:
    found = mis.search("Appointment", identifier=f"{APPOINTMENT_SYSTEM}|{appointment.pk}")
    assert len(found) == 1, found
    return found[0]


def test_the_reference_sync_mirrors_practitioners_and_their_schedules(mis, moscow):
    doctor, seeded = connected_doctor(mis, moscow, name="Dr. Irina Volkova")

    assert doctor.full_name == "Dr. Irina Volkova" and doctor.active
    assert list(doctor.branches.all()) == [moscow]  # the Location has the branch's name: linked, not copied
    assert doctor.specialties.get().name == "Cardiology"
    schedule = MisSchedule.objects.get(mis_id=seeded["schedule"]["id"])
    assert (schedule.doctor, schedule.branch, schedule.active) == (doctor, moscow, True)


def test_a_practitioner_removed_from_the_mis_is_deactivated_never_deleted(mis, moscow, ivan):
    doctor, seeded = connected_doctor(mis, moscow)
    visit = appointment_book(patient=ivan, doctor=doctor, branch=moscow, starts_at=slot_start(seeded))
    mis.delete("Schedule", seeded["schedule"]["id"])
    mis.delete("PractitionerRole", seeded["role"]["id"])
    mis.delete("Practitioner", seeded["practitioner"]["id"])

    mis_reference_sync()

    doctor.refresh_from_db()
    assert doctor.active is False
    assert Appointment.objects.get(pk=visit.pk).doctor == doctor
    assert MisSchedule.objects.get(mis_id=seeded["schedule"]["id"]).active is False


def test_healthcare_services_become_services_and_removed_ones_are_deactivated(mis, moscow):
    item = mis.create({"resourceType": "HealthcareService", "active": True, "name": f"ECG {uuid4().hex[:6]}",
                       "specialty": [{"coding": [{"code": "cardio", "display": "Cardiology"}]}]})
    mis_reference_sync()
    service = Service.objects.get(mis_id=item["id"])
    assert service.active and service.specialty.name == "Cardiology"

    mis.delete("HealthcareService", item["id"])
    mis_reference_sync()

    service.refresh_from_db()
    assert service.active is False


def test_free_slots_come_from_the_doctors_schedule_in_the_mis(mis, moscow):
    doctor, seeded = connected_doctor(mis, moscow)
    first = slot_start(seeded)

    slots = mis_free_slots(branch=moscow, start=first, end=first + timedelta(hours=2), doctor=doctor)

    assert [slot.mis_slot_id for slot in slots] == [slot["id"] for slot in seeded["slots"][:4]]
    assert {(slot.doctor_id, slot.branch_id) for slot in slots} == {(doctor.pk, moscow.pk)}
    assert slots[0].starts_at == first and slots[0].ends_at == first + timedelta(minutes=30)


def test_a_booking_is_created_in_the_mis_and_then_shown_as_booked(mis, moscow, ivan):
    doctor, seeded = connected_doctor(mis, moscow)
    appointment = book_requested(ivan, doctor, moscow, slot_start(seeded, 1))
    assert appointment.status == S.REQUESTED

    assert work_once("test-worker") == 1

    appointment.refresh_from_db()
    assert appointment.status == S.BOOKED
    there = in_mis(mis, appointment)
    assert appointment.mis_id == there["id"] and there["status"] == "booked"
    assert there["slot"] == [{"reference": f"Slot/{seeded['slots'][1]['id']}"}]
    actors = {participant["actor"]["reference"] for participant in there["participant"]}
    ivan.refresh_from_db()
    assert actors == {f"Patient/{ivan.mis_id}", f"Practitioner/{doctor.mis_id}",
                      f"Location/{seeded['location']['id']}"}
    person = mis.read("Patient", ivan.mis_id)
    assert set(person) <= {"resourceType", "id", "meta", "identifier", "name", "telecom", "birthDate", "gender"}
    assert person["name"] == [{"text": "Ivan Petrov"}]
    assert person["telecom"] == [{"system": "phone", "value": "+79161234567"}]
    assert person["identifier"] == [{"system": PATIENT_SYSTEM, "value": str(ivan.pk)}]


def test_pushing_again_creates_nothing_twice(mis, moscow, ivan):
    doctor, seeded = connected_doctor(mis, moscow)
    appointment = book_requested(ivan, doctor, moscow, slot_start(seeded, 2))
    work_once("test-worker")
    first = in_mis(mis, appointment)["id"]
    # As if our write of the MIS's id had been lost after the MIS created the appointment.
    Appointment.objects.filter(pk=appointment.pk).update(mis_id="", status=S.REQUESTED)

    plan_push(appointment, "again")
    work_once("test-worker")

    appointment.refresh_from_db()
    assert appointment.mis_id == first and appointment.status == S.BOOKED
    assert in_mis(mis, appointment)["id"] == first  # in_mis checks there is exactly one
    assert len(mis.search("Patient", identifier=f"{PATIENT_SYSTEM}|{ivan.pk}")) == 1


def test_a_known_patient_is_found_by_phone_in_the_mis(mis, moscow, ivan):
    doctor, seeded = connected_doctor(mis, moscow)
    ivan.phones  # noqa: B018  (loads the identities)
    mis_patient = mis.create({"resourceType": "Patient", "name": [{"text": "Петров Иван"}],
                              "telecom": [{"system": "phone", "value": "+79161234567"}]})
    appointment = book_requested(ivan, doctor, moscow, slot_start(seeded, 3))

    work_once("test-worker")

    ivan.refresh_from_db()
    assert ivan.mis_id == mis_patient["id"]
    assert in_mis(mis, appointment)["participant"][0]["actor"] == {"reference": f"Patient/{mis_patient['id']}"}


def test_a_visit_fulfilled_in_the_mis_completes_the_appointment_and_the_case_by_webhook(mis, moscow, ivan, client):
    doctor, seeded = connected_doctor(mis, moscow)
    appointment = book_requested(ivan, doctor, moscow, slot_start(seeded, 4))
    work_once("test-worker")
    there = mis.update({**in_mis(mis, appointment), "status": "fulfilled"})

    response = client.post("/hooks/mis/fhir", there, **hook_headers())

    assert response.status_code == 200, response.content
    appointment.refresh_from_db()
    assert appointment.status == S.COMPLETED
    assert Case.objects.get(pk=appointment.case_id).stage == Stage.COMPLETED


def test_a_no_show_in_the_mis_is_followed_by_the_poll_when_no_webhook_comes(mis, moscow, ivan, settings):
    settings.CLINICFLOW_MIS_WEBHOOK_TOKEN = ""
    doctor, seeded = connected_doctor(mis, moscow)
    appointment = book_requested(ivan, doctor, moscow, slot_start(seeded, 5))
    work_once("test-worker")
    mis.update({**in_mis(mis, appointment), "status": "noshow"})

    assert mis_statuses_poll() >= 1

    appointment.refresh_from_db()
    assert appointment.status == S.NO_SHOW
    assert Case.objects.get(pk=appointment.case_id).stage == Stage.REMINDER  # a no-show does not complete it


def test_the_poll_reads_only_what_changed_since_the_last_one(mis, moscow, ivan):
    doctor, seeded = connected_doctor(mis, moscow)
    appointment = book_requested(ivan, doctor, moscow, slot_start(seeded, 6))
    work_once("test-worker")
    mis_statuses_poll()
    mis.update({**in_mis(mis, appointment), "status": "fulfilled"})

    assert mis_statuses_poll() == 1  # the one change, and the last one read again at the cursor at most

    appointment.refresh_from_db()
    assert appointment.status == S.COMPLETED


def test_a_rescheduled_booking_moves_in_the_mis(mis, moscow, ivan):
    doctor, seeded = connected_doctor(mis, moscow)
    appointment = book_requested(ivan, doctor, moscow, slot_start(seeded, 0))
    work_once("test-worker")
    later = slot_start(seeded, 7)
    Appointment.objects.filter(pk=appointment.pk).update(starts_at=later, ends_at=later + timedelta(minutes=30))

    plan_push(appointment, "moved")
    work_once("test-worker")

    there = in_mis(mis, appointment)
    assert there["start"].startswith(seeded["slots"][7]["start"][:19])
    assert there["slot"] == [{"reference": f"Slot/{seeded['slots'][7]['id']}"}]
    assert there["status"] == "booked"


def test_a_cancelled_booking_is_cancelled_in_the_mis(mis, moscow, ivan):
    doctor, seeded = connected_doctor(mis, moscow)
    appointment = book_requested(ivan, doctor, moscow, slot_start(seeded, 1))
    work_once("test-worker")
    Appointment.objects.filter(pk=appointment.pk).update(status=S.CANCELLED)

    plan_push(appointment, "cancelled")
    work_once("test-worker")

    assert in_mis(mis, appointment)["status"] == "cancelled"


def test_with_the_mis_down_a_booking_stays_requested_with_one_task_and_goes_through_when_it_is_back(
        mis, moscow, ivan, settings):
    doctor, seeded = connected_doctor(mis, moscow)
    settings.CLINICFLOW_MIS_BASE_URL = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    appointment = book_requested(ivan, doctor, moscow, slot_start(seeded, 2))

    with time_machine.travel(timezone.now(), tick=True) as clock:
        work_once("test-worker")
        clock.shift(timedelta(minutes=1))
        work_once("test-worker")

        appointment.refresh_from_db()
        assert appointment.status == S.REQUESTED and appointment.mis_id == ""
        job = Job.objects.get(kind=PUSH_JOB)
        assert (job.state, job.attempts) == (Job.State.PENDING, 2)
        task = Task.objects.get(patient=ivan)
        # In the clinic's language (a new clinic's is Russian), no name in it.
        assert task.title == "Запись ещё не подтверждена МИС" and task.done_at is None

        settings.CLINICFLOW_MIS_BASE_URL = mis.base_url
        clock.shift(timedelta(minutes=5))
        work_once("test-worker")

    appointment.refresh_from_db()
    assert appointment.status == S.BOOKED and in_mis(mis, appointment)["id"] == appointment.mis_id
    task.refresh_from_db()
    assert task.done_at is not None


def test_a_booking_whose_push_ran_out_of_attempts_is_pushed_by_the_next_reconciliation(mis, moscow, ivan, settings):
    doctor, seeded = connected_doctor(mis, moscow)
    appointment = book_requested(ivan, doctor, moscow, slot_start(seeded, 3))
    Job.objects.filter(kind=PUSH_JOB).update(state=Job.State.FAILED, attempts=5)

    mis_reconcile()
    work_once("test-worker")

    appointment.refresh_from_db()
    assert appointment.status == S.BOOKED and appointment.mis_id
