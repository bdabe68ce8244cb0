"""Written answers from the inquiry page, delivery reports, and opt-out words."""

import json

import pytest
from django.test import RequestFactory, override_settings

from clinicflow.channels import views
from clinicflow.channels.base import Adapter, DeliveryReport, Malformed
from clinicflow.clinic.models import ClinicSettings
from clinicflow.compliance.models import Consent
from clinicflow.inbox.models import Inquiry, Message
from clinicflow.inbox.services import InquiryDraft, inquiry_receive
from clinicflow.messaging.models import OutboundMessage, Purpose
from clinicflow.messaging.services import inquiry_reply_send, message_queue
from clinicflow.patients.models import Channel

from .conftest import add_address, consent_to, run_jobs

pytestmark = pytest.mark.django_db
Status, Reason = OutboundMessage.Status, OutboundMessage.Reason


@pytest.fixture
def telegram_inquiry(anna, moscow):
    add_address(anna, Channel.TELEGRAM, "777001")
    inquiry, _received = inquiry_receive(draft=InquiryDraft(
        channel=Channel.TELEGRAM, sender="777001", text="Can I come on Friday?", number_verified=True,
        branch_id=moscow.pk, external_id="tg-1"))
    return inquiry


class TestReplies:
    def test_a_reply_is_the_answer_and_goes_by_the_channel_the_patient_wrote_on(self, telegram_inquiry, receptionist,
                                                                                 providers):
        sent = inquiry_reply_send(inquiry=telegram_inquiry, by=receptionist, text="Yes, 10:00 is free.")
        telegram_inquiry.refresh_from_db()
        assert telegram_inquiry.status == Inquiry.Status.ANSWERED and telegram_inquiry.first_response_at
        assert (sent.channel, sent.to, sent.purpose, sent.message.body) == (
            Channel.TELEGRAM, "777001", Purpose.REPLY, "Yes, 10:00 is free.")
        run_jobs()
        line = Message.objects.get(pk=sent.message_id)
        assert (line.channel, line.delivery, line.external_id) == (Channel.TELEGRAM, Message.Delivery.SENT,
                                                                    "telegram-1")

    def test_a_reply_passes_the_consent_gate_and_the_conversation_shows_why_it_did_not_go(
            self, telegram_inquiry, receptionist, providers):
        Consent.objects.filter(purpose=Consent.Purpose.CROSS_BORDER).delete()
        sent = inquiry_reply_send(inquiry=telegram_inquiry, by=receptionist, text="Yes.")
        assert (sent.status, sent.blocked_reason) == (Status.BLOCKED, Reason.NO_CROSS_BORDER)
        assert Message.objects.get(pk=sent.message_id).delivery == Message.Delivery.FAILED
        run_jobs()
        assert providers["telegram"].sent == []

    def test_the_inquiry_page_says_why_a_reply_did_not_go(self, telegram_inquiry, rita_client, providers):
        Consent.objects.filter(purpose=Consent.Purpose.CROSS_BORDER).delete()
        rita_client.post(f"/inquiries/{telegram_inquiry.pk}/send/", {"text": "See you."})
        page = rita_client.get(f"/inquiries/{telegram_inquiry.pk}/").content.decode()
        assert "No consent to the transfer abroad" in page

    def test_the_page_sends_by_the_chosen_channel_and_shows_its_status(self, telegram_inquiry, rita_client,
                                                                        providers):
        answer = rita_client.post(f"/inquiries/{telegram_inquiry.pk}/send/", {"text": "See you.", "channel": "sms"})
        assert answer.status_code == 302
        assert OutboundMessage.objects.get().channel == Channel.SMS
        run_jobs()
        page = rita_client.get(f"/inquiries/{telegram_inquiry.pk}/").content.decode()
        assert "See you." in page and "SMS" in page and "Sent" in page

    def test_an_empty_reply_sends_nothing_and_says_what_is_missing(self, telegram_inquiry, rita_client, providers):
        answer = rita_client.post(f"/inquiries/{telegram_inquiry.pk}/send/", {"text": " "}, follow=True)
        assert "Write what was said to the patient." in answer.content.decode()
        assert not OutboundMessage.objects.exists()

    def test_the_card_lists_planned_sent_and_blocked_messages_with_the_reason(self, anna, rita_client, providers):
        message_queue(patient=anna, purpose=Purpose.CUSTOM, key="c:1", text="Card ready.")
        message_queue(patient=anna, purpose=Purpose.CAMPAIGN, key="c:2", text="Spring offer.")
        page = rita_client.get(f"/patients/{anna.pk}/").content.decode()
        assert "Marketing campaign" in page and "No valid consent for this purpose" in page
        assert "Other service message" in page and "Queued" in page


class Echo(Adapter):
    """A made-up provider: JSON events {"id", "from", "text"} or {"id", "status", "error"}."""

    name, channel, secret_setting = "echo", "whatsapp", "ECHO_SECRET"

    def verify(self, request, body):
        return True

    def parse(self, request, body):
        try:
            items = json.loads(body)
        except ValueError as exc:
            raise Malformed("not JSON") from exc
        return [DeliveryReport(channel="whatsapp", external_id=item["id"], status=item["status"],
                               error=item.get("error", "")) if "status" in item else
                InquiryDraft(channel="whatsapp", sender=item["from"], phone=item["from"], external_id=item["id"],
                             text=item["text"], number_verified=True) for item in items]


