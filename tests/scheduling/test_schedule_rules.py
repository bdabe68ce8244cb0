"""The local schedule: free slots, the hours a booking must keep, reschedule, cancel, and the MIS contract."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from clinicflow.automation.models import Job
from clinicflow.clinic.models import ClosedDay
from clinicflow.funnel.models import Stage
from clinicflow.funnel.services import case_open_for
from clinicflow.scheduling import slots as slots_module
from clinicflow.scheduling.models import Appointment, DoctorDayOff, DoctorHours
from clinicflow.scheduling.services import (
    MIS_PUSH_JOB,
    SlotTaken,
    appointment_book,
    appointment_cancel,
    appointment_reschedule,
    appointment_set_status,
)
from clinicflow.scheduling.slots import FreeSlot, free_slots, register_slot_source

MSK = ZoneInfo("Europe/Moscow")
FRIDAY_NOON = datetime(2026, 11, 27, 12, tzinfo=MSK)
MONDAY = date(2026, 11, 30)
pytestmark = [pytest.mark.django_db, pytest.mark.time_machine(FRIDAY_NOON, tick=False)]


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), MSK)


def book(patient, doctor, when, **kwargs) -> Appointment:
    return appointment_book(patient=patient, doctor=doctor, branch=patient.branch, starts_at=when, **kwargs)


def monday_slots(moscow, **kwargs) -> list[datetime]:
    found = free_slots(branch=moscow, start=at(MONDAY, 0), end=at(MONDAY, 23), **kwargs)
    return [slot.starts_at.astimezone(MSK).time() for slot in found]


@pytest.fixture
def mornings(doctor, moscow):
    """Dr. Petrova sees patients at Moscow on Monday mornings only."""
    return DoctorHours.objects.create(doctor=doctor, branch=moscow, weekday=0, starts=time(9), ends=time(12))


class TestFreeSlots:
    def test_a_doctor_without_hours_follows_the_branch_with_its_lunch_break(self, moscow, doctor):
        times = monday_slots(moscow, doctor=doctor)
        assert times[0] == time(9) and times[-1] == time(17, 30)
        assert time(13) not in times and time(12, 30) in times and time(14) in times

    def test_weekly_hours_narrow_the_slots_and_a_service_sets_their_length(self, moscow, doctor, mornings,
                                                                           consultation):
        consultation.duration_minutes = 60
        consultation.save()
        assert monday_slots(moscow, service=consultation) == [time(9), time(10), time(11)]

    def test_a_booked_visit_and_the_past_are_not_free(self, moscow, doctor, mornings, ivan):
        book(ivan, doctor, at(MONDAY, 10))
        assert time(10) not in monday_slots(moscow, doctor=doctor)
        assert free_slots(branch=moscow, start=at(MONDAY, 9) - timedelta(days=7), end=FRIDAY_NOON) == []

    def test_a_day_off_and_a_closed_day_have_no_slots(self, moscow, doctor, mornings):
        DoctorDayOff.objects.create(doctor=doctor, first_day=MONDAY, last_day=MONDAY)
        assert monday_slots(moscow) == []
        DoctorDayOff.objects.all().delete()
        ClosedDay.objects.create(branch=moscow, date=MONDAY)
        assert monday_slots(moscow) == []

    def test_a_specialty_filter_leaves_out_other_doctors(self, moscow, doctor, mornings):
        from clinicflow.clinic.models import Specialty
        assert monday_slots(moscow, specialty=Specialty.objects.create(name="Dermatology")) == []

    def test_slots_are_utc_and_name_the_doctor_and_branch(self, moscow, doctor, mornings):
        slot = free_slots(branch=moscow, start=at(MONDAY, 0), end=at(MONDAY, 23))[0]
        assert slot == FreeSlot(doctor_id=doctor.pk, branch_id=moscow.pk,
                                starts_at=datetime(2026, 11, 30, 6, tzinfo=UTC),
                                ends_at=datetime(2026, 11, 30, 6, 30, tzinfo=UTC))

    def test_with_an_mis_connected_the_registered_source_answers(self, moscow, doctor, settings, monkeypatch):
        settings.CLINICFLOW_MIS_BASE_URL = "http://mis.local/fhir"
        monkeypatch.setattr(slots_module, "_source", {})
        offered = FreeSlot(doctor_id=doctor.pk, branch_id=moscow.pk, starts_at=at(MONDAY, 8).astimezone(UTC),
                           ends_at=at(MONDAY, 9).astimezone(UTC), mis_slot_id="slot-1")
        register_slot_source(lambda **kwargs: [offered])
        assert free_slots(branch=moscow, start=at(MONDAY, 0), end=at(MONDAY, 23)) == [offered]


    def test_a_failing_mis_source_is_reported_as_unavailable(self, moscow, settings, monkeypatch):
        settings.CLINICFLOW_MIS_BASE_URL = "http://mis.local/fhir"
        monkeypatch.setattr(slots_module, "_source", {})

        def down(**kwargs):
            raise ConnectionError("connection refused")

        register_slot_source(down)
        with pytest.raises(slots_module.SlotSourceUnavailable):
            free_slots(branch=moscow, start=at(MONDAY, 0), end=at(MONDAY, 23))


class TestBookingKeepsTheHours:
    def test_sunday_night_at_a_closed_branch_is_refused_through_the_api(self, ivan, doctor, client, auth):
        body = {"patient_id": ivan.pk, "doctor_id": doctor.pk, "starts_at": at(date(2026, 11, 29), 3).isoformat()}
        response = client.post("/api/v1/appointments", body, content_type="application/json", **auth)
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["body", "starts_at"]
        assert "is closed at 29.11.2026 03:00" in response.json()["detail"][0]["msg"]
        assert not Appointment.objects.exists()

    def test_the_lunch_break_is_refused(self, ivan, doctor):
        with pytest.raises(ValidationError, match="is closed at"):
            book(ivan, doctor, at(MONDAY, 13))

    def test_a_time_outside_the_doctors_hours_is_refused(self, ivan, doctor, mornings):
        with pytest.raises(ValidationError, match="does not see patients at 30.11.2026 15:00"):
            book(ivan, doctor, at(MONDAY, 15))

    def test_a_day_off_is_refused(self, ivan, doctor, mornings):
        DoctorDayOff.objects.create(doctor=doctor, first_day=MONDAY - timedelta(days=2), last_day=MONDAY)
        with pytest.raises(ValidationError, match="does not see patients"):
            book(ivan, doctor, at(MONDAY, 10))

    def test_the_past_is_refused(self, ivan, doctor):
        with pytest.raises(ValidationError, match="already passed"):
            book(ivan, doctor, FRIDAY_NOON - timedelta(hours=1))

    def test_a_taken_time_offers_the_doctors_next_free_slots(self, ivan, nina, doctor, mornings, moscow):
        book(ivan, doctor, at(MONDAY, 10))
        with pytest.raises(SlotTaken) as taken:
            appointment_book(patient=nina, doctor=doctor, branch=moscow, starts_at=at(MONDAY, 10))
        assert taken.value.messages == ["This time was just taken."]
        starts = [slot.starts_at.astimezone(MSK) for slot in taken.value.alternatives]
        assert starts[:3] == [at(MONDAY, 9), at(MONDAY, 9, 30), at(MONDAY, 10, 30)]

    def test_a_visit_overlapping_at_another_start_is_taken_too(self, ivan, nina, doctor, consultation, moscow):
        consultation.duration_minutes = 60
        consultation.save()
        book(ivan, doctor, at(MONDAY, 10), service=consultation)
        with pytest.raises(SlotTaken):
            appointment_book(patient=nina, doctor=doctor, branch=moscow, starts_at=at(MONDAY, 10, 30))


class TestRescheduleAndCancel:
    def test_a_visit_moves_keeping_its_length(self, ivan, doctor, receptionist):
        appointment = book(ivan, doctor, at(MONDAY, 10))
        appointment_reschedule(appointment=appointment, starts_at=at(MONDAY, 11), by=receptionist)
        appointment.refresh_from_db()
        assert (appointment.local_starts_at, appointment.ends_at - appointment.starts_at) == (
            at(MONDAY, 11), timedelta(minutes=30))

    def test_moving_onto_a_taken_time_changes_nothing(self, ivan, nina, doctor, moscow, receptionist):
        mine = book(ivan, doctor, at(MONDAY, 10))
        appointment_book(patient=nina, doctor=doctor, branch=moscow, starts_at=at(MONDAY, 11))
        with pytest.raises(SlotTaken):
            appointment_reschedule(appointment=mine, starts_at=at(MONDAY, 11), by=receptionist)
        mine.refresh_from_db()
        assert mine.local_starts_at == at(MONDAY, 10)

    def test_moving_to_a_closed_time_is_refused(self, ivan, doctor, receptionist):
        appointment = book(ivan, doctor, at(MONDAY, 10))
        with pytest.raises(ValidationError, match="is closed"):
            appointment_reschedule(appointment=appointment, starts_at=at(MONDAY, 20), by=receptionist)

    def test_cancelling_frees_the_time_and_takes_the_case_back_to_booking(self, ivan, doctor, receptionist):
        case, _ = case_open_for(patient=ivan, branch=ivan.branch)
        appointment = book(ivan, doctor, at(MONDAY, 10), case=case, by=receptionist)
        appointment_cancel(appointment=appointment, by=receptionist, reason="Patient asked to call later")
        case.refresh_from_db()
        assert case.stage == Stage.BOOKING
        assert case.transitions.last().reason == "Patient asked to call later"
        assert at(MONDAY, 10).time() in monday_slots(ivan.branch, doctor=doctor)

    def test_a_cancelled_visit_cannot_be_cancelled_or_moved_again(self, ivan, doctor, receptionist):
        appointment = appointment_cancel(appointment=book(ivan, doctor, at(MONDAY, 10)), by=receptionist)
        with pytest.raises(ValidationError, match="cannot be cancelled"):
            appointment_cancel(appointment=appointment, by=receptionist)
        with pytest.raises(ValidationError, match="cannot be moved"):
            appointment_reschedule(appointment=appointment, starts_at=at(MONDAY, 11), by=receptionist)


class TestOutcomesByHand:
    @pytest.mark.parametrize("outcome", Appointment.MIS_OUTCOMES)
    def test_a_receptionist_never_sets_an_outcome_even_without_an_mis(self, ivan, doctor, receptionist, outcome):
        appointment = book(ivan, doctor, at(MONDAY, 10))
        with pytest.raises(ValidationError, match="A receptionist does not set"):
            appointment_set_status(appointment=appointment, status=outcome, by=receptionist)

    def test_a_front_office_manager_records_one_without_an_mis(self, ivan, doctor, manager):
        appointment = book(ivan, doctor, at(MONDAY, 10))
        appointment_set_status(appointment=appointment, status=Appointment.Status.NO_SHOW, by=manager)
        assert appointment.status == Appointment.Status.NO_SHOW


class TestWithAnMis:
    @pytest.fixture(autouse=True)
    def mis_connected(self, settings):
        settings.CLINICFLOW_MIS_BASE_URL = "http://mis.local/fhir"

    def test_a_booking_is_requested_and_a_push_is_planned_with_it(self, ivan, doctor, receptionist):
        case, _ = case_open_for(patient=ivan, branch=ivan.branch)
        appointment = book(ivan, doctor, at(MONDAY, 10), case=case, by=receptionist)
        assert appointment.status == Appointment.Status.REQUESTED
        job = Job.objects.get(kind=MIS_PUSH_JOB)
        assert (job.idempotency_key, job.payload, job.patient_id, job.branch_id) == (
            f"appointment:{appointment.pk}:mis-push:1", {"appointment_id": appointment.pk}, ivan.pk, ivan.branch_id)
        case.refresh_from_db()
        assert case.stage == Stage.REMINDER

    def test_the_mis_owns_the_doctors_hours_but_the_branch_must_be_open(self, ivan, doctor, mornings):
        assert book(ivan, doctor, at(MONDAY, 16)).status == Appointment.Status.REQUESTED
        with pytest.raises(ValidationError, match="is closed"):
            book(ivan, doctor, at(MONDAY, 20))

    def test_reschedule_and_cancel_each_plan_a_new_push(self, ivan, doctor, receptionist):
        appointment = book(ivan, doctor, at(MONDAY, 10))
        appointment_reschedule(appointment=appointment, starts_at=at(MONDAY, 11), by=receptionist)
        appointment_cancel(appointment=appointment, by=receptionist)
        keys = sorted(Job.objects.filter(kind=MIS_PUSH_JOB).values_list("idempotency_key", flat=True))
        assert keys == [f"appointment:{appointment.pk}:mis-push:{n}" for n in (1, 2, 3)]

    def test_a_visit_the_mis_reports_is_taken_as_booked_without_a_push(self, ivan, doctor):
        appointment = book(ivan, doctor, at(MONDAY, 20), source=Appointment.Source.MIS, mis_id="appt-1")
        assert appointment.status == Appointment.Status.BOOKED and not Job.objects.filter(kind=MIS_PUSH_JOB).exists()

    def test_a_failing_push_plan_leaves_no_appointment(self, ivan, doctor, monkeypatch):
        from clinicflow.scheduling import services

        def broken(**kwargs):
            raise RuntimeError("job table is gone")

        monkeypatch.setattr(services, "job_plan", broken)
        with pytest.raises(RuntimeError):
            book(ivan, doctor, at(MONDAY, 10))
        assert not Appointment.objects.exists()
