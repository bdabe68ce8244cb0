"""The schedule screen: a receptionist books, moves and cancels from doctors × days."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from clinicflow.funnel.models import Stage
from clinicflow.funnel.services import case_open_for
from clinicflow.scheduling.models import Appointment, DoctorHours
from clinicflow.scheduling.services import appointment_book

MSK = ZoneInfo("Europe/Moscow")
FRIDAY_NOON = datetime(2026, 11, 27, 12, tzinfo=MSK)
MONDAY = date(2026, 11, 30)
pytestmark = [pytest.mark.django_db, pytest.mark.time_machine(FRIDAY_NOON, tick=False)]


def at(hour: int, minute: int = 0, day: date = MONDAY) -> datetime:
    return datetime.combine(day, time(hour, minute), MSK)


def slot(doctor, when: datetime) -> str:
    return f"{doctor.pk}|{when.isoformat()}"


@pytest.fixture
def mornings(doctor, moscow):
    DoctorHours.objects.create(doctor=doctor, branch=moscow, weekday=0, starts=time(9), ends=time(12))


class TestTheScreen:
    def test_it_shows_the_doctors_free_times_in_the_week(self, rita_client, doctor, mornings, ivan):
        response = rita_client.get("/schedule/", {"patient": ivan.pk, "date": "2026-11-30"})
        assert response.status_code == 200
        page = response.content.decode()
        assert "Dr. Anna Petrova" in page and "Booking for" in page and "Ivan Petrov" in page
        assert f'value="{doctor.pk}|2026-11-30T06:00:00+00:00"' in page  # 09:00 in Moscow
        assert "11:30" in page and "12:00" not in page.split("cf-slots", 1)[1].split("</tbody>")[0]

    def test_an_htmx_request_gets_only_the_grid(self, rita_client, doctor, mornings):
        response = rita_client.get("/schedule/", {"date": "2026-11-30", "view": "day"}, headers={"HX-Request": "true"})
        page = response.content.decode()
        assert page.lstrip().startswith('<div id="schedule-grid">') and "<html" not in page

    def test_without_a_patient_slots_are_shown_but_not_bookable(self, rita_client, doctor, mornings):
        page = rita_client.get("/schedule/", {"date": "2026-11-30"}).content.decode()
        assert "cf-slot-free" in page and 'form="book-form"' not in page

    def test_the_zone_is_named_when_it_differs_from_the_viewers(self, rita_client, receptionist, moscow,
                                                                 novosibirsk, doctor):
        assert "Times in Europe/Moscow" not in rita_client.get("/schedule/").content.decode()
        # Working for two branches, her own zone is the clinic's (UTC): every branch's zone is named.
        receptionist.staff.branches.add(novosibirsk)
        page = rita_client.get("/schedule/", {"branch": novosibirsk.pk}).content.decode()
        assert "Times in Asia/Novosibirsk, the branch's zone" in page

    def test_a_foreign_patient_is_not_found(self, rita_client, nina):
        assert rita_client.get("/schedule/", {"patient": nina.pk}).status_code == 404

    def test_bad_filters_fall_away(self, rita_client, doctor):
        assert rita_client.get("/schedule/", {"date": "2026-13-45", "view": "year", "doctor": "x"}).status_code == 200


class TestBookingFromTheScreen:
    def test_a_click_on_a_free_time_books_it_and_moves_the_case(self, rita_client, ivan, doctor, mornings,
                                                                 receptionist):
        case, _ = case_open_for(patient=ivan, branch=ivan.branch)
        response = rita_client.post("/schedule/book/", {"patient": ivan.pk, "case": case.pk, "branch": ivan.branch_id,
                                                        "slot": slot(doctor, at(10))})
        assert response.status_code == 302
        appointment = Appointment.objects.get()
        assert (appointment.local_starts_at, appointment.created_by, appointment.case) == (at(10), receptionist, case)
        case.refresh_from_db()
        assert case.stage == Stage.REMINDER
        assert "Booked: Dr. Anna Petrova, 30.11.2026 10:00." in rita_client.get(response.url).content.decode()

    def test_the_mis_slot_of_the_button_is_kept_for_the_push(self, rita_client, ivan, doctor, moscow, settings):
        settings.CLINICFLOW_MIS_BASE_URL = "http://mis.local/fhir"
        rita_client.post("/schedule/book/", {"patient": ivan.pk, "branch": moscow.pk,
                                             "slot": f"{slot(doctor, at(10))}|slot-7"})
        assert Appointment.objects.get().mis_slot_id == "slot-7"

    def test_a_time_just_taken_answers_with_alternatives(self, rita_client, ivan, nina, doctor, mornings, moscow):
        appointment_book(patient=nina, doctor=doctor, branch=moscow, starts_at=at(10))
        response = rita_client.post("/schedule/book/", {"patient": ivan.pk, "branch": moscow.pk,
                                                        "slot": slot(doctor, at(10))})
        assert response.status_code == 409
        page = response.content.decode()
        assert "This time was just taken." in page and "Free instead:" in page
        assert Appointment.objects.count() == 1

    def test_a_closed_time_is_refused_with_the_reason(self, rita_client, ivan, doctor, moscow):
        response = rita_client.post("/schedule/book/", {"patient": ivan.pk, "branch": moscow.pk,
                                                        "slot": slot(doctor, at(3, day=date(2026, 11, 29)))})
        assert response.status_code == 422
        assert "is closed at 29.11.2026 03:00" in response.content.decode()

    def test_garbage_is_a_clear_error(self, rita_client, ivan, moscow):
        response = rita_client.post("/schedule/book/", {"patient": ivan.pk, "branch": moscow.pk, "slot": "x|y"})
        assert response.status_code == 422 and "Choose a patient, a doctor and a time." in response.content.decode()

    def test_an_outsider_cannot_book_for_a_foreign_patient(self, client, outsider, ivan, doctor, moscow):
        client.force_login(outsider)
        response = client.post("/schedule/book/", {"patient": ivan.pk, "branch": moscow.pk,
                                                   "slot": slot(doctor, at(10))})
        assert response.status_code == 404 and not Appointment.objects.exists()


class TestMoveAndCancel:
    def test_a_visit_moves_to_another_free_time(self, rita_client, ivan, doctor, mornings):
        appointment = appointment_book(patient=ivan, doctor=doctor, branch=ivan.branch, starts_at=at(10))
        page = rita_client.get("/schedule/", {"appointment": appointment.pk}).content.decode()
        assert "Moving the visit of Ivan Petrov" in page
        response = rita_client.post(f"/appointments/{appointment.pk}/reschedule/", {"slot": slot(doctor, at(11))})
        assert response.status_code == 302
        appointment.refresh_from_db()
        assert appointment.local_starts_at == at(11)

    def test_a_visit_is_cancelled_with_a_reason(self, rita_client, ivan, doctor, mornings):
        appointment = appointment_book(patient=ivan, doctor=doctor, branch=ivan.branch, starts_at=at(10))
        response = rita_client.post(f"/appointments/{appointment.pk}/cancel/", {"reason": "Will call back"})
        assert response.status_code == 302
        appointment.refresh_from_db()
        assert appointment.status == Appointment.Status.CANCELLED

    def test_an_outsider_can_neither_move_nor_cancel(self, client, outsider, ivan, doctor, mornings):
        appointment = appointment_book(patient=ivan, doctor=doctor, branch=ivan.branch, starts_at=at(10))
        client.force_login(outsider)
        assert client.post(f"/appointments/{appointment.pk}/cancel/").status_code == 404
        assert client.post(f"/appointments/{appointment.pk}/reschedule/",
                           {"slot": slot(doctor, at(11))}).status_code == 404
        appointment.refresh_from_db()
        assert (appointment.status, appointment.local_starts_at) == (Appointment.Status.BOOKED, at(10))
