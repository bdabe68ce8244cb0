"""Telegram: updates as the Bot API posts them (core.telegram.org/bots/api#update) become conversations,
and sendMessage answers them."""

import json
import socket
from datetime import UTC, datetime

import pytest
from django.test import override_settings

from clinicflow.channels import outbound, telegram
from clinicflow.channels.base import SendFailed
from clinicflow.channels.models import UnreadDelivery
from clinicflow.clinic.models import ClinicSettings
from clinicflow.inbox.models import Inquiry, Message
from clinicflow.patients.models import Patient

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)  # 11:00 in Moscow, a Tuesday
SENT = int(NOW.timestamp()) - 60
SECRET = "s3cret-Token_1"
pytestmark = [pytest.mark.django_db, pytest.mark.time_machine(NOW, tick=False)]

ANNA = {"id": 5550001, "is_bot": False, "first_name": "Anna", "last_name": "Smirnova", "language_code": "ru"}
PRIVATE = {"id": 5550001, "first_name": "Anna", "last_name": "Smirnova", "type": "private"}


def update(update_id=1000, message_id=1, key="message", **content):
    message = {"message_id": message_id, "from": ANNA, "chat": PRIVATE, "date": SENT, **content}
    if "text" not in content and not set(content) - {"edit_date", "chat", "from"}:
        message["text"] = "Hello, can I see a cardiologist tomorrow?"
    return {"update_id": update_id, key: message}


@pytest.fixture
def post(client, moscow):
    ClinicSettings.objects.update_or_create(pk=1, defaults={"default_branch": moscow})

    def post(payload, secret=SECRET, raw=None):
        body = raw if raw is not None else json.dumps(payload)
        return client.post("/hooks/telegram", body, content_type="application/json",
                           headers={"X-Telegram-Bot-Api-Secret-Token": secret})

    with override_settings(CLINICFLOW_TELEGRAM_SECRET_TOKEN=SECRET):
        yield post


def test_a_first_message_opens_an_inquiry_for_a_new_patient_known_by_the_chat(post):
    assert post(update()).status_code == 200
    inquiry = Inquiry.objects.get()
    assert (inquiry.channel, inquiry.received_at) == ("telegram", datetime.fromtimestamp(SENT, tz=UTC))
    assert inquiry.patient.full_name == "Anna Smirnova"
    assert list(inquiry.patient.identities.values_list("channel", "address")) == [("telegram", "5550001")]
    message = inquiry.messages.get()
    assert (message.kind, message.external_id, message.body) == (
        "text", "5550001:1", "Hello, can I see a cardiologist tomorrow?")


def test_writing_to_the_bot_needs_no_consent_box(post):
    post(update())
    assert Inquiry.objects.get().patient.consents.filter(purpose="processing", confirmed_at__isnull=False).exists()


def test_a_redelivered_update_creates_nothing(post):
    post(update())
    assert post(update()).status_code == 200
    assert (Patient.objects.count(), Inquiry.objects.count(), Message.objects.count()) == (1, 1, 1)


def test_the_next_message_joins_the_waiting_inquiry(post):
    post(update())
    post(update(update_id=1001, message_id=2, text="Morning if possible"))
    assert [m.body for m in Inquiry.objects.get().messages.all()] == [
        "Hello, can I see a cardiologist tomorrow?", "Morning if possible"]


def test_sharing_ones_own_number_joins_the_patient_who_owns_it_in_any_spelling(post, ivan):
    contact = {"phone_number": "79161234567", "first_name": "Anna", "user_id": ANNA["id"]}
    post(update(contact=contact))
    inquiry = Inquiry.objects.get()
    assert inquiry.patient == ivan and Patient.objects.count() == 1
    assert set(ivan.identities.values_list("channel", "address")) == {
        ("phone", "+79161234567"), ("telegram", "5550001")}
    assert (inquiry.messages.get().kind, inquiry.messages.get().body) == ("contact", "79161234567")


def test_an_account_that_wrote_first_and_then_shares_its_number_ends_on_the_card_that_owns_it(post, ivan):
    post(update())
    post(update(update_id=1001, message_id=2,
                contact={"phone_number": "+7 916 123 45 67", "first_name": "Anna", "user_id": ANNA["id"]}))
    assert set(ivan.identities.values_list("channel", "address")) >= {("telegram", "5550001")}
    assert Inquiry.objects.filter(patient=ivan).exists()


def test_someone_elses_contact_is_only_a_message(post, ivan):
    contact = {"phone_number": "+79161234567", "first_name": "Ivan", "last_name": "Petrov", "user_id": 777}
    post(update(contact=contact))
    inquiry = Inquiry.objects.get()
    assert inquiry.patient != ivan
    assert not inquiry.patient.identities.filter(channel="phone").exists()
    assert (inquiry.messages.get().kind, inquiry.messages.get().body) == ("contact", "Ivan Petrov +79161234567")


