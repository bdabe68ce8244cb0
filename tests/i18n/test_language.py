"""Which language a page speaks: the staff member's choice, else the clinic's default; the log-in page
the browser's, else the clinic's."""

import pytest
from django.urls import reverse

from clinicflow.accounts import middleware
from clinicflow.accounts.models import StaffMember
from clinicflow.clinic.models import ClinicSettings

REAL_CLINIC_DEFAULT = middleware.clinic_default_language


@pytest.fixture(autouse=True)
def clinic_default_applies(monkeypatch):
    """Undo the suite's English (tests/conftest.py): here the clinic's default is the subject."""
    monkeypatch.setattr(middleware, "clinic_default_language", REAL_CLINIC_DEFAULT)


def clinic_speaks(language: str) -> None:
    settings = ClinicSettings.load()
    settings.default_language = language
    settings.save()


def choose(user, language: str) -> None:
    StaffMember.objects.filter(user=user).update(language=language)


QUEUE = "/queue/"


def test_a_new_clinic_speaks_russian(rita_client):
    page = rita_client.get(QUEUE).content.decode()
    assert "Живая очередь" in page
    assert "Live queue" not in page


def test_staff_who_chose_nothing_get_the_clinics_default(rita_client):
    clinic_speaks("en")
    assert "Live queue" in rita_client.get(QUEUE).content.decode()


def test_a_staff_members_choice_wins_over_the_clinic_and_the_browser(rita_client, receptionist):
    clinic_speaks("en")
    choose(receptionist, "ru")
    response = rita_client.get(QUEUE, headers={"Accept-Language": "en-US,en;q=0.9"})
    assert "Живая очередь" in response.content.decode()
    assert response["Content-Language"] == "ru"


def test_english_chosen_stays_english_in_a_russian_clinic(rita_client, receptionist):
    choose(receptionist, "en")
    assert "Live queue" in rita_client.get(QUEUE, headers={"Accept-Language": "ru"}).content.decode()


def test_the_log_in_page_speaks_the_browsers_language(client, db):
    clinic_speaks("ru")
    page = client.get(reverse("login"), headers={"Accept-Language": "en-GB,en;q=0.8"}).content.decode()
    assert "User name" in page


def test_the_log_in_page_speaks_the_clinics_language_to_a_browser_that_asks_for_none_we_have(client, db):
    page = client.get(reverse("login"), headers={"Accept-Language": "de-DE,fr;q=0.5"}).content.decode()
    assert "Имя пользователя" in page
    assert "User name" not in page and "Password" not in page


def test_the_language_switch_remembers_the_choice_and_goes_back(rita_client, receptionist):
    response = rita_client.post(reverse("accounts:language"), {"language": "ru", "next": QUEUE})
    assert response.status_code == 302 and response["Location"] == QUEUE
    assert StaffMember.objects.get(user=receptionist).language == "ru"
    assert response.cookies["django_language"].value == "ru"


def test_the_switch_makes_the_log_in_page_speak_the_choice_after_log_out(rita_client, receptionist):
    clinic_speaks("en")
    rita_client.post(reverse("accounts:language"), {"language": "ru"})
    rita_client.post(reverse("logout"))
    page = rita_client.get(reverse("login"), headers={"Accept-Language": "en"}).content.decode()
    assert "Имя пользователя" in page


def test_choosing_no_language_returns_to_the_clinics_default(rita_client, receptionist):
    choose(receptionist, "en")
    rita_client.post(reverse("accounts:language"), {"language": ""})
    assert StaffMember.objects.get(user=receptionist).language == ""
    assert "Живая очередь" in rita_client.get(QUEUE).content.decode()


def test_an_unknown_language_is_refused(rita_client, receptionist):
    response = rita_client.post(reverse("accounts:language"), {"language": "xx"})
    assert response.status_code == 400
    assert StaffMember.objects.get(user=receptionist).language == ""


def test_the_switch_never_redirects_to_another_site(rita_client):
    response = rita_client.post(reverse("accounts:language"), {"language": "ru", "next": "https://evil.example/"})
    assert response["Location"] == reverse("home")


def test_the_switch_is_for_people_logged_in(client, db):
    response = client.post(reverse("accounts:language"), {"language": "ru"})
    assert response.status_code == 302 and "/login" in response["Location"]


def test_a_superuser_without_a_staff_record_can_choose_too(client, django_user_model):
    boss = django_user_model.objects.create_superuser("boss", password="pass-boss")
    client.force_login(boss)
    client.post(reverse("accounts:language"), {"language": "en"})
    assert StaffMember.objects.get(user=boss).language == "en"


def test_the_page_offers_the_other_language(rita_client):
    page = rita_client.get(QUEUE).content.decode()
    assert 'value="en"' in page and ">English<" in page


def test_the_api_speaks_english_unless_its_client_asks_otherwise(client, db):
    body = {"phone": "not a phone", "consent": True}
    english = client.post("/api/v1/public/inquiries", body, content_type="application/json")
    russian = client.post("/api/v1/public/inquiries", body, content_type="application/json",
                          headers={"Accept-Language": "ru-RU,ru;q=0.9"})
    assert english.status_code == russian.status_code == 422
    assert "not a valid phone number" in str(english.json())
    assert "некорректный номер телефона" in str(russian.json())
