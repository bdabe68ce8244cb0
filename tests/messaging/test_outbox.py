"""The outbox: one row per cause, written with it, sent after commit through the consent gate."""

import pytest
from django.db import transaction
from django.test import override_settings

from clinicflow.automation.models import Job
from clinicflow.channels.base import SendFailed
from clinicflow.compliance.models import Consent
from clinicflow.compliance.services import consent_withdraw
from clinicflow.messaging.models import OutboundMessage, Purpose
from clinicflow.messaging.services import channel_choose, message_queue
from clinicflow.patients.models import Channel

from .conftest import add_address, consent_to, run_jobs

pytestmark = pytest.mark.django_db
Status, Reason = OutboundMessage.Status, OutboundMessage.Reason


def queue(patient, key="custom:1", **kw):
    kw.setdefault("purpose", Purpose.CUSTOM)
    kw.setdefault("text", "Your results are ready to be picked up at the desk.")
    return message_queue(patient=patient, key=key, **kw)


class TestQueueing:
    def test_queueing_the_same_cause_twice_makes_one_message_and_one_send(self, anna, providers):
        first = queue(anna)
        second = queue(anna)
        assert first.pk == second.pk
        assert OutboundMessage.objects.count() == 1 and Job.objects.count() == 1
        run_jobs()
        run_jobs()
        assert len(providers["whatsapp"].sent) == 1

    def test_a_rolled_back_cause_leaves_nothing_queued_and_nothing_sent(self, anna, providers):
        with pytest.raises(RuntimeError), transaction.atomic():
            queue(anna)
            raise RuntimeError("the booking failed")
        assert not OutboundMessage.objects.exists() and not Job.objects.exists()
        run_jobs()
        assert providers["whatsapp"].sent == []

    def test_the_provider_is_called_in_the_job_not_when_queued(self, anna, providers):
        queue(anna)
        assert providers["whatsapp"].sent == []
        run_jobs()
        message = OutboundMessage.objects.get()
        assert (message.status, message.provider_message_id, message.attempts) == (Status.SENT, "whatsapp-1", 1)
        assert message.sent_at is not None
        assert providers["whatsapp"].sent[0]["to"] == "+79161234567"

    def test_the_body_is_rendered_from_the_template_at_queue_time(self, anna, visit, providers):
        message = message_queue(patient=anna, purpose=Purpose.REMINDER, key="reminder:1", appointment=visit)
        assert "11.03.2027" in message.body and "10:00" in message.body  # Moscow time, not UTC


class TestChannelChoice:
    def test_the_preferred_messenger_when_the_patient_has_an_address_on_it(self, anna):
        anna.preferred_channel = Channel.TELEGRAM
        add_address(anna, Channel.TELEGRAM, "5551234")
        assert channel_choose(anna) == (Channel.TELEGRAM, "5551234")

    def test_whatsapp_when_the_preferred_messenger_has_no_address(self, anna):
        anna.preferred_channel = Channel.TELEGRAM
        assert channel_choose(anna) == (Channel.WHATSAPP, "+79161234567")

    def test_the_channel_asked_for(self, anna):
        assert channel_choose(anna, Channel.SMS) == (Channel.SMS, "+79161234567")

    def test_a_patient_with_no_address_gets_a_blocked_message_saying_so(self, anna, providers):
        anna.identities.all().delete()
        message = queue(anna)
        assert (message.status, message.blocked_reason) == (Status.BLOCKED, Reason.NO_ADDRESS)
        assert not Job.objects.exists()


class TestConsentGate:
    def test_no_consent_at_queue_time_blocks_with_the_reason(self, ivan, clock, providers):
        message = queue(ivan)
        assert (message.status, message.blocked_reason) == (Status.BLOCKED, Reason.NO_CONSENT)
        run_jobs()
        assert providers["whatsapp"].sent == []

    def test_consent_withdrawn_after_queueing_blocks_at_send_time(self, anna, providers):
        queue(anna)
        consent_withdraw(patient=anna, purpose=Consent.Purpose.SERVICE, source="staff")
        run_jobs()
        message = OutboundMessage.objects.get()
        assert (message.status, message.blocked_reason) == (Status.BLOCKED, Reason.NO_CONSENT)
        assert providers["whatsapp"].sent == []

    def test_a_foreign_messenger_needs_consent_to_the_transfer_abroad(self, ivan, clock, providers):
        consent_to(ivan, Consent.Purpose.PROCESSING, Consent.Purpose.SERVICE)
        assert queue(ivan).blocked_reason == Reason.NO_CROSS_BORDER
        sms = queue(ivan, key="custom:2", channel=Channel.SMS)
        run_jobs()
        assert OutboundMessage.objects.get(pk=sms.pk).status == Status.SENT

    def test_marketing_needs_marketing_consent(self, anna, providers):
        message = queue(anna, purpose=Purpose.CAMPAIGN)
        assert (message.kind, message.blocked_reason) == (OutboundMessage.Kind.MARKETING, Reason.NO_CONSENT)


