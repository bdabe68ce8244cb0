"""/inquiries/new/: a receptionist types in a phone call while on the line."""

import pytest
from django.test import Client

from clinicflow.automation.models import Job
from clinicflow.compliance.models import Consent
from clinicflow.funnel.models import Case
from clinicflow.inbox.models import Inquiry, Message
from clinicflow.patients.models import Patient

from .conftest import WEDNESDAY_10

URL = "/inquiries/new/"

pytestmark = pytest.mark.time_machine(WEDNESDAY_10, tick=False)


def call(moscow, **overrides) -> dict:
    fields = {"phone": "8 916 123-45-67", "full_name": "Ivan Petrov", "branch": moscow.pk,
              "text": "Wants a cardiologist", "consent": "on"}
    fields.update(overrides)
    return fields


def nothing_saved() -> bool:
    return not any(model.objects.exists() for model in (Patient, Inquiry, Message, Consent, Case, Job))


def test_it_shows_the_form(rita_client, moscow):
    response = rita_client.get(URL, {"branch": moscow.pk})
    assert response.status_code == 200
    assert response.context["form"]["branch"].value() == str(moscow.pk)


def test_it_saves_the_call_and_opens_the_inquiry(rita_client, receptionist, moscow):
    response = rita_client.post(URL, call(moscow))
    inquiry = Inquiry.objects.get()
    assert response.status_code == 302
    assert response.url == f"/inquiries/{inquiry.pk}/"
    assert inquiry.channel == "phone"
    assert inquiry.patient.phones == ["+79161234567"]
    assert inquiry.messages.get().body == "Wants a cardiologist"
    assert inquiry.created_by == receptionist


def test_the_receptionist_has_taken_the_inquiry(rita_client, receptionist, moscow):
    rita_client.post(URL, call(moscow))
    inquiry = Inquiry.objects.get()
    assert (inquiry.status, inquiry.taken_by, inquiry.taken_at) == ("taken", receptionist, WEDNESDAY_10)


def test_it_records_the_consent_given_on_the_phone(rita_client, moscow):
    rita_client.post(URL, call(moscow))
    consents = Consent.objects.all()
    assert {(c.purpose, c.source, c.ip_address) for c in consents} == {("processing", "phone", None),
                                                                        ("service", "phone", None)}
    assert all(c.is_valid for c in consents)


def test_it_refuses_an_invalid_phone(rita_client, moscow):
    response = rita_client.post(URL, call(moscow, phone="12-34"))
    assert response.status_code == 200
    assert response.context["form"].errors["phone"] == ["“12-34” is not a valid phone number."]
    assert 'data-error-for="phone"' in response.content.decode()
    assert nothing_saved()


def test_it_refuses_a_call_without_consent(rita_client, moscow):
    fields = call(moscow)
    del fields["consent"]
    response = rita_client.post(URL, fields)
    assert response.status_code == 200
    assert "consent" in response.context["form"].errors["consent"][0]
    assert nothing_saved()


def test_it_shows_every_mistake_at_once(rita_client, moscow):
    fields = call(moscow, phone="nonsense")
    del fields["consent"]
    response = rita_client.post(URL, fields)
    assert set(response.context["form"].errors) == {"phone", "consent"}
    assert nothing_saved()


def test_it_needs_a_branch(rita_client, moscow):
    response = rita_client.post(URL, call(moscow, branch=""))
    assert "branch" in response.context["form"].errors
    assert nothing_saved()


def test_it_offers_only_the_receptionists_own_branches(rita_client, moscow, novosibirsk):
    response = rita_client.get(URL)
    assert list(response.context["form"].fields["branch"].queryset) == [moscow]


def test_it_refuses_a_branch_the_receptionist_does_not_work_for(rita_client, moscow, novosibirsk):
    response = rita_client.post(URL, call(moscow, branch=novosibirsk.pk))
    assert response.status_code == 200
    assert "branch" in response.context["form"].errors
    assert nothing_saved()


def test_it_joins_a_known_patient(rita_client, moscow, receive):
    known = receive("+79161234567", full_name="Ivan Petrov")
    rita_client.post(URL, call(moscow, phone="8 (916) 123 45 67"))
    assert Patient.objects.get() == known.patient
    # Still waiting, so the call joins the inquiry: one queue row, the call a line in its conversation.
    assert known.patient.inquiries.get().messages.filter(kind="call").count() == 1


def test_it_sends_anonymous_visitors_to_log_in(client, moscow):
    response = client.post(URL, call(moscow))
    assert response.status_code == 302
    assert response.url.startswith("/login/")
    assert nothing_saved()


def test_it_refuses_users_who_are_not_staff(django_user_model, moscow):
    client = Client()
    client.force_login(django_user_model.objects.create_user("visitor"))
    assert client.get(URL).status_code == 403
