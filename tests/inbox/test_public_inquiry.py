"""POST /api/v1/public/inquiries: the website form and booking widget leave an inquiry."""

from datetime import datetime
from unittest import mock

import pytest
from django.test import Client

from clinicflow.automation.models import Job
from clinicflow.compliance.models import Consent
from clinicflow.funnel.models import Case, Stage
from clinicflow.inbox.models import Inquiry, Message
from clinicflow.inbox.services import ESCALATE_JOB
from clinicflow.patients.models import Patient, PatientIdentity

from .conftest import MOSCOW, WEDNESDAY_10

URL = "/api/v1/public/inquiries"
PAGE = "https://clinic.example/cardiology"


def post(client, **fields):
    return client.post(URL, fields, content_type="application/json")


def valid(**overrides) -> dict:
    fields = {"name": "Ivan Petrov", "phone": "8 (916) 123-45-67", "consent": True, "page_url": PAGE}
    fields.update(overrides)
    return fields


def nothing_saved() -> bool:
    return not any(model.objects.exists() for model in (Patient, PatientIdentity, Inquiry, Message, Consent, Case,
                                                        Job))


def error_locs(response) -> list[list[str]]:
    return [error["loc"] for error in response.json()["detail"]]


def error_for(response, field: str) -> str:
    return next(error["msg"] for error in response.json()["detail"] if error["loc"] == ["body", field])


@pytest.fixture(autouse=True)
def frozen(time_machine):
    time_machine.move_to(WEDNESDAY_10, tick=False)


class TestHappyPath:
    def test_it_answers_201_with_the_new_inquiry(self, visitor, moscow):
        response = post(visitor, **valid())
        assert response.status_code == 201, response.content
        inquiry = Inquiry.objects.get()
        assert response.json() == {"id": inquiry.pk, "status": "new", "duplicate": False}

    def test_it_stores_the_phone_in_e164(self, visitor, moscow):
        post(visitor, **valid())
        patient = Patient.objects.get()
        assert patient.phones == ["+79161234567"]
        assert patient.full_name == "Ivan Petrov"
        assert patient.branch == moscow

    def test_it_records_the_consents_with_the_ip_and_the_page(self, visitor, moscow):
        post(visitor, **valid())
        consents = Consent.objects.all()
        assert {c.purpose for c in consents} == {Consent.Purpose.PROCESSING, Consent.Purpose.SERVICE}
        for consent in consents:
            assert consent.patient == Patient.objects.get()
            assert consent.ip_address == "203.0.113.7"
            assert consent.page_url == PAGE
            assert consent.given_at == consent.confirmed_at == WEDNESDAY_10

    def test_it_puts_the_inquiry_in_the_queue(self, visitor, moscow):
        post(visitor, **valid(comment="Chest pain when climbing stairs", utm_source="yandex",
                              utm_campaign="heart"))
        inquiry = Inquiry.objects.waiting().get()
        assert inquiry.channel == "web"
        assert inquiry.branch == moscow
        assert inquiry.received_at == WEDNESDAY_10
        assert (inquiry.utm_source, inquiry.utm_campaign) == ("yandex", "heart")
        assert inquiry.page_url == PAGE
        assert inquiry.messages.get().body == "Chest pain when climbing stairs"

    def test_it_opens_a_case_at_new(self, visitor, moscow):
        post(visitor, **valid())
        case = Case.objects.get()
        assert case.stage == Stage.NEW
        assert Inquiry.objects.get().case == case

    def test_it_plans_the_escalation_five_working_minutes_later(self, visitor, moscow):
        post(visitor, **valid())
        inquiry = Inquiry.objects.get()
        job = Job.objects.get()
        assert job.kind == ESCALATE_JOB
        assert job.state == Job.State.PENDING
        assert job.due_at == inquiry.response_due_at == datetime(2025, 3, 12, 10, 5, tzinfo=MOSCOW)
        assert job.payload == {"inquiry_id": inquiry.pk}

    def test_it_knows_one_patient_by_any_spelling_of_the_phone(self, visitor, moscow):
        for phone in ("8 (916) 123-45-67", "+7 916 123 45 67", "79161234567"):
            assert post(visitor, **valid(phone=phone)).status_code == 201
        patient = Patient.objects.get()
        assert patient.inquiries.count() == 1  # the later two joined the waiting one
        assert patient.inquiries.get().messages.count() == 2
        assert PatientIdentity.objects.get().address == "+79161234567"
        assert Consent.objects.count() == 2  # processing and service, each once: a valid consent is not duplicated

    def test_it_files_the_inquiry_under_the_chosen_branch(self, visitor, moscow, novosibirsk, cardiology):
        post(visitor, **valid(branch_id=novosibirsk.pk, specialty_id=cardiology.pk))
        inquiry = Inquiry.objects.get()
        assert inquiry.branch == novosibirsk
        assert inquiry.specialty == cardiology


