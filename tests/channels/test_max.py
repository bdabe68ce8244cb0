"""MAX: updates as a webhook subscription posts them (dev.max.ru/docs-api/objects/Update) become
conversations, and POST /messages answers them."""

import json
from datetime import UTC, datetime

import pytest
from django.test import override_settings

from clinicflow.channels import max as max_channel
from clinicflow.channels.base import SendFailed
from clinicflow.channels.models import UnreadDelivery
from clinicflow.clinic.models import ClinicSettings
from clinicflow.inbox.models import Inquiry, Message
from clinicflow.patients.models import Patient

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)  # 11:00 in Moscow, a Tuesday
SENT = int(NOW.timestamp() * 1000) - 60_000
SECRET = "max-s3cret"
pytestmark = [pytest.mark.django_db, pytest.mark.time_machine(NOW, tick=False)]

ANNA = {"user_id": 123456789, "first_name": "Anna", "last_name": "Smirnova", "is_bot": False,
        "last_activity_time": SENT, "name": "Anna Smirnova"}


def update(mid="mid.000000000adf429c019d47b1ce4600ff", kind="message_created", at=SENT, chat_type="dialog",
           **body):
    body = {"mid": mid, "seq": 116327994376978687, **(body or {"text": "Hello, can I see a cardiologist?"})}
    return {"update_type": kind, "timestamp": at + 500, "user_locale": "ru", "message": {
        "sender": ANNA, "recipient": {"chat_id": 182182182, "chat_type": chat_type, "user_id": 229229229},
        "timestamp": at, "body": body}}


def contact(user_id, phone="79161234567", name="Anna Smirnova"):
    vcard = f"BEGIN:VCARD\r\nVERSION:3.0\r\nTEL;TYPE=cell:{phone}\r\nFN:{name}\r\nEND:VCARD"
    return {"type": "contact", "payload": {"vcf_info": vcard, "max_info": {"user_id": user_id, "name": name}}}


@pytest.fixture
def post(client, moscow):
    ClinicSettings.objects.update_or_create(pk=1, defaults={"default_branch": moscow})

    def post(payload, secret=SECRET, raw=None):
        body = raw if raw is not None else json.dumps(payload)
        return client.post("/hooks/max", body, content_type="application/json",
                           headers={"X-Max-Bot-Api-Secret": secret})

    with override_settings(CLINICFLOW_MAX_SECRET=SECRET):
        yield post


def test_a_first_message_opens_an_inquiry_for_a_new_patient_known_by_the_account(post):
    assert post(update()).status_code == 200
    inquiry = Inquiry.objects.get()
    assert (inquiry.channel, inquiry.received_at) == ("max", datetime.fromtimestamp(SENT / 1000, tz=UTC))
    assert inquiry.patient.full_name == "Anna Smirnova"
    assert list(inquiry.patient.identities.values_list("channel", "address")) == [("max", "123456789")]
    message = inquiry.messages.get()
    assert (message.kind, message.external_id, message.body) == (
        "text", "mid.000000000adf429c019d47b1ce4600ff", "Hello, can I see a cardiologist?")


def test_a_redelivered_update_creates_nothing(post):
    post(update())
    post(update())
    assert (Patient.objects.count(), Inquiry.objects.count(), Message.objects.count()) == (1, 1, 1)


def test_the_next_message_joins_the_waiting_inquiry(post):
    post(update())
    post(update(mid="mid.2", text="Morning if possible"))
    assert Inquiry.objects.get().messages.count() == 2


def test_pressing_start_is_a_first_contact(post):
    started = {"update_type": "bot_started", "timestamp": SENT, "chat_id": 182182182, "user": ANNA,
               "user_id": ANNA["user_id"], "payload": "site", "user_locale": "ru"}
    post(started)
    post(started)
    message = Inquiry.objects.get().messages.get()
    assert message.body == "/start site"


def test_sharing_ones_own_number_joins_the_patient_who_owns_it_in_any_spelling(post, ivan):
    post(update(attachments=[contact(ANNA["user_id"])]))
    inquiry = Inquiry.objects.get()
    assert inquiry.patient == ivan and Patient.objects.count() == 1
    assert set(ivan.identities.values_list("channel", "address")) == {("phone", "+79161234567"), ("max", "123456789")}
    assert inquiry.messages.get().kind == "contact"


