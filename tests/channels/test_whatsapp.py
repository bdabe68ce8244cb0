"""WhatsApp Cloud API: Meta's verification call, signed notifications of messages and statuses, the 24-hour
window, and sending. Payloads follow the shape of Meta's webhook documentation."""

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

import pytest

from clinicflow.channels import whatsapp
from clinicflow.channels.base import SendFailed
from clinicflow.channels.models import UnreadDelivery
from clinicflow.inbox.models import Inquiry, Message
from clinicflow.inbox.services import InquiryDraft, inquiry_receive
from clinicflow.patients.models import Patient

pytestmark = pytest.mark.django_db

SECRET = "app-secret"
WHEN = 1767261600  # 2026-01-01 10:00 UTC


@pytest.fixture(autouse=True)
def configured(settings, inbound_branch):
    settings.CLINICFLOW_WHATSAPP_APP_SECRET = SECRET
    settings.CLINICFLOW_WHATSAPP_VERIFY_TOKEN = "verify-me"
    settings.CLINICFLOW_WHATSAPP_TOKEN = "EAAG-token"
    settings.CLINICFLOW_WHATSAPP_PHONE_NUMBER_ID = "106540352242922"


def notification(value: dict) -> dict:
    return {"object": "whatsapp_business_account", "entry": [{"id": "102290129340398", "changes": [
        {"field": "messages", "value": {"messaging_product": "whatsapp", "metadata": {
            "display_phone_number": "15550783881", "phone_number_id": "106540352242922"}, **value}}]}]}


def incoming(wamid="wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=", wa_id="79161234567",
             name="Ivan", kind="text", content=None) -> dict:
    content = {"body": "Hello, can I book a visit?"} if content is None else content
    return notification({"contacts": [{"profile": {"name": name}, "wa_id": wa_id}], "messages": [
        {"from": wa_id, "id": wamid, "timestamp": str(WHEN), "type": kind, kind: content}]})


def status(wamid: str, state: str, errors=None) -> dict:
    item = {"id": wamid, "status": state, "timestamp": str(WHEN), "recipient_id": "79161234567"}
    if errors:
        item["errors"] = errors
    return notification({"statuses": [item]})