class TestRefusals:
    def test_it_refuses_an_invalid_phone_with_a_clear_message(self, visitor, moscow):
        response = post(visitor, **valid(phone="12345"))
        assert response.status_code == 422
        assert error_locs(response) == [["body", "phone"]]
        assert error_for(response, "phone") == "“12345” is not a valid phone number."
        assert nothing_saved()

    def test_it_refuses_a_missing_phone(self, visitor, moscow):
        response = post(visitor, name="Ivan", consent=True)
        assert response.status_code == 422
        assert error_for(response, "phone") == "Enter a phone number."

    def test_it_refuses_an_inquiry_without_consent(self, visitor, moscow):
        response = post(visitor, **valid(consent=False))
        assert response.status_code == 422
        assert error_locs(response) == [["body", "consent"]]
        assert "consent" in error_for(response, "consent")
        assert nothing_saved()

    def test_it_reports_every_mistake_in_one_answer(self, visitor, moscow):
        response = post(visitor, phone="not a phone", consent=False, specialty_id=999, service_id=998)
        assert response.status_code == 422
        assert sorted(error_locs(response)) == [["body", "consent"], ["body", "phone"], ["body", "service_id"],
                                                ["body", "specialty_id"]]
        assert nothing_saved()

    def test_it_names_an_unknown_branch(self, visitor, moscow):
        response = post(visitor, **valid(branch_id=999))
        assert response.status_code == 422
        assert error_locs(response) == [["body", "branch_id"]]
        assert error_for(response, "branch_id") == "No such branch."
        assert nothing_saved()

    def test_it_names_an_unknown_specialty(self, visitor, moscow):
        response = post(visitor, **valid(specialty_id=999))
        assert response.status_code == 422
        assert error_for(response, "specialty_id") == "No specialty with id 999."
        assert nothing_saved()

    def test_it_names_an_unknown_service(self, visitor, moscow):
        response = post(visitor, **valid(service_id=999))
        assert response.status_code == 422
        assert error_for(response, "service_id") == "No service with id 999."
        assert nothing_saved()

    def test_it_refuses_a_wrongly_typed_field(self, visitor, moscow):
        response = post(visitor, **valid(consent="maybe"))
        assert response.status_code == 422
        assert error_locs(response)[0][-1] == "consent"
        assert nothing_saved()

    def test_it_refuses_a_too_long_name(self, visitor, moscow):
        response = post(visitor, **valid(name="x" * 161))
        assert response.status_code == 422
        assert nothing_saved()

    @pytest.mark.parametrize("body", ["{not json", "{\"phone\": ", "phone=89161234567&consent=1"])
    def test_it_answers_malformed_json_with_a_client_error(self, visitor, moscow, body):
        response = visitor.post(URL, body, content_type="application/json")
        assert response.status_code in (400, 422)
        assert "detail" in response.json()
        assert nothing_saved()

    def test_it_answers_an_empty_body_with_a_client_error(self, visitor, moscow):
        response = visitor.post(URL, "", content_type="application/json")
        assert response.status_code in (400, 422)
        assert nothing_saved()

    def test_it_refuses_an_invalid_email(self, visitor, moscow):
        response = post(visitor, **valid(email="ivan@"))
        assert response.status_code == 422
        assert error_locs(response) == [["body", "email"]]
        assert nothing_saved()

    def test_it_accepts_an_inquiry_without_email(self, visitor, moscow):
        assert post(visitor, **valid(email="")).status_code == 201

    def test_it_saves_nothing_when_a_step_fails_half_way(self, moscow):
        visitor = Client(raise_request_exception=False)
        with mock.patch("clinicflow.inbox.services.event_emit", side_effect=RuntimeError("database went away")):
            response = post(visitor, **valid())
        assert response.status_code == 500
        assert nothing_saved()

    def test_it_refuses_when_the_clinic_has_no_branch_yet(self, visitor, db):
        response = post(visitor, **valid())
        assert response.status_code == 422
        assert error_for(response, "branch_id") == "The clinic has no branch yet."
        assert nothing_saved()