class TestFailures:
    def test_a_passing_failure_is_retried_by_the_job(self, anna, providers, clock):
        providers["whatsapp"].failures = [SendFailed("timeout", retry=True)]
        queue(anna)
        run_jobs()
        message = OutboundMessage.objects.get()
        assert (message.status, message.error) == (Status.QUEUED, "timeout")
        clock.shift(60)
        run_jobs()
        message.refresh_from_db()
        assert message.status == Status.SENT and len(providers["whatsapp"].sent) == 1

    def test_a_final_failure_is_failed_with_the_providers_error(self, anna, providers):
        providers["whatsapp"].failures = [SendFailed("not a WhatsApp number")]
        queue(anna)
        run_jobs()
        message = OutboundMessage.objects.get()
        assert (message.status, message.error) == (Status.FAILED, "not a WhatsApp number")
        assert providers["sms"].sent == []

    @override_settings(CLINICFLOW_WHATSAPP_FALLBACK_SMS=True)
    def test_a_failed_whatsapp_message_falls_back_to_sms_when_configured(self, anna, providers):
        providers["whatsapp"].failures = [SendFailed("not a WhatsApp number")]
        queue(anna)
        run_jobs()
        run_jobs()
        message = OutboundMessage.objects.get()
        assert (message.status, message.channel, message.provider_message_id) == (Status.SENT, Channel.SMS, "sms-1")
        assert message.error == ""
        assert providers["sms"].sent[0]["to"] == "+79161234567"

    @override_settings(CLINICFLOW_WHATSAPP_FALLBACK_SMS=True)
    def test_the_sms_fallback_passes_the_consent_gate_too(self, anna, providers):
        whatsapp = providers["whatsapp"]
        whatsapp.failures = [SendFailed("not a WhatsApp number")]
        whatsapp.before_send = lambda: consent_withdraw(patient=anna, purpose=Consent.Purpose.SERVICE, source="sms")
        queue(anna)
        run_jobs()
        run_jobs()
        message = OutboundMessage.objects.get()
        assert (message.status, message.channel, message.blocked_reason) == (
            Status.BLOCKED, Channel.SMS, Reason.NO_CONSENT)
        assert providers["sms"].sent == []

    def test_a_channel_without_a_configured_provider_fails_visibly(self, anna, providers, monkeypatch):
        from clinicflow.channels import sending

        monkeypatch.setattr(sending, "sender_for", lambda channel: None)
        queue(anna)
        run_jobs()
        message = OutboundMessage.objects.get()
        assert message.status == Status.FAILED and "no provider" in message.error


class TestWhatsAppWindow:
    def test_outside_the_24_hour_window_the_approved_template_goes_with_our_values(self, anna, visit, providers):
        message_queue(patient=anna, purpose=Purpose.REMINDER, key="reminder:1", appointment=visit)
        run_jobs()
        template = providers["whatsapp"].sent[0]["template"]
        assert (template.name, template.language) == (Purpose.REMINDER, "ru")
        assert template.variables == ("Ivan", "Moscow, Tverskaya", "11.03.2027", "10:00")  # {{1}}… in order

    def test_inside_the_window_free_text_goes(self, anna, providers, moscow):
        from clinicflow.inbox.services import InquiryDraft, inquiry_receive

        inquiry_receive(draft=InquiryDraft(channel=Channel.WHATSAPP, sender="+79161234567", phone="+79161234567",
                                           text="hello", number_verified=True, branch_id=moscow.pk,
                                           external_id="wamid.1"))
        queue(anna)
        run_jobs()
        assert "template" not in providers["whatsapp"].sent[0]
