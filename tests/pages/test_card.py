"""/patients/<id>/ and /patients/: the patient card and search, behind the access helper."""

import pytest
from django.test import Client

from clinicflow.inbox.services import InquiryDraft, inquiry_receive, inquiry_respond


def card(patient) -> str:
    return f"/patients/{patient.pk}/"


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


class TestCard:
    def test_it_shows_a_patient_of_the_users_branch(self, rita_client, ivan):
        response = rita_client.get(card(ivan))
        assert response.status_code == 200
        content = response.content.decode()
        assert "Ivan Petrov" in content
        assert "+7 916 123-45-67" in content

    def test_it_answers_404_to_another_branch(self, outsider, ivan):
        assert logged_in(outsider).get(card(ivan)).status_code == 404

    def test_a_clinic_admin_sees_every_branch(self, clinic_admin, ivan, nina):
        client = logged_in(clinic_admin)
        assert client.get(card(ivan)).status_code == 200
        assert client.get(card(nina)).status_code == 200

    def test_it_sends_anonymous_visitors_to_log_in(self, client, ivan):
        response = client.get(card(ivan))
        assert response.status_code == 302
        assert response.url == f"/login/?next=/patients/{ivan.pk}/"

    def test_it_refuses_users_who_are_not_staff(self, plain_user, ivan):
        assert logged_in(plain_user).get(card(ivan)).status_code == 403

    def test_it_answers_404_for_an_unknown_patient(self, rita_client, moscow):
        assert rita_client.get("/patients/999999/").status_code == 404

    def test_it_shows_the_timeline_of_inquiries_and_answers(self, rita_client, receptionist, ivan, moscow):
        inquiry, _created = inquiry_receive(draft=InquiryDraft(
            channel="web", phone="+79161234567", consent=True, branch_id=moscow.pk, text="Need a cardiologist"))
        inquiry_respond(inquiry=inquiry, by=receptionist, text="Booked for Friday")
        content = rita_client.get(card(ivan)).content.decode()
        assert "Need a cardiologist" in content
        assert "Booked for Friday" in content


class TestSearch:
    @pytest.mark.parametrize("spelling", ["8 (916) 123-45-67", "+7 916 123 45 67", "79161234567"])
    def test_it_finds_a_patient_by_any_spelling_of_the_phone(self, rita_client, ivan, spelling):
        response = rita_client.get("/patients/", {"q": spelling})
        assert list(response.context["patients"]) == [ivan]

    def test_it_finds_a_patient_by_name(self, rita_client, ivan):
        assert list(rita_client.get("/patients/", {"q": "petrov"}).context["patients"]) == [ivan]

    def test_it_does_not_find_patients_of_another_branch(self, rita_client, ivan, nina):
        assert list(rita_client.get("/patients/", {"q": "+7 923 765-43-21"}).context["patients"]) == []
        assert list(rita_client.get("/patients/", {"q": "Nina"}).context["patients"]) == []

    def test_without_a_query_it_lists_the_newest_patients_of_the_users_branches(self, rita_client, ivan, nina):
        assert list(rita_client.get("/patients/").context["patients"]) == [ivan]

    def test_it_sends_anonymous_visitors_to_log_in(self, client, moscow):
        assert client.get("/patients/", {"q": "Ivan"}).status_code == 302
