"""The website widget: its script, its texts in two languages, the allowed origins (CORS), and the form that
works without JavaScript."""

import json

import pytest
from django.test import override_settings

from clinicflow.clinic.models import ClinicSettings
from clinicflow.compliance.models import Consent
from clinicflow.inbox.models import Inquiry

pytestmark = pytest.mark.django_db

SITE = "https://clinic.example"
API = "/api/v1/public/inquiries"


@pytest.fixture(autouse=True)
def widget_on_the_clinic_site(moscow):
    ClinicSettings.objects.update_or_create(pk=1, defaults={"default_branch": moscow})
    with override_settings(CLINICFLOW_WIDGET_ORIGINS=[SITE], CLINICFLOW_CONSENT_TEXT_VERSION="2026-11"):
        yield


def post_json(client, origin=SITE, **fields):
    payload = {"phone": "+7 916 123-45-67", "consent": True, **fields}
    return client.post(API, json.dumps(payload), content_type="application/json", headers={"Origin": origin})


class TestAllowedOrigins:
    def test_the_clinic_site_may_send_and_read_the_answer(self, client):
        response = post_json(client)
        assert response.status_code == 201
        assert response["Access-Control-Allow-Origin"] == SITE
        assert "Origin" in response["Vary"]

    def test_its_preflight_is_answered(self, client):
        response = client.options(API, headers={"Origin": SITE, "Access-Control-Request-Method": "POST",
                                                "Access-Control-Request-Headers": "content-type"})
        assert response.status_code == 204
        assert "POST" in response["Access-Control-Allow-Methods"]
        assert response["Access-Control-Allow-Headers"] == "Content-Type"
        assert "Access-Control-Allow-Credentials" not in response

    def test_another_site_gets_no_permission_to_read_and_its_preflight_is_refused(self, client):
        assert "Access-Control-Allow-Origin" not in post_json(client, origin="https://evil.example")
        preflight = client.options(API, headers={"Origin": "https://evil.example",
                                                 "Access-Control-Request-Method": "POST"})
        assert preflight.status_code == 403

    def test_the_rest_of_the_api_never_answers_other_origins(self, client):
        response = client.get("/api/v1/inquiries", headers={"Origin": SITE})
        assert "Access-Control-Allow-Origin" not in response


class TestScriptAndTexts:
    def test_the_short_address_leads_to_the_script(self, client):
        response = client.get("/widget.js")
        assert response.status_code in (301, 302) and response.url.endswith("clinicflow/widget.js")

    @pytest.mark.parametrize("lang,consent", [("ru", "согласие"), ("en", "I agree")])
    def test_texts_come_in_russian_and_english_with_the_consent_version(self, client, lang, consent):
        config = client.get(f"/api/v1/public/widget?lang={lang}", headers={"Origin": SITE}).json()
        assert config["language"] == lang
        assert config["consent_text_version"] == "2026-11" and "2026-11" in config["consent_text"]
        assert consent in config["consent_text"].lower() or consent in config["consent_text"]
        assert config["branches"][0]["name"] == "Moscow, Tverskaya"
        assert {"title", "phone", "send", "thanks"} <= set(config["labels"])

    def test_an_unknown_language_is_refused_by_name(self, client):
        response = client.get("/api/v1/public/widget?lang=de")
        assert response.status_code == 422

    def test_the_consent_version_shown_is_the_one_stored(self, client):
        post_json(client, consent_text_version="2026-11")
        assert set(Consent.objects.values_list("text_version", flat=True)) == {"2026-11"}


class TestWithoutJavaScript:
    URL = "/widget/form/?utm_source=yandex&utm_campaign=spring&branch="

    def test_the_form_leaves_an_inquiry_with_the_sites_tags(self, client, moscow):
        response = client.post(self.URL, {"phone": "8 916 123-45-67", "full_name": "Anna", "consent": "on",
                                          "text": "Cardiologist, please"},
                               headers={"Referer": "https://clinic.example/cardiology"})
        assert response.status_code == 200 and b"widget-sent" in response.content
        inquiry = Inquiry.objects.get()
        assert (inquiry.channel, inquiry.utm_source, inquiry.utm_campaign, inquiry.page_url) == (
            "web", "yandex", "spring", "https://clinic.example/cardiology")
        assert inquiry.messages.get().body == "Cardiologist, please"

    def test_without_consent_it_says_so_and_saves_nothing(self, client):
        response = client.post(self.URL, {"phone": "8 916 123-45-67"})
        assert "consent" in response.context["form"].errors
        assert not Inquiry.objects.exists()

    def test_a_wrong_phone_is_named(self, client):
        response = client.post(self.URL, {"phone": "12", "consent": "on"})
        assert "phone" in response.context["form"].errors
        assert not Inquiry.objects.exists()

    def test_a_bot_that_fills_the_hidden_field_is_thanked_and_ignored(self, client):
        response = client.post(self.URL, {"phone": "8 916 123-45-67", "consent": "on", "website": "http://spam"})
        assert b"widget-sent" in response.content
        assert not Inquiry.objects.exists()


class TestBookingOffer:
    """While the clinic offers free slots, the widget learns so and which services each branch can book."""

    @pytest.fixture
    def offered(self, db):
        ClinicSettings.objects.filter(pk=1).update(widget_offers_slots=True)

    def config(self, client, lang="en") -> dict:
        return client.get(f"/api/v1/public/widget?lang={lang}", headers={"Origin": SITE}).json()

    def test_while_slots_are_off_it_offers_no_services(self, client, doctor, consultation):
        config = self.config(client)
        assert config["slots_offered"] is False
        assert config["services"] == [] and config["branches"][0]["service_ids"] == []

    def test_it_lists_the_services_a_doctor_of_the_branch_can_see(self, client, offered, moscow, novosibirsk,
                                                                   doctor, consultation):
        config = self.config(client)
        assert config["slots_offered"] is True
        assert config["services"] == [{"id": consultation.pk, "name": "Cardiologist consultation",
                                       "duration_minutes": 30}]
        service_ids = {b["id"]: b["service_ids"] for b in config["branches"]}
        assert service_ids == {moscow.pk: [consultation.pk], novosibirsk.pk: []}

    def test_an_inactive_service_or_one_nobody_there_sees_is_left_out(self, client, offered, moscow, doctor,
                                                                       consultation):
        from clinicflow.clinic.models import Service, Specialty

        Service.objects.create(name="Old ECG", specialty=consultation.specialty, active=False)
        Service.objects.create(name="Dermatologist", specialty=Specialty.objects.create(name="Dermatology"))
        general = Service.objects.create(name="A general check-up", duration_minutes=60)
        config = self.config(client)
        assert [s["name"] for s in config["services"]] == ["A general check-up", "Cardiologist consultation"]
        assert config["branches"][0]["service_ids"] == [general.pk, consultation.pk]

    def test_a_branch_without_doctors_books_no_service_at_all(self, client, offered, moscow):
        from clinicflow.clinic.models import Service

        Service.objects.create(name="A general check-up")
        assert self.config(client)["services"] == []

    @pytest.mark.parametrize("lang,label", [("ru", "Выбрать время"), ("en", "Choose a time")])
    def test_the_booking_step_has_its_labels_in_both_languages(self, client, offered, lang, label):
        labels = self.config(client, lang)["labels"]
        assert labels["choose_time"] == label
        assert {"service", "taken", "booked", "requested", "back", "book"} <= set(labels)
