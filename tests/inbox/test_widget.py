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
