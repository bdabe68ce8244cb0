"""/patients/: the hits under the menu's search box as one types, both name orders, and "create a patient"."""

import pytest

from clinicflow.accounts.models import Role
from clinicflow.compliance.models import AccessLogEntry, Consent
from clinicflow.inbox.services import InquiryDraft, inquiry_receive
from clinicflow.patients.models import Patient
from tests.conftest import make_staff

URL = "/patients/"
HTMX = {"HTTP_HX_REQUEST": "true"}


def hits(client, query: str) -> str:
    response = client.get(URL, {"q": query}, **HTMX)
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def anna(moscow):
    draft = InquiryDraft(channel="web", phone="+79161110022", full_name="Иванова Анна Петровна", consent=True,
                         branch_id=moscow.pk)
    inquiry, _created = inquiry_receive(draft=draft)
    return inquiry


class TestHits:
    @pytest.mark.parametrize("query", ["Иванова Анна", "Анна Иванова", "анна иванова", "Anna", "Петровна Анна"])
    def test_a_name_matches_in_either_order(self, rita_client, anna, query):
        found = hits(rita_client, query)
        if query == "Anna":
            assert "Иванова" not in found
        else:
            assert "Иванова Анна Петровна" in found

    def test_a_fragment_comes_without_the_page_around_it(self, rita_client, anna):
        found = hits(rita_client, "Анна")
        assert "<nav" not in found and 'id="search-hits-list"' in found

    def test_one_hit_names_the_card_that_enter_opens(self, rita_client, anna):
        assert f'data-single="/patients/{anna.patient_id}/"' in hits(rita_client, "Анна Иванова")

    def test_an_inquiry_and_a_case_are_found_by_number(self, rita_client, anna):
        assert f"/inquiries/{anna.pk}/" in hits(rita_client, f"#{anna.pk}")
        assert f"Case #{anna.case_id}" in hits(rita_client, str(anna.case_id))

    def test_the_patients_inquiries_and_cases_come_along(self, rita_client, anna):
        found = hits(rita_client, "Иванова")
        assert f"/inquiries/{anna.pk}/" in found and f"Case #{anna.case_id}" in found

    def test_nothing_found_offers_to_create_a_patient_with_what_was_typed(self, rita_client, anna):
        assert "/patients/new/?phone=%2B7+900+000-00-00" in hits(rita_client, "+7 900 000-00-00")
        assert "/patients/new/?full_name=Nobody" in hits(rita_client, "Nobody")

    def test_an_empty_box_gets_no_list(self, rita_client, anna):
        assert hits(rita_client, "  ") == ""

    def test_each_patient_shown_is_logged(self, rita_client, anna):
        hits(rita_client, "Анна")
        assert AccessLogEntry.objects.filter(action=AccessLogEntry.Action.SEARCH, patient_id=anna.patient_id).exists()

    def test_another_branchs_patients_inquiries_and_cases_stay_hidden(self, client, outsider, anna):
        client.force_login(outsider)
        found = hits(client, str(anna.pk)) + hits(client, "Анна")
        assert "Иванова" not in found and f"/inquiries/{anna.pk}/" not in found

    def test_a_long_query_is_cut_not_refused(self, rita_client, anna, settings):
        assert hits(rita_client, "Анна" + "x" * (settings.CLINICFLOW_SEARCH_MAX_LENGTH * 5)) is not None

    def test_a_marketer_is_refused(self, client, db):
        client.force_login(make_staff("mark", Role.MARKETER))
        assert client.get(URL, {"q": "Анна"}, **HTMX).status_code == 403


class TestEnterOnTheMenuBox:
    def test_one_patient_opens_the_card(self, rita_client, ivan):
        response = rita_client.get(URL, {"q": "Petrov Ivan", "open": "1"})
        assert response.url == f"/patients/{ivan.pk}/"

    def test_several_show_the_list(self, rita_client, ivan, moscow):
        Patient.objects.create(full_name="Ivan Sidorov", branch=moscow)
        assert rita_client.get(URL, {"q": "Ivan", "open": "1"}).status_code == 200


class TestCreateAPatient:
    def test_it_creates_the_card_with_the_consent_and_opens_it(self, rita_client, moscow):
        response = rita_client.post("/patients/new/", {"phone": "8 900 555-12-34", "full_name": "Olga Lebedeva",
                                                       "branch": moscow.pk, "consent": "on"})
        patient = Patient.objects.get(full_name="Olga Lebedeva")
        assert response.url == f"/patients/{patient.pk}/"
        assert patient.identities.get().address == "+79005551234"
        assert set(patient.consents.values_list("purpose", flat=True)) == {Consent.Purpose.PROCESSING,
                                                                           Consent.Purpose.SERVICE}

    def test_it_asks_for_the_phone_and_the_consent(self, rita_client, moscow):
        content = rita_client.post("/patients/new/", {"phone": "12", "full_name": "X"}).content.decode()
        assert "consent" in content and not Patient.objects.filter(full_name="X").exists()

    def test_a_known_phone_opens_that_card_and_fills_its_blanks(self, rita_client, moscow, ivan):
        ivan.full_name = ""
        ivan.save()
        response = rita_client.post("/patients/new/", {"phone": "+7 916 123-45-67", "full_name": "Ivan Petrov",
                                                       "consent": "on"})
        assert response.url == f"/patients/{ivan.pk}/"
        ivan.refresh_from_db()
        assert ivan.full_name == "Ivan Petrov" and Patient.objects.count() == 1

    def test_another_branchs_patient_is_neither_opened_nor_changed(self, rita_client, moscow, nina):
        response = rita_client.post("/patients/new/", {"phone": "+7 923 765-43-21", "full_name": "Someone",
                                                       "consent": "on"})
        content = response.content.decode()
        assert response.status_code == 200 and "another branch" in content
        assert "765" not in content
        nina.refresh_from_db()
        assert nina.full_name == "Nina Sokolova" and Patient.objects.count() == 1

    def test_the_form_starts_from_what_was_searched(self, rita_client, moscow):
        assert 'value="+7 900"' in rita_client.get("/patients/new/?phone=%2B7+900").content.decode()