class TestRepeatedDelivery:
    def test_it_creates_nothing_twice_for_the_same_request_id(self, visitor, moscow):
        first = post(visitor, **valid(request_id="form-42"))
        again = post(visitor, **valid(request_id="form-42"))
        assert first.status_code == 201
        assert again.status_code == 200
        assert again.json() == {"id": first.json()["id"], "status": "new", "duplicate": True}
        assert (Patient.objects.count(), Inquiry.objects.count(), Consent.objects.count(), Case.objects.count(),
                Job.objects.count(), Message.objects.count()) == (1, 1, 2, 1, 1, 0)

    def test_the_same_request_id_from_another_visitor_is_another_inquiry(self, visitor, moscow):
        # Widgets pick request ids themselves: two visitors may send the same one.
        post(visitor, **valid(request_id="1"))
        response = post(visitor, **valid(request_id="1", phone="+7 903 455 21 90", name="Bob"))
        assert response.status_code == 201
        assert Inquiry.objects.count() == 2

    def test_a_retry_with_the_phone_spelled_otherwise_is_still_a_duplicate(self, visitor, moscow):
        post(visitor, **valid(request_id="form-9", phone="8 (916) 123-45-67"))
        response = post(visitor, **valid(request_id="form-9", phone="+79161234567"))
        assert response.json()["duplicate"] is True
        assert Inquiry.objects.count() == 1

    def test_it_treats_different_request_ids_as_different_inquiries(self, visitor, moscow):
        post(visitor, **valid(request_id="form-42"))
        response = post(visitor, **valid(request_id="form-43"))
        assert response.status_code == 201
        # Not a duplicate, but the same person still waiting: one row in the queue, two lines in its conversation.
        assert (Inquiry.objects.count(), Message.objects.count(), Patient.objects.count()) == (1, 1, 1)
        assert response.json()["duplicate"] is False


class TestRateLimit:
    @pytest.fixture(autouse=True)
    def limit_of_three(self, settings):
        settings.CLINICFLOW_PUBLIC_RATE_LIMIT = 3

    def test_it_answers_429_after_the_limit(self, visitor, moscow):
        statuses = [post(visitor, **valid(phone=f"+7916123456{n}")).status_code for n in range(4)]
        assert statuses == [201, 201, 201, 429]
        assert Inquiry.objects.count() == 3

    def test_it_explains_the_429(self, visitor, moscow):
        for n in range(3):
            post(visitor, **valid(phone=f"+7916123456{n}"))
        response = post(visitor, **valid(phone="+79161234569"))
        assert response.status_code == 429
        assert "Too many inquiries" in response.json()["detail"]
        assert not Patient.objects.filter(identities__address="+79161234569").exists()

    def test_it_counts_refused_submissions_too(self, visitor, moscow):
        for _ in range(3):
            post(visitor, phone="garbage")
        assert post(visitor, **valid()).status_code == 429

    def test_it_does_not_limit_another_address(self, visitor, client, moscow):
        for n in range(4):
            post(visitor, **valid(phone=f"+7916123456{n}"))
        other = client.post(URL, valid(), content_type="application/json", REMOTE_ADDR="198.51.100.1")
        assert other.status_code == 201

    def test_it_lets_the_address_in_again_in_the_next_minute(self, visitor, moscow, time_machine):
        for n in range(4):
            post(visitor, **valid(phone=f"+7916123456{n}"))
        time_machine.shift(60)
        assert post(visitor, **valid(phone="+79161234569")).status_code == 201


class TestBehindAProxy:
    @pytest.fixture(autouse=True)
    def forwarded_for(self, settings):
        settings.CLINICFLOW_CLIENT_IP_HEADER = "X-Forwarded-For"
        settings.CLINICFLOW_TRUSTED_PROXIES = ["203.0.113.7"]  # the visitor fixture's socket address

    def test_it_records_the_address_from_the_proxy_header(self, visitor, moscow):
        visitor.post(URL, valid(), content_type="application/json",
                     HTTP_X_FORWARDED_FOR="10.9.9.9, 198.51.100.23")
        assert Consent.objects.get(purpose="processing").ip_address == "198.51.100.23"

    def test_it_falls_back_to_the_socket_address_when_the_header_is_not_an_address(self, visitor, moscow):
        response = visitor.post(URL, valid(), content_type="application/json", HTTP_X_FORWARDED_FOR="unknown")
        assert response.status_code == 201
        assert Consent.objects.get(purpose="processing").ip_address == "203.0.113.7"


class TestFieldLocations:
    def test_a_wrong_type_names_the_field_like_every_other_error(self, visitor, moscow):
        response = post(visitor, **valid(consent="perhaps"))
        assert response.status_code == 422
        assert error_locs(response) == [["body", "consent"]]
        assert nothing_saved()

    @pytest.mark.parametrize("field", ["page_url", "referrer"])
    def test_a_page_address_must_be_http(self, visitor, moscow, field):
        response = post(visitor, **valid(**{field: "javascript:alert(1)"}))
        assert response.status_code == 422
        assert "Expected an http(s) address" in error_for(response, field)
        assert nothing_saved()
