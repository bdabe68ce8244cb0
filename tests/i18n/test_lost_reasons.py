"""The lost reasons a clinic starts with read in each person's language; the ones it types read as typed.

They are rows (a data migration seeds them in English), so gettext cannot translate them where they are
written: they are stored by their English name and translated where they are shown, so one lost case reads
«Дорого» on a Russian board and "Too expensive" to an English integration.
"""

import pytest
from django.urls import reverse
from django.utils import translation

from clinicflow.accounts.models import Role, StaffMember
from clinicflow.funnel.models import Case, LostReason, Stage, lost_words_shown
from clinicflow.funnel.services import case_move, case_open_for, lost_reason_named, lost_reasons_offered
from clinicflow.patients.services import patient_resolve
from tests.conftest import make_staff

pytestmark = pytest.mark.django_db

SEEDED_IN_RUSSIAN = ["Дорого", "Не дозвонились", "Выбрал другую клинику", "Нет удобного времени", "Передумал",
                     "Спам", "Дубль"]


@pytest.fixture
def case(moscow, receptionist) -> Case:
    patient, _ = patient_resolve(branch=moscow, phone="+79161234567", full_name="Ivan Petrov")
    return case_open_for(patient=patient, branch=moscow, by=receptionist)[0]


def lose(case: Case, name: str, note: str = "", language: str = "ru") -> Case:
    """Move to Lost as a person working in `language` does, with a reason from the list."""
    with translation.override(language):
        return case_move(case=case, to_stage=Stage.LOST, reason=note, lost_reason=LostReason.objects.get(name=name))


def test_the_list_a_clinic_starts_with_is_offered_in_russian():
    with translation.override("ru"):
        assert [reason.label for reason in lost_reasons_offered()] == SEEDED_IN_RUSSIAN


def test_a_reason_the_clinic_typed_is_offered_as_typed_in_both_languages():
    LostReason.objects.create(name="Переехал в другой город", position=99)
    LostReason.objects.create(name="Wrong number", position=100)
    LostReason.objects.create(name="Closed", position=101)  # a word the catalogue translates elsewhere
    for language in ("ru", "en"):
        with translation.override(language):
            assert [reason.label for reason in lost_reasons_offered()][-3:] == [
                "Переехал в другой город", "Wrong number", "Closed"]


def test_a_reason_moved_in_russian_is_stored_by_its_name_and_read_in_each_language(case):
    case = lose(case, "Too expensive", note="хочет дешевле")
    assert case.lost_reason == "Too expensive: хочет дешевле"
    with translation.override("ru"):
        assert case.lost_reason_shown == "Дорого: хочет дешевле"
        assert case.transitions.last().reason_shown == "Дорого: хочет дешевле"
    with translation.override("en"):
        assert case.lost_reason_shown == "Too expensive: хочет дешевле"


def test_a_note_that_already_names_the_reason_in_russian_is_kept_as_typed(case):
    case = lose(case, "Too expensive", note="Дорого, подумает")
    assert case.lost_reason == "Дорого, подумает"


@pytest.mark.parametrize("text", ["Спам", "спам: бот", "Дубль #12"])
def test_a_russian_desk_names_a_junk_reason_in_russian(text):
    with translation.override("ru"):
        assert lost_reason_named(text, closing_inquiries=True) is not None


@pytest.mark.parametrize("text", ["Moved to Kazan", "Wrong number: 12", "", "Spammy", "Closed: moved away"])
def test_words_that_are_no_listed_name_are_shown_as_typed(text):
    with translation.override("ru"):
        assert lost_words_shown(text) == text


def test_the_russian_board_shows_the_reason_in_russian(case, rita_client, receptionist):
    lose(case, "No answer", language="en")
    StaffMember.objects.filter(user=receptionist).update(language="ru")
    page = rita_client.get(reverse("funnel:board") + "?lost=1").content.decode()
    assert "Не дозвонились" in page
    assert "No answer" not in page


def test_the_board_offers_the_russian_list_when_it_asks_for_a_reason(case, rita_client, receptionist):
    StaffMember.objects.filter(user=receptionist).update(language="ru")
    response = rita_client.post(reverse("funnel:move", args=[case.pk]), {"stage": Stage.LOST, "reason": ""},
                                headers={"HX-Request": "true"})
    page = response.content.decode()
    assert "Почему сделка потеряна?" in page
    assert all(f">{name}</option>" in page for name in SEEDED_IN_RUSSIAN)


def test_the_api_gives_the_reason_in_the_clients_language_english_by_default(case, client, auth):
    lose(case, "Chose another clinic", note="ближе к дому")
    english = client.get(f"/api/v1/cases/{case.pk}", **auth).json()
    russian = client.get(f"/api/v1/cases/{case.pk}", headers={"Accept-Language": "ru"}, **auth).json()
    assert english["lost_reason"] == "Chose another clinic: ближе к дому"
    assert russian["lost_reason"] == "Выбрал другую клинику: ближе к дому"
    assert russian["transitions"][-1]["reason"] == "Выбрал другую клинику: ближе к дому"


class TestTheApiRefusesInTheClientsLanguage:
    """Refusals the API wrote in plain English now follow Accept-Language (English unless asked)."""

    def test_a_transfer_to_a_missing_branch(self, case, client, auth):
        url, body = f"/api/v1/cases/{case.pk}/transfer", {"branch_id": 999999, "reason": "closer"}
        english = client.post(url, body, content_type="application/json", **auth)
        russian = client.post(url, body, content_type="application/json", headers={"Accept-Language": "ru"}, **auth)
        assert english.status_code == russian.status_code == 422
        assert english.json()["detail"][0]["msg"] == "No such branch."
        assert russian.json()["detail"][0]["msg"] == "Такого филиала нет."

    def test_a_booking_with_a_missing_doctor(self, ivan, client, auth):
        body = {"patient_id": ivan.pk, "doctor_id": 999999, "starts_at": "2030-01-10T10:00:00+03:00"}
        russian = client.post("/api/v1/appointments", body, content_type="application/json",
                              headers={"Accept-Language": "ru"}, **auth)
        assert russian.status_code == 422
        assert russian.json()["detail"][0]["msg"] == "Нет врача с таким ID."

    def test_a_person_whose_role_reads_no_patients(self, ivan, client, bearer):
        marketer = make_staff("mia", Role.MARKETER)
        response = client.get(f"/api/v1/patients/{ivan.pk}", headers={"Accept-Language": "ru"}, **bearer(marketer))
        assert response.status_code == 403, response.content
        assert response.json()["detail"] == "Вам это недоступно."
