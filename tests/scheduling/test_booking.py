"""Appointments: a slot is booked once, outcomes come from the MIS, first visits are told apart."""

import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from clinicflow.funnel.models import Source, Stage
from clinicflow.funnel.services import case_open_for
from clinicflow.patients.services import patient_resolve
from clinicflow.scheduling.models import Appointment
from clinicflow.scheduling.services import appointment_book, appointment_set_status

MONDAY_10 = datetime(2026, 11, 30, 10, tzinfo=ZoneInfo("Europe/Moscow"))
# The Friday before: the Monday is ahead.
pytestmark = pytest.mark.time_machine(datetime(2026, 11, 27, 12, tzinfo=ZoneInfo("Europe/Moscow")), tick=False)


@pytest.fixture
def patient(moscow):
    return patient_resolve(branch=moscow, phone="+79161234567", full_name="Ivan Petrov")[0]


@pytest.fixture
def other_patient(moscow):
    return patient_resolve(branch=moscow, phone="+79167654321", full_name="Olga Sidorova")[0]


def book(patient, doctor, when=MONDAY_10, **kwargs) -> Appointment:
    return appointment_book(patient=patient, doctor=doctor, branch=patient.branch, starts_at=when, **kwargs)


@pytest.mark.django_db
class TestBooking:
    def test_it_books_for_the_service_duration(self, patient, doctor, consultation):
        appointment = book(patient, doctor, service=consultation)
        assert appointment.ends_at - appointment.starts_at == timedelta(minutes=30)
        assert appointment.status == Appointment.Status.BOOKED

    def test_a_slot_is_booked_at_most_once(self, patient, other_patient, doctor):
        book(patient, doctor)
        with pytest.raises(ValidationError, match="just taken"):
            book(other_patient, doctor)
        assert Appointment.objects.count() == 1

    def test_a_cancelled_booking_frees_the_slot(self, patient, other_patient, doctor):
        first = book(patient, doctor)
        appointment_set_status(appointment=first, status=Appointment.Status.CANCELLED)
        assert book(other_patient, doctor).patient == other_patient

    def test_booking_moves_the_case_to_reminder(self, patient, doctor, receptionist):
        case, _ = case_open_for(patient=patient, branch=patient.branch)
        book(patient, doctor, case=case, by=receptionist)
        case.refresh_from_db()
        assert case.stage == Stage.REMINDER
        assert list(case.transitions.values_list("to_stage", flat=True)) == ["new", "booking", "reminder"]

    def test_the_first_visit_is_primary_and_later_ones_are_returning(self, patient, doctor):
        first = book(patient, doctor)
        appointment_set_status(appointment=first, status=Appointment.Status.COMPLETED)
        second = book(patient, doctor, when=MONDAY_10 + timedelta(days=14))
        assert (first.is_primary, second.is_primary) == (True, False)