@pytest.fixture
def deliver(monkeypatch, moscow):
    ClinicSettings.objects.update_or_create(pk=1, defaults={"default_branch": moscow})
    monkeypatch.setattr(views, "adapter_for", lambda name: Echo() if name == "echo" else None)

    def post(*events):
        request = RequestFactory().post("/hooks/echo", json.dumps(events), content_type="application/json")
        return views.hook(request, name="echo")

    with override_settings(ECHO_SECRET="s3cret"):
        yield post


class TestDeliveryReports:
    @pytest.fixture
    def sent(self, telegram_inquiry, receptionist, providers):
        reply = inquiry_reply_send(inquiry=telegram_inquiry, by=receptionist, text="Yes.", channel=Channel.WHATSAPP)
        run_jobs()
        reply.refresh_from_db()
        return reply

    def test_a_report_moves_the_outbox_row_and_the_conversations_line(self, sent, deliver):
        deliver({"id": "whatsapp-1", "status": "delivered"})
        sent.refresh_from_db()
        assert sent.status == Status.DELIVERED
        assert Message.objects.get(pk=sent.message_id).delivery == Message.Delivery.DELIVERED

    def test_a_late_report_never_moves_it_back(self, sent, deliver):
        deliver({"id": "whatsapp-1", "status": "read"}, {"id": "whatsapp-1", "status": "delivered"})
        sent.refresh_from_db()
        assert sent.status == Status.READ
        assert Message.objects.get(pk=sent.message_id).delivery == Message.Delivery.READ

    def test_a_failure_report_keeps_the_providers_error(self, sent, deliver):
        deliver({"id": "whatsapp-1", "status": "failed", "error": "131026: undeliverable"})
        sent.refresh_from_db()
        assert (sent.status, sent.error) == (Status.FAILED, "131026: undeliverable")
        assert Message.objects.get(pk=sent.message_id).delivery_error == "131026: undeliverable"

    @override_settings(CLINICFLOW_WHATSAPP_FALLBACK_SMS=True)
    def test_a_whatsapp_failure_report_falls_back_to_sms_when_configured(self, sent, deliver, providers):
        deliver({"id": "whatsapp-1", "status": "failed", "error": "131026: undeliverable"})
        run_jobs()
        sent.refresh_from_db()
        assert (sent.status, sent.channel) == (Status.SENT, Channel.SMS)
        assert providers["sms"].sent[0]["text"] == "Yes."


class TestOptOut:
    @pytest.fixture
    def marketable(self, anna):
        consent_to(anna, Consent.Purpose.MARKETING)
        return anna

    @pytest.mark.parametrize("word", ["STOP", "стоп", "Отписаться!", "unsubscribe"])
    def test_an_opt_out_word_withdraws_marketing_and_is_confirmed(self, marketable, deliver, providers, word):
        campaign = message_queue(patient=marketable, purpose=Purpose.CAMPAIGN, key="m:1", text="Spring offer.")
        deliver({"id": "wamid.9", "from": "+79161234567", "text": word})
        assert not marketable.consents.filter(purpose=Consent.Purpose.MARKETING, withdrawn_at__isnull=True).exists()
        assert marketable.consents.get(purpose=Consent.Purpose.SERVICE).is_valid
        campaign.refresh_from_db()
        assert (campaign.status, campaign.blocked_reason) == (Status.CANCELLED, Reason.OPTED_OUT)
        confirmation = OutboundMessage.objects.get(purpose=Purpose.OPT_OUT)
        assert confirmation.channel == Channel.WHATSAPP and "отписались" in confirmation.body  # her language
        run_jobs()
        assert len(providers["whatsapp"].sent) == 1 and providers["whatsapp"].sent[0]["text"] == confirmation.body

    def test_a_redelivered_opt_out_is_confirmed_once(self, marketable, deliver, providers):
        deliver({"id": "wamid.9", "from": "+79161234567", "text": "STOP"})
        deliver({"id": "wamid.9", "from": "+79161234567", "text": "STOP"})
        assert OutboundMessage.objects.filter(purpose=Purpose.OPT_OUT).count() == 1

    def test_a_message_that_merely_contains_the_word_is_no_opt_out(self, marketable, deliver):
        deliver({"id": "wamid.10", "from": "+79161234567", "text": "Please don't stop my reminders"})
        assert marketable.consents.get(purpose=Consent.Purpose.MARKETING).is_valid
        assert not OutboundMessage.objects.exists()

    @override_settings(CLINICFLOW_OPT_OUT_WORDS="ХВАТИТ")
    def test_the_words_are_a_setting(self, marketable, deliver):
        deliver({"id": "wamid.11", "from": "+79161234567", "text": "хватит"})
        assert not marketable.consents.get(purpose=Consent.Purpose.MARKETING).is_valid