def test_someone_elses_contact_is_only_a_message(post, ivan):
    post(update(attachments=[contact(999, phone="+79161234567", name="Ivan Petrov")]))
    inquiry = Inquiry.objects.get()
    assert inquiry.patient != ivan
    assert (inquiry.messages.get().kind, inquiry.messages.get().body) == ("contact", "Ivan Petrov +79161234567")


@pytest.mark.parametrize(("attachment", "kind", "body"), [
    ({"type": "sticker", "payload": {"url": "https://i.max.ru/s.webp", "code": "abc"}, "width": 128}, "sticker", ""),
    ({"type": "image", "payload": {"photo_id": 1, "token": "t", "url": "https://i.max.ru/p.jpg"}}, "image", ""),
    ({"type": "audio", "payload": {"url": "https://i.max.ru/a.ogg", "token": "t"}}, "voice", ""),
    ({"type": "file", "payload": {"url": "https://i.max.ru/f", "token": "t"}, "filename": "scan.pdf", "size": 9},
     "file", ""),
    ({"type": "location", "latitude": 55.76, "longitude": 37.61}, "location", "55.76, 37.61"),
    ({"type": "something_new", "payload": {}}, "other", ""),
])
def test_what_is_not_text_is_kept_as_what_it_was(post, attachment, kind, body):
    post(update(attachments=[attachment]))
    message = Message.objects.get()
    assert (message.kind, message.body) == (kind, body)


def test_an_edit_is_a_new_line_marked_as_an_edit_and_stored_once(post):
    post(update())
    edit = update(kind="message_edited", text="Hello, can I see a cardiologist on Friday?")
    edit["timestamp"] = SENT + 30_000
    post(edit)
    post(edit)
    bodies = list(Inquiry.objects.get().messages.values_list("body", flat=True))
    assert bodies == ["Hello, can I see a cardiologist?", "✎ Hello, can I see a cardiologist on Friday?"]


def test_group_chats_and_button_presses_make_no_conversation(post):
    assert post(update(chat_type="chat")).status_code == 200
    press = {"update_type": "message_callback", "timestamp": SENT,
             "callback": {"timestamp": SENT, "callback_id": "cb1", "payload": "c:1", "user": ANNA}}
    assert post(press).status_code == 200
    assert not (Patient.objects.exists() or UnreadDelivery.objects.exists())


def test_a_wrong_secret_is_refused(post):
    assert post(update(), secret="guess").status_code == 403
    assert not Inquiry.objects.exists()


def test_without_its_secret_the_channel_does_not_exist(client, moscow):
    with override_settings(CLINICFLOW_MAX_SECRET=""):
        assert client.post("/hooks/max", "{}", content_type="application/json").status_code == 404


@pytest.mark.parametrize("raw", ["{not json", '"text"', '{"message": {}}',
                                 '{"update_type": "message_created", "message": {"body": {"text": "hi"}}}'])
def test_a_body_that_is_no_update_is_refused_and_nothing_is_saved(post, raw):
    assert post(None, raw=raw).status_code == 400
    assert not (Patient.objects.exists() or UnreadDelivery.objects.exists())


# --- sending -----------------------------------------------------------------------------------------


@pytest.fixture
def bot(settings, fake_provider):
    settings.CLINICFLOW_MAX_API_BASE = fake_provider.url
    settings.CLINICFLOW_MAX_BOT_TOKEN = "max-token"
    return fake_provider


def test_send_posts_to_messages_and_returns_the_mid(bot):
    bot.answer(200, {"message": {"recipient": {"chat_id": 182182182, "chat_type": "dialog", "user_id": 123456789},
                                 "timestamp": SENT, "body": {"mid": "mid.out1", "seq": 1, "text": "See you"}}})
    assert max_channel.send(to="123456789", text="See you") == "mid.out1"
    sent = bot.requests[0]
    assert (sent.path, sent.json()) == ("/messages?user_id=123456789", {"text": "See you"})
    assert sent.headers["Authorization"] == "max-token"


def test_a_refusal_is_not_retried_and_an_outage_is(bot):
    bot.answer(403, {"code": "chat.denied", "message": "chat.denied: dialog.suspended"})
    with pytest.raises(SendFailed, match="chat.denied") as refused:
        max_channel.send(to="123456789", text="See you")
    bot.answer(503, {"code": "service.unavailable", "message": "Service unavailable"})
    with pytest.raises(SendFailed) as outage:
        max_channel.send(to="123456789", text="See you")
    assert (refused.value.retry, outage.value.retry) == (False, True)