def signed(body: bytes, secret=SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@pytest.fixture
def deliver(client):
    def post(payload, raw=None, signature=None):
        body = raw if raw is not None else json.dumps(payload).encode()
        return client.post("/hooks/whatsapp", body, content_type="application/json",
                           headers={"X-Hub-Signature-256": signature or signed(body)})
    return post


# --- the webhook ---------------------------------------------------------------------------------------------

def test_meta_verification_call_gets_its_challenge_back(client):
    response = client.get("/hooks/whatsapp", {"hub.mode": "subscribe", "hub.verify_token": "verify-me",
                                              "hub.challenge": "1158201444"})
    assert (response.status_code, response.content) == (200, b"1158201444")


def test_a_verification_call_with_another_token_is_refused(client):
    response = client.get("/hooks/whatsapp", {"hub.mode": "subscribe", "hub.verify_token": "guess",
                                              "hub.challenge": "1158201444"})
    assert response.status_code == 403 and b"1158201444" not in response.content


def test_without_a_verify_token_no_verification_call_succeeds(client, settings):
    settings.CLINICFLOW_WHATSAPP_VERIFY_TOKEN = ""
    response = client.get("/hooks/whatsapp", {"hub.mode": "subscribe", "hub.verify_token": "",
                                              "hub.challenge": "1"})
    assert response.status_code == 403


def test_without_the_app_secret_the_webhook_does_not_exist(client, settings):
    settings.CLINICFLOW_WHATSAPP_APP_SECRET = ""
    assert client.post("/hooks/whatsapp", b"{}", content_type="application/json").status_code == 404


def test_a_wrong_signature_is_refused_and_nothing_is_kept(deliver):
    assert deliver(incoming(), signature=signed(b"other body")).status_code == 403
    assert deliver(incoming(), signature="sha256=").status_code == 403
    assert not (Inquiry.objects.exists() or UnreadDelivery.objects.exists())


def test_a_body_that_is_not_a_whatsapp_notification_is_refused(deliver):
    assert deliver(None, raw=b"{not json").status_code == 400
    assert deliver({"object": "page", "entry": []}).status_code == 400
    assert not (Patient.objects.exists() or UnreadDelivery.objects.exists())


def test_a_message_from_a_new_number_opens_an_inquiry_for_a_new_patient(deliver):
    assert deliver(incoming()).status_code == 200
    inquiry = Inquiry.objects.get()
    assert inquiry.channel == "whatsapp" and inquiry.given_name == "Ivan"
    assert inquiry.received_at == datetime.fromtimestamp(WHEN, UTC)
    assert set(inquiry.patient.identities.values_list("channel", "address")) == {
        ("phone", "+79161234567"), ("whatsapp", "+79161234567")}
    assert inquiry.messages.get().body == "Hello, can I book a visit?"


def test_a_known_patient_written_another_way_is_found_by_the_number(deliver, moscow):
    known, _ = inquiry_receive(draft=InquiryDraft(channel="web", phone="8 (916) 123-45-67", consent=True))
    deliver(incoming())
    assert Patient.objects.get() == known.patient


def test_the_next_message_joins_the_waiting_inquiry(deliver):
    deliver(incoming(wamid="wamid.1"))
    deliver(incoming(wamid="wamid.2", content={"body": "Hello?"}))
    inquiry = Inquiry.objects.get()
    assert [m.body for m in inquiry.messages.all()] == ["Hello, can I book a visit?", "Hello?"]


def test_a_redelivered_notification_creates_nothing(deliver):
    deliver(incoming())
    assert deliver(incoming()).status_code == 200
    assert (Patient.objects.count(), Inquiry.objects.count(), Message.objects.count()) == (1, 1, 1)


@pytest.mark.parametrize(("kind", "content", "stored", "text"), [
    ("sticker", {"mime_type": "image/webp", "id": "1"}, "sticker", ""),
    ("audio", {"mime_type": "audio/ogg; codecs=opus", "id": "2", "voice": True}, "voice", ""),
    ("document", {"caption": "my referral", "filename": "scan.pdf", "id": "3"}, "file", "my referral"),
    ("image", {"caption": "", "mime_type": "image/jpeg", "id": "4"}, "image", ""),
    ("location", {"latitude": 55.75, "longitude": 37.61, "name": "Home"}, "location", ""),
    ("contacts", [{"name": {"formatted_name": "Anna"}, "phones": [{"phone": "+79990000000"}]}], "contact", ""),
    ("interactive", {"type": "button_reply", "button_reply": {"id": "c:1", "title": "Confirm"}}, "text", "Confirm"),
    ("button", {"payload": "CONFIRM:appt123", "text": "Confirm"}, "text", "Confirm"),
    ("reaction", {"message_id": "wamid.X", "emoji": "👍"}, "other", "👍"),
    ("unsupported", {}, "other", ""),
])
def test_every_message_type_is_kept_as_what_it_was(deliver, kind, content, stored, text):
    assert deliver(incoming(kind=kind, content=content)).status_code == 200
    message = Message.objects.get()
    assert (message.kind, message.body) == (stored, text)


def test_an_invalid_number_is_kept_for_review_and_costs_the_others_nothing(deliver):
    payload = incoming(wamid="wamid.good")
    payload["entry"][0]["changes"][0]["value"]["messages"].append(
        {"from": "12", "id": "wamid.bad", "timestamp": str(WHEN), "type": "text", "text": {"body": "hi"}})
    assert deliver(payload).status_code == 200
    assert Message.objects.get().external_id == "wamid.good"
    assert "phone" in UnreadDelivery.objects.get().error


def test_statuses_of_our_messages_move_forward_only(deliver, moscow):
    inquiry, _ = inquiry_receive(draft=InquiryDraft(channel="web", phone="+79161234567", consent=True))
    ours = Message.objects.create(inquiry=inquiry, direction="out", channel="whatsapp", external_id="wamid.out",
                                  body="See you tomorrow", delivery="queued")
    deliver(status("wamid.out", "read"))  # read may come before delivered
    deliver(status("wamid.out", "delivered"))
    ours.refresh_from_db()
    assert ours.delivery == "read"


def test_a_failed_status_keeps_metas_error(deliver, moscow):
    inquiry, _ = inquiry_receive(draft=InquiryDraft(channel="web", phone="+79161234567", consent=True))
    ours = Message.objects.create(inquiry=inquiry, direction="out", channel="whatsapp", external_id="wamid.out",
                                  body="See you tomorrow", delivery="sent")
    deliver(status("wamid.out", "failed", errors=[{"code": 131047, "title": "Re-engagement message"}]))
    ours.refresh_from_db()
    assert (ours.delivery, ours.delivery_error) == ("failed", "131047 Re-engagement message")


# --- the 24-hour window and sending ------------------------------------------------------------------------

def test_the_window_is_open_for_24_hours_after_the_persons_last_message():
    wrote = datetime(2026, 1, 1, 10, tzinfo=UTC)
    assert whatsapp.window_open(wrote, wrote + timedelta(hours=23, minutes=59))
    assert not whatsapp.window_open(wrote, wrote + timedelta(hours=24))
    assert not whatsapp.window_open(None, wrote)


def test_free_text_goes_out_as_a_text_message(settings, fake_provider):
    settings.CLINICFLOW_WHATSAPP_API_BASE = fake_provider.url + "/v21.0"
    fake_provider.answer(json_body={"messaging_product": "whatsapp", "contacts": [
        {"input": "79161234567", "wa_id": "79161234567"}], "messages": [{"id": "wamid.HBgLMTY1MDM4NzkwMDk"}]})
    assert whatsapp.send(to="+79161234567", text="See you at 10:30") == "wamid.HBgLMTY1MDM4NzkwMDk"
    sent = fake_provider.requests[0]
    assert sent.path == "/v21.0/106540352242922/messages"
    assert sent.headers["Authorization"] == "Bearer EAAG-token"
    assert sent.json() | {"text": None} == {"messaging_product": "whatsapp", "recipient_type": "individual",
                                            "to": "79161234567", "type": "text", "text": None}
    assert sent.json()["text"]["body"] == "See you at 10:30"


def test_outside_the_window_a_template_goes_out_with_its_variables(settings, fake_provider):
    settings.CLINICFLOW_WHATSAPP_API_BASE = fake_provider.url
    fake_provider.answer(json_body={"messaging_product": "whatsapp", "messages": [{"id": "wamid.T"}]})
    template = whatsapp.Template(name="visit_reminder", language="ru", variables=("12.03 10:30",))
    assert whatsapp.send(to="+79161234567", template=template) == "wamid.T"
    assert fake_provider.requests[0].json()["template"] == {
        "name": "visit_reminder", "language": {"code": "ru"},
        "components": [{"type": "body", "parameters": [{"type": "text", "text": "12.03 10:30"}]}]}


def test_a_refused_message_is_not_retried(settings, fake_provider):
    settings.CLINICFLOW_WHATSAPP_API_BASE = fake_provider.url
    fake_provider.answer(400, json_body={"error": {
        "message": "Message failed to send because more than 24 hours have passed since the customer last "
                   "replied to this number.", "type": "OAuthException", "code": 131047, "fbtrace_id": "A"}})
    with pytest.raises(SendFailed, match="131047") as failed:
        whatsapp.send(to="+79161234567", text="Hello")
    assert failed.value.retry is False


def test_a_provider_outage_is_worth_a_retry(settings, fake_provider):
    settings.CLINICFLOW_WHATSAPP_API_BASE = fake_provider.url
    fake_provider.answer(503, body=b"Service Unavailable", content_type="text/plain")
    with pytest.raises(SendFailed) as failed:
        whatsapp.send(to="+79161234567", text="Hello")
    assert failed.value.retry is True


def test_an_unreachable_provider_is_worth_a_retry(settings, fake_provider):
    settings.CLINICFLOW_WHATSAPP_API_BASE = fake_provider.url
    fake_provider.stop()
    with pytest.raises(SendFailed) as failed:
        whatsapp.send(to="+79161234567", text="Hello")
    assert failed.value.retry is True
