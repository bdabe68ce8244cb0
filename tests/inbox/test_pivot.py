"""Regression: a phone number must not be a key to another branch's patient.

An outside probe sent an anonymous public inquiry with a Novosibirsk patient's phone and Moscow's branch id:
the patient's open case moved to Moscow and their card, with Novosibirsk's visits and messages, became
readable there. It also filled a blank e-mail and recorded consent for a number anyone can type.
"""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from clinicflow.compliance.models import Consent
from clinicflow.compliance.services import consent_allows
from clinicflow.funnel.models import Case
from clinicflow.inbox.models import Inquiry
from clinicflow.inbox.services import InquiryDraft, inquiry_receive, inquiry_respond
from clinicflow.scheduling.services import appointment_book

NINA_PHONE = "+79237654321"
# Before the visit booked below: a booking in the past is refused.
pytestmark = pytest.mark.time_machine(datetime(2026, 11, 20, 12, tzinfo=ZoneInfo("Asia/Novosibirsk")), tick=False)


@pytest.fixture
def nina_at_home(novosibirsk, outsider, cardiology):
    """Nina's story in Novosibirsk: an inquiry answered, a case, a visit booked."""
    from clinicflow.clinic.models import Doctor

    inquiry, _ = inquiry_receive(draft=InquiryDraft(channel="phone", phone=NINA_PHONE, full_name="Nina Sokolova",
                                                    consent=True, branch_id=novosibirsk.pk, text="Secret words"),
                                 created_by=outsider)
    inquiry_respond(inquiry=inquiry, by=outsider, text="Booked at Lenina")
    doctor = Doctor.objects.create(full_name="Dr. Fedorova")
    doctor.branches.add(novosibirsk)
    appointment_book(patient=inquiry.patient, doctor=doctor, branch=novosibirsk, case=inquiry.case, by=outsider,
                     starts_at=datetime(2026, 12, 7, 10, tzinfo=ZoneInfo("Asia/Novosibirsk")))
    return inquiry


def pivot(client, moscow, **fields):
    return client.post("/api/v1/public/inquiries", {"phone": "8 923 765-43-21", "branch_id": moscow.pk,
                                                    "consent": True, **fields}, content_type="application/json")


def test_an_anonymous_inquiry_does_not_move_the_open_case(client, moscow, novosibirsk, nina_at_home):
    assert pivot(client, moscow).status_code == 201
    home_case = Case.objects.get(pk=nina_at_home.case_id)
    assert home_case.branch == novosibirsk
    pivoted = Inquiry.objects.exclude(pk=nina_at_home.pk).get()
    assert pivoted.case.branch == moscow and pivoted.case != home_case


def test_moscow_sees_the_inquiry_and_the_person_but_not_novosibirsks_story(rita_client, client, moscow,
                                                                           nina_at_home):
    pivot(client, moscow, comment="What the sender typed")
    pivoted = Inquiry.objects.exclude(pk=nina_at_home.pk).get()
    inquiry_page = rita_client.get(f"/inquiries/{pivoted.pk}/").content.decode()
    assert "What the sender typed" in inquiry_page
    card = rita_client.get(f"/patients/{nina_at_home.patient_id}/")
    assert card.status_code == 200
    content = card.content.decode()
    assert "Secret words" not in content and "Booked at Lenina" not in content and "Dr. Fedorova" not in content
    assert list(card.context["appointments"]) == [] and list(card.context["cases"]) == [pivoted.case]
    assert rita_client.get(f"/inquiries/{nina_at_home.pk}/").status_code == 404
    assert rita_client.get(f"/api/v1/appointments?patient_id={nina_at_home.patient_id}").json() == []


def test_a_receptionist_filing_a_known_number_does_not_move_the_case_either(rita_client, moscow, novosibirsk,
                                                                            nina_at_home):
    response = rita_client.post("/inquiries/new/", {"phone": NINA_PHONE, "branch": moscow.pk, "consent": "on"})
    assert response.status_code == 302
    assert Case.objects.get(pk=nina_at_home.case_id).branch == novosibirsk


def test_anonymous_input_never_changes_the_stored_patient(client, moscow, nina_at_home):
    patient = nina_at_home.patient
    pivot(client, moscow, name="Someone Else", email="attacker@example.com")
    patient.refresh_from_db()
    assert (patient.full_name, patient.email) == ("Nina Sokolova", "")
    pivoted = Inquiry.objects.exclude(pk=nina_at_home.pk).get()
    assert (pivoted.given_name, pivoted.given_email) == ("Someone Else", "attacker@example.com")


def test_a_consent_claimed_for_a_known_number_waits_for_the_number(client, moscow, nina_at_home):
    patient = nina_at_home.patient
    patient.consents.all().delete()
    pivot(client, moscow, marketing_consent=True)
    consents = Consent.objects.filter(patient=patient)
    assert consents.count() == 3 and all(c.is_pending for c in consents)
    assert not consent_allows(patient, Consent.Purpose.SERVICE, "sms")


def test_the_front_desk_applies_what_the_person_confirmed(rita_client, client, moscow, nina_at_home):
    pivot(client, moscow, email="nina@example.com")
    pivoted = Inquiry.objects.exclude(pk=nina_at_home.pk).get()
    page = rita_client.get(f"/inquiries/{pivoted.pk}/")
    assert page.context["given_differs"] == {"email": "nina@example.com"}
    rita_client.post(f"/inquiries/{pivoted.pk}/apply-given/", {"field": "email"})
    nina_at_home.patient.refresh_from_db()
    assert nina_at_home.patient.email == "nina@example.com"
    assert pivoted.messages.filter(direction="note").exists()


def test_another_branch_may_not_apply_given_values(client, outsider, moscow, nina_at_home):
    pivot(client, moscow, email="nina@example.com")
    pivoted = Inquiry.objects.exclude(pk=nina_at_home.pk).get()
    client.force_login(outsider)
    assert client.post(f"/inquiries/{pivoted.pk}/apply-given/", {"field": "email"}).status_code == 404


class TestTransfer:
    def test_a_case_moves_only_by_an_explicit_recorded_transfer(self, client, bearer, outsider, moscow,
                                                                nina_at_home):
        case = nina_at_home.case
        response = client.post(f"/api/v1/cases/{case.pk}/transfer", {"branch_id": moscow.pk, "reason": "Moved"},
                               content_type="application/json", **bearer(outsider))
        assert response.status_code == 200, response.content
        case.refresh_from_db()
        assert case.branch == moscow
        last = case.transitions.last()
        assert (last.from_branch_id, last.to_branch_id, last.reason, last.by) == (
            nina_at_home.branch_id, moscow.pk, "Moved", outsider)

    def test_it_needs_a_reason_and_the_right_to_change_the_case(self, client, bearer, receptionist, outsider,
                                                                moscow, nina_at_home):
        case = nina_at_home.case
        url = f"/api/v1/cases/{case.pk}/transfer"
        body = {"branch_id": moscow.pk, "reason": ""}
        assert client.post(url, body, content_type="application/json", **bearer(outsider)).status_code == 422
        body["reason"] = "Take it"
        assert client.post(url, body, content_type="application/json", **bearer(receptionist)).status_code == 404
