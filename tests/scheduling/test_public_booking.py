"""The widget's public slots and bookings: offered only when the clinic says so, atomic, idempotent."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from clinicflow.automation.models import Job
from clinicflow.clinic.models import ClinicSettings
from clinicflow.funnel.models import Stage
from clinicflow.inbox.models import Inquiry
from clinicflow.patients.services import patient_resolve
from clinicflow.scheduling.models import Appointment, DoctorHours
from clinicflow.scheduling.services import appointment_book

MSK = ZoneInfo("Europe/Moscow")
FRIDAY_NOON = datetime(2026, 11, 27, 12, tzinfo=MSK)
MONDAY = date(2026, 11, 30)
pytestmark = [pytest.mark.django_db, pytest.mark.time_machine(FRIDAY_NOON, tick=False)]


def at(hour: int, minute: int = 0) -> datetime:
    return datetime.combine(MONDAY, time(hour, minute), MSK)


@pytest.fixture
def offered(db):
    settings = ClinicSettings.load()
    settings.widget_offers_slots = True
    settings.save()


@pytest.fixture
def mornings(doctor, moscow):
    DoctorHours.objects.create(doctor=doctor, branch=moscow, weekday=0, starts=time(9), ends=time(11))


def booking(moscow, doctor, when=None, **fields) -> dict:
    return {"name": "Anna Smirnova", "phone": "+7 916 000-11-22", "consent": True, "branch_id": moscow.pk,
            "slot": {"doctor_id": doctor.pk, "starts_at": (when or at(10)).isoformat()}, "request_id": "w-1",
            **fields}


def post(client, body):
    return client.post("/api/v1/public/bookings", body, content_type="application/json")


class TestSlots:
    def test_they_are_not_found_while_the_clinic_does_not_offer_them(self, client, moscow, doctor):
        assert client.get("/api/v1/public/slots", {"branch_id": moscow.pk}).status_code == 404
        assert post(client, booking(moscow, doctor)).status_code == 404

    def test_they_list_free_times_with_the_doctor_and_the_zone(self, client, offered, moscow, doctor, mornings,
                                                             consultation):
        response = client.get("/api/v1/public/slots", {"branch_id": moscow.pk, "service_id": consultation.pk,
                                                       "date_from": "2026-11-30", "days": 1})
        assert response.status_code == 200
        body = response.json()
        assert body["time_zone"] == "Europe/Moscow"
        assert [s["starts_at"] for s in body["slots"]] == [
            "2026-11-30T06:00:00Z", "2026-11-30T06:30:00Z", "2026-11-30T07:00:00Z", "2026-11-30T07:30:00Z"]
        assert body["slots"][0]["doctor_name"] == "Dr. Anna Petrova"

    def test_with_the_mis_down_the_widget_is_told_to_offer_a_call_back(self, client, offered, moscow, settings,
                                                                         monkeypatch):
        from clinicflow.scheduling import slots

        settings.CLINICFLOW_MIS_BASE_URL = "http://mis.local/fhir"
        monkeypatch.setattr(slots, "_source", {})
        slots.register_slot_source(lambda **kwargs: 1 / 0)
        response = client.get("/api/v1/public/slots", {"branch_id": moscow.pk})
        assert response.status_code == 503 and "call you back" in response.json()["detail"]

    def test_bad_input_names_the_field(self, client, offered, moscow):
        response = client.get("/api/v1/public/slots", {"branch_id": moscow.pk, "days": 99})
        assert response.status_code == 422 and response.json()["detail"][0]["loc"][-1] == "days"
        response = client.get("/api/v1/public/slots", {"branch_id": 999999})
        assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body", "branch_id"]


class TestBookings:
    def test_a_booking_files_an_inquiry_and_books_the_slot(self, client, offered, moscow, doctor, mornings):
        response = post(client, booking(moscow, doctor))
        assert response.status_code == 201
        body = response.json()
        assert (body["status"], body["starts_at"], body["duplicate"]) == ("booked", "2026-11-30T07:00:00Z", False)
        inquiry = Inquiry.objects.get(pk=body["inquiry_id"])
        appointment = Appointment.objects.get()
        assert (inquiry.channel, appointment.source, appointment.patient) == ("web", "widget", inquiry.patient)
        inquiry.case.refresh_from_db()
        assert inquiry.case.stage == Stage.REMINDER

    def test_sending_it_again_creates_nothing_twice(self, client, offered, moscow, doctor, mornings):
        first = post(client, booking(moscow, doctor)).json()
        again = post(client, booking(moscow, doctor))
        assert again.status_code == 200 and again.json()["duplicate"] is True
        assert again.json()["inquiry_id"] == first["inquiry_id"]
        assert (Inquiry.objects.count(), Appointment.objects.count()) == (1, 1)

    def test_a_taken_time_is_409_with_alternatives_and_the_inquiry_is_kept(self, client, offered, moscow, doctor,
                                                                          mornings):
        other = patient_resolve(branch=moscow, phone="+79169999999")[0]
        appointment_book(patient=other, doctor=doctor, branch=moscow, starts_at=at(10))
        response = post(client, booking(moscow, doctor))
        assert response.status_code == 409
        body = response.json()
        assert body["detail"] == "This time was just taken."
        assert [s["starts_at"] for s in body["alternatives"]][:3] == [
            "2026-11-30T06:00:00Z", "2026-11-30T06:30:00Z", "2026-11-30T07:30:00Z"]
        assert Inquiry.objects.filter(pk=body["inquiry_id"]).exists()
        # The same request with one of the alternatives books it for the same inquiry.
        retry = post(client, booking(moscow, doctor, when=at(10, 30)))
        assert retry.status_code == 201 and retry.json()["inquiry_id"] == body["inquiry_id"]
        assert retry.json()["starts_at"] == "2026-11-30T07:30:00Z"

    def test_a_closed_time_is_refused_naming_the_slot(self, client, offered, moscow, doctor):
        response = post(client, booking(moscow, doctor, when=datetime(2026, 11, 29, 3, tzinfo=MSK)))
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["body", "slot"]
        assert not Appointment.objects.exists()

    def test_missing_consent_is_refused_and_nothing_is_stored(self, client, offered, moscow, doctor, mornings):
        response = post(client, booking(moscow, doctor, consent=False))
        assert response.status_code == 422
        assert not Inquiry.objects.exists() and not Appointment.objects.exists()

    def test_with_an_mis_the_booking_waits_for_it_and_says_we_call_back(self, client, offered, moscow, doctor,
                                                                        settings):
        settings.CLINICFLOW_MIS_BASE_URL = "http://mis.local/fhir"
        response = post(client, booking(moscow, doctor))
        assert response.status_code == 201
        assert response.json()["status"] == "requested" and "call you back" in response.json()["message"]
        assert Job.objects.filter(kind="mis.appointment_push").count() == 1

    def test_it_is_rate_limited(self, client, offered, moscow, doctor, settings):
        settings.CLINICFLOW_PUBLIC_SLOTS_RATE_LIMIT = 2
        answers = [client.get("/api/v1/public/slots", {"branch_id": moscow.pk}).status_code for _ in range(3)]
        assert answers == [200, 200, 429]
