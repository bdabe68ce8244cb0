"""The consent gate: every sender asks `consent_allows(patient, purpose, channel)` right before sending."""

import pytest

from clinicflow.compliance.models import Consent
from clinicflow.compliance.services import consent_allows, consent_confirm, consent_record, consent_withdraw

P = Consent.Purpose


def give(patient, *purposes, confirmed=True):
    return [consent_record(patient=patient, purpose=p, source="phone", confirmed=confirmed) for p in purposes]


class TestConsentAllows:
    def test_nothing_is_allowed_without_consents(self, ivan):
        assert not consent_allows(ivan, P.SERVICE, "sms")

    def test_service_messages_need_processing_and_service(self, ivan):
        give(ivan, P.SERVICE)
        assert not consent_allows(ivan, P.SERVICE, "sms")
        give(ivan, P.PROCESSING)
        assert consent_allows(ivan, P.SERVICE, "sms")

    def test_marketing_needs_its_own_consent(self, ivan):
        give(ivan, P.PROCESSING, P.SERVICE)
        assert not consent_allows(ivan, P.MARKETING, "sms")
        give(ivan, P.MARKETING)
        assert consent_allows(ivan, P.MARKETING, "sms")

    @pytest.mark.parametrize("channel", ["whatsapp", "telegram"])
    def test_a_foreign_messenger_also_needs_consent_to_the_transfer_abroad(self, ivan, channel):
        give(ivan, P.PROCESSING, P.SERVICE)
        assert consent_allows(ivan, P.SERVICE, "sms") and not consent_allows(ivan, P.SERVICE, channel)
        give(ivan, P.CROSS_BORDER)
        assert consent_allows(ivan, P.SERVICE, channel)

    def test_a_pending_consent_allows_nothing_until_confirmed(self, ivan):
        give(ivan, P.PROCESSING, P.SERVICE)
        [marketing] = give(ivan, P.MARKETING, confirmed=False)
        assert marketing.is_pending and not consent_allows(ivan, P.MARKETING, "sms")
        consent_confirm(consent=marketing, via="sms reply")
        assert consent_allows(ivan, P.MARKETING, "sms")


class TestWithdrawal:
    def test_withdrawing_a_purpose_stops_it_alone(self, ivan):
        give(ivan, P.PROCESSING, P.SERVICE, P.MARKETING)
        assert consent_withdraw(patient=ivan, purpose=P.MARKETING, source="phone") == 1
        assert consent_allows(ivan, P.SERVICE, "sms") and not consent_allows(ivan, P.MARKETING, "sms")

    def test_withdrawing_the_processing_withdraws_everything(self, ivan):
        give(ivan, P.PROCESSING, P.SERVICE, P.MARKETING)
        consent_withdraw(patient=ivan, purpose=P.PROCESSING, source="letter")
        assert not ivan.consents.filter(withdrawn_at__isnull=True).exists()
        assert set(ivan.consents.values_list("withdrawal_source", flat=True)) == {"letter"}

    def test_a_new_consent_after_withdrawal_is_a_new_record(self, ivan):
        give(ivan, P.PROCESSING)
        consent_withdraw(patient=ivan, purpose=P.PROCESSING, source="phone")
        give(ivan, P.PROCESSING)
        assert ivan.consents.count() == 2 and consent_allows(ivan, P.PROCESSING)


class TestTheRecord:
    def test_a_valid_consent_is_not_duplicated(self, ivan):
        first, again = give(ivan, P.SERVICE, P.SERVICE)
        assert first == again

    def test_an_unconfirmed_repeat_does_not_confirm_a_pending_one(self, ivan):
        [pending] = give(ivan, P.MARKETING, confirmed=False)
        give(ivan, P.MARKETING, confirmed=False)
        pending.refresh_from_db()
        assert pending.is_pending and ivan.consents.count() == 1

    def test_a_confirmed_repeat_confirms_the_pending_one(self, ivan):
        [pending] = give(ivan, P.MARKETING, confirmed=False)
        give(ivan, P.MARKETING)
        pending.refresh_from_db()
        assert pending.is_valid and ivan.consents.count() == 1


class TestFromThePublicForm:
    URL = "/api/v1/public/inquiries"

    def post(self, client, moscow, **fields):
        body = {"phone": "+79161112233", "branch_id": moscow.pk, "consent": True, **fields}
        return client.post(self.URL, body, content_type="application/json")

    def test_a_new_number_gets_processing_and_service_at_once_with_the_text_version(self, client, moscow):
        self.post(client, moscow, consent_text_version="2026-11")
        consents = Consent.objects.all()
        assert {(c.purpose, c.text_version, c.is_valid) for c in consents} == {
            ("processing", "2026-11", True), ("service", "2026-11", True)}

    def test_marketing_from_the_form_waits_for_the_number_double_opt_in(self, client, moscow):
        self.post(client, moscow, marketing_consent=True)
        marketing = Consent.objects.get(purpose="marketing")
        assert marketing.is_pending
        assert not consent_allows(marketing.patient, P.MARKETING, "sms")


class TestOnTheCard:
    def url(self, patient):
        return f"/patients/{patient.pk}/consents/"

    def test_the_desk_records_confirms_and_withdraws(self, rita_client, ivan):
        rita_client.post(self.url(ivan), {"purpose": "processing", "action": "give"})
        give(ivan, P.MARKETING, confirmed=False)
        rita_client.post(self.url(ivan), {"purpose": "marketing", "action": "confirm"})
        assert consent_allows(ivan, P.MARKETING, "sms")
        rita_client.post(self.url(ivan), {"purpose": "marketing", "action": "withdraw"})
        assert not consent_allows(ivan, P.MARKETING, "sms")
        content = rita_client.get(f"/patients/{ivan.pk}/").content.decode()
        assert "withdrawn" in content and "valid" in content

    def test_another_branch_cannot_touch_them(self, client, outsider, ivan):
        client.force_login(outsider)
        assert client.post(self.url(ivan), {"purpose": "processing", "action": "give"}).status_code == 404
        assert not ivan.consents.exists()

    def test_a_nonsense_purpose_changes_nothing(self, rita_client, ivan):
        rita_client.post(self.url(ivan), {"purpose": "everything", "action": "give"})
        assert not ivan.consents.exists()