@pytest.mark.parametrize(("content", "kind", "body"), [
    ({"sticker": {"file_id": "CAACAgI", "emoji": "👍", "type": "regular"}}, "sticker", ""),
    ({"photo": [{"file_id": "AgAD", "width": 90, "height": 90}], "caption": "My referral"}, "image", "My referral"),
    ({"voice": {"file_id": "AwAD", "duration": 4, "mime_type": "audio/ogg"}}, "voice", ""),
    ({"video_note": {"file_id": "DQAD", "length": 240, "duration": 3}}, "video", ""),
    ({"document": {"file_id": "BQAD", "file_name": "scan.pdf"}}, "file", ""),
    ({"location": {"latitude": 55.76, "longitude": 37.61}}, "location", "55.76, 37.61"),
    ({"poll": {"id": "1", "question": "?", "options": []}}, "other", ""),
])
def test_what_is_not_text_is_kept_as_what_it_was(post, content, kind, body):
    post(update(**content))
    message = Message.objects.get()
    assert (message.kind, message.body) == (kind, body)


def test_an_edit_is_a_new_line_marked_as_an_edit_and_stored_once(post):
    post(update())
    edit = update(update_id=1001, key="edited_message", text="Hello, can I see a cardiologist on Friday?",
                  edit_date=SENT + 30)
    post(edit)
    post(edit)
    post({**edit, "update_id": 1002, "edited_message": {**edit["edited_message"], "edit_date": SENT + 50}})
    lines = list(Inquiry.objects.get().messages.values_list("external_id", "body"))
    assert lines[1] == ("5550001:1:edit:" + str(SENT + 30), "✎ Hello, can I see a cardiologist on Friday?")
    assert len(lines) == 3


def test_group_chats_are_no_patients_conversations(post):
    group = {"id": -100123, "title": "Clinic friends", "type": "supergroup"}
    assert post(update(chat=group, text="Anyone knows a good dentist?")).status_code == 200
    assert not (Patient.objects.exists() or UnreadDelivery.objects.exists())


def test_an_update_that_is_no_message_is_taken_and_ignored(post):
    press = {"update_id": 1005, "callback_query": {"id": "1", "from": ANNA, "data": "c:1"}}
    assert post(press).status_code == 200
    assert not (Inquiry.objects.exists() or UnreadDelivery.objects.exists())


def test_a_wrong_secret_token_is_refused(post):
    assert post(update(), secret="guess").status_code == 403
    assert post(update(), secret="").status_code == 403
    assert not Inquiry.objects.exists()


def test_without_its_secret_token_the_channel_does_not_exist(client, moscow):
    with override_settings(CLINICFLOW_TELEGRAM_SECRET_TOKEN=""):
        assert client.post("/hooks/telegram", "{}", content_type="application/json").status_code == 404


@pytest.mark.parametrize("raw", ["{not json", "[1, 2]", '{"message": {"text": "hi"}}',
                                 '{"update_id": 1, "message": {"message_id": 1, "text": "no chat"}}'])
def test_a_body_that_is_no_update_is_refused_and_nothing_is_saved(post, raw):
    assert post(None, raw=raw).status_code == 400
    assert not (Patient.objects.exists() or UnreadDelivery.objects.exists())


# --- sending -----------------------------------------------------------------------------------------


@pytest.fixture
def bot(settings, fake_provider):
    settings.CLINICFLOW_TELEGRAM_API_BASE = fake_provider.url
    settings.CLINICFLOW_TELEGRAM_BOT_TOKEN = "123:ABC"
    return fake_provider


def test_send_posts_send_message_and_returns_the_messages_id(bot):
    bot.answer(200, {"ok": True, "result": {"message_id": 42, "chat": PRIVATE, "date": SENT, "text": "See you"}})
    assert telegram.send(to="5550001", text="See you") == "5550001:42"
    sent = bot.requests[0]
    assert (sent.method, sent.path, sent.json()) == ("POST", "/bot123:ABC/sendMessage",
                                                     {"chat_id": "5550001", "text": "See you"})


def test_a_person_who_blocked_the_bot_is_not_retried(bot):
    bot.answer(403, {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"})
    with pytest.raises(SendFailed, match="blocked") as failed:
        telegram.send(to="5550001", text="See you")
    assert failed.value.retry is False


@pytest.mark.parametrize(("status", "answer"), [
    (429, {"ok": False, "error_code": 429, "description": "Too Many Requests: retry after 5",
           "parameters": {"retry_after": 5}}),
    (502, None),
])
def test_a_busy_or_failing_telegram_is_retried_later(bot, status, answer):
    bot.answer(status, answer, body=b"Bad Gateway")
    with pytest.raises(SendFailed) as failed:
        telegram.send(to="5550001", text="See you")
    assert failed.value.retry is True


def test_a_telegram_that_does_not_answer_in_time_is_retried_later(settings, monkeypatch):
    monkeypatch.setattr(outbound, "TIMEOUT", 0.2)
    with socket.create_server(("127.0.0.1", 0)) as silent:  # takes the connection, never answers
        settings.CLINICFLOW_TELEGRAM_API_BASE = f"http://127.0.0.1:{silent.getsockname()[1]}"
        settings.CLINICFLOW_TELEGRAM_BOT_TOKEN = "123:ABC"
        with pytest.raises(SendFailed) as failed:
            telegram.send(to="5550001", text="See you")
    assert failed.value.retry is True and "123:ABC" not in str(failed.value)


def test_without_a_bot_token_nothing_is_sent(bot, settings):
    settings.CLINICFLOW_TELEGRAM_BOT_TOKEN = ""
    with pytest.raises(SendFailed) as failed:
        telegram.send(to="5550001", text="See you")
    assert failed.value.retry is False and not bot.requests