@pytest.mark.django_db
class TestOutcomesComeFromTheMis:
    @pytest.fixture(autouse=True)
    def mis_connected(self, settings):
        settings.CLINICFLOW_MIS_BASE_URL = "http://mis.local/fhir"

    @pytest.mark.parametrize("outcome", [Appointment.Status.COMPLETED, Appointment.Status.NO_SHOW])
    def test_a_person_cannot_set_an_outcome(self, patient, doctor, outcome):
        appointment = book(patient, doctor)
        with pytest.raises(ValidationError, match="Only the MIS"):
            appointment_set_status(appointment=appointment, status=outcome, source=Source.PERSON)
        appointment.refresh_from_db()
        assert appointment.status == Appointment.Status.REQUESTED  # as booked, waiting for the MIS

    def test_the_mis_sets_completed_and_the_case_follows(self, patient, doctor):
        case, _ = case_open_for(patient=patient, branch=patient.branch)
        appointment = book(patient, doctor, case=case)
        appointment_set_status(appointment=appointment, status=Appointment.Status.COMPLETED, source=Source.MIS)
        case.refresh_from_db()
        assert case.stage == Stage.COMPLETED
        assert case.transitions.last().source == Source.MIS

    def test_the_api_cannot_set_an_outcome(self, patient, doctor, client, auth):
        appointment = book(patient, doctor)
        response = client.post(f"/api/v1/appointments/{appointment.pk}/status", {"status": "completed"},
                               content_type="application/json", **auth)
        assert response.status_code == 422
        assert response.json()["detail"][0]["msg"] == "Only the MIS sets completed or no-show."

    def test_an_unknown_status_is_refused(self, patient, doctor):
        with pytest.raises(ValidationError, match="Unknown status"):
            appointment_set_status(appointment=book(patient, doctor), status="teleported")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs DATABASE_URL=postgresql://…")
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_bookings_of_one_slot_on_postgresql_let_exactly_one_win(moscow, doctor):
    patients = [patient_resolve(branch=moscow, phone=f"+7916555{n:04d}")[0] for n in range(8)]
    results, barrier = [], threading.Barrier(len(patients))

    def attempt(patient):
        barrier.wait()
        try:
            book(patient, doctor)
            results.append("booked")
        except ValidationError as refused:
            results.append("taken" if refused.messages == ["This time was just taken."] else str(refused))
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(p,)) for p in patients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(results) == ["booked"] + ["taken"] * 7
    assert Appointment.objects.filter(doctor=doctor, starts_at=MONDAY_10).count() == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs DATABASE_URL=postgresql://…")
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_bookings_of_overlapping_times_on_postgresql_let_one_win(moscow, doctor):
    """10:00 and 10:15 for 30 minutes each start apart, so the unique constraint alone lets both in."""
    for round_ in range(4):
        start = MONDAY_10 + timedelta(weeks=round_)
        patients = [patient_resolve(branch=moscow, phone=f"+7916556{round_}{n:03d}")[0] for n in range(2)]
        results, barrier = [], threading.Barrier(2)

        def attempt(patient, when, barrier=barrier, results=results):
            barrier.wait()
            try:
                appointment_book(patient=patient, doctor=doctor, branch=moscow, starts_at=when)
                results.append("booked")
            except ValidationError as refused:
                results.append("taken" if refused.messages == ["This time was just taken."] else str(refused))
            finally:
                connection.close()

        threads = [threading.Thread(target=attempt, args=(patients[0], start)),
                   threading.Thread(target=attempt, args=(patients[1], start + timedelta(minutes=15)))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert sorted(results) == ["booked", "taken"], f"round {round_}: {results}"


@pytest.mark.django_db
def test_booking_through_the_api_refuses_a_taken_slot(patient, other_patient, doctor, client, auth):
    body = {"patient_id": patient.pk, "doctor_id": doctor.pk, "starts_at": MONDAY_10.isoformat()}
    assert client.post("/api/v1/appointments", body, content_type="application/json", **auth).status_code == 201
    body["patient_id"] = other_patient.pk
    response = client.post("/api/v1/appointments", body, content_type="application/json", **auth)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "starts_at"]


@pytest.mark.django_db
class TestBookingRules:
    def test_the_case_must_be_the_patients_own(self, patient, other_patient, doctor):
        others_case, _ = case_open_for(patient=other_patient, branch=other_patient.branch)
        with pytest.raises(ValidationError) as refused:
            book(patient, doctor, case=others_case)
        assert "another patient" in refused.value.message_dict["case_id"][0]
        others_case.refresh_from_db()
        assert others_case.stage == Stage.NEW and not Appointment.objects.exists()

    def test_the_doctor_must_work_at_the_branch(self, patient, doctor, novosibirsk):
        with pytest.raises(ValidationError, match="does not work at Novosibirsk"):
            appointment_book(patient=patient, doctor=doctor, branch=novosibirsk, starts_at=MONDAY_10)

    def test_a_refused_case_move_leaves_no_appointment(self, patient, doctor, monkeypatch):
        from clinicflow.funnel.services import TransitionRefused
        from clinicflow.scheduling import services

        case, _ = case_open_for(patient=patient, branch=patient.branch)

        def refuse(**kwargs):
            raise TransitionRefused({"stage": "moved meanwhile"})

        monkeypatch.setattr(services, "case_move", refuse)
        with pytest.raises(TransitionRefused):
            book(patient, doctor, case=case)
        assert not Appointment.objects.exists()


@pytest.mark.django_db
class TestStatusChanges:
    def test_a_cancelled_appointment_stays_cancelled_for_people(self, patient, doctor):
        appointment = book(patient, doctor)
        appointment_set_status(appointment=appointment, status=Appointment.Status.CANCELLED)
        with pytest.raises(ValidationError, match="cannot go from Cancelled to Booked"):
            appointment_set_status(appointment=appointment, status=Appointment.Status.BOOKED)

    def test_the_mis_may_correct_any_status(self, patient, doctor):
        appointment = book(patient, doctor)
        appointment_set_status(appointment=appointment, status=Appointment.Status.NO_SHOW, source=Source.MIS)
        appointment_set_status(appointment=appointment, status=Appointment.Status.COMPLETED, source=Source.MIS)
        assert appointment.status == Appointment.Status.COMPLETED

    def test_reviving_a_cancelled_slot_taken_meanwhile_is_a_clear_error(self, patient, other_patient, doctor):
        first = book(patient, doctor)
        appointment_set_status(appointment=first, status=Appointment.Status.CANCELLED)
        book(other_patient, doctor)
        with pytest.raises(ValidationError, match="booked by someone else"):
            appointment_set_status(appointment=first, status=Appointment.Status.BOOKED, source=Source.MIS)
        first.refresh_from_db()
        assert first.status == Appointment.Status.CANCELLED
