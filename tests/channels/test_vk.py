"""VK: Callback API events (dev.vk.com/ru/api/callback/getting-started) become conversations, and
messages.send answers them."""

import json
from datetime import UTC, datetime

import pytest
from django.test import override_settings

from clinicflow.channels import vk
from clinicflow.channels.base import SendFailed
from clinicflow.channels.models import UnreadDelivery
from clinicflow.clinic.models import ClinicSettings
from clinicflow.inbox.models import Inquiry, Message
from clinicflow.patients.models import Patient

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)  # 11:00 in Moscow, a Tuesday
SENT = int(NOW.timestamp()) - 60
SECRET = "vk-s3cret"
pytestmark = [pytest.mark.django_db, pytest.mark.time_machine(NOW, tick=False)]
ANNA = 210700286


def message(id=171, text="Hello, can I see a cardiologist?", **more):
    return {"date": SENT, "from_id": ANNA, "id": id, "out": 0, "version": 10000143, "attachments": [],
            "conversation_message_id": id - 100, "fwd_messages": [], "important": False, "is_hidden": False,
            "peer_id": ANNA, "random_id": 0, "text": text, **more}


def event(kind="message_new", obj=None, secret=SECRET):
    obj = obj if obj is not None else {"message": message(), "client_info": {
        "button_actions": ["text", "vkpay", "open_app", "location", "open_link", "callback"],
        "keyboard": True, "inline_keyboard": True, "carousel": True, "lang_id": 0}}
    return {"group_id": 229416283, "type": kind, "event_id": "3f2b9d1c0a", "v": "5.199", "object": obj,
            "secret": secret}


@pytest.fixture
def post(client, moscow):
    ClinicSettings.objects.update_or_create(pk=1, defaults={"default_branch": moscow})

    def post(payload, raw=None):
        body = raw if raw is not None else json.dumps(payload)
        return client.post("/hooks/vk", body, content_type="application/json")

    with override_settings(CLINICFLOW_VK_SECRET=SECRET, CLINICFLOW_VK_CONFIRMATION="5d7a9c1e"):
        yield post


def test_the_confirmation_request_gets_the_confirmation_string(post):
    response = post({"type": "confirmation", "group_id": 229416283})
    assert (response.status_code, response.content, response["Content-Type"]) == (
        200, b"5d7a9c1e", "text/plain")
    assert not Inquiry.objects.exists()


def test_a_first_message_opens_an_inquiry_and_is_answered_ok(post):
    response = post(event())
    assert (response.status_code, response.content) == (200, b"ok")
    inquiry = Inquiry.objects.get()
    assert (inquiry.channel, inquiry.received_at) == ("vk", datetime.fromtimestamp(SENT, tz=UTC))
    assert list(inquiry.patient.identities.values_list("channel", "address")) == [("vk", str(ANNA))]
    line = inquiry.messages.get()
    assert (line.external_id, line.body) == ("171", "Hello, can I see a cardiologist?")


def test_a_redelivered_event_creates_nothing(post):
    post(event())
    post(event())
    assert (Patient.objects.count(), Inquiry.objects.count(), Message.objects.count()) == (1, 1, 1)


def test_the_next_message_joins_the_waiting_inquiry(post):
    post(event())
    post(event(obj={"message": message(id=172, text="Morning if possible")}))
    assert Inquiry.objects.get().messages.count() == 2


@pytest.mark.parametrize(("more", "kind", "body"), [
    ({"attachments": [{"type": "sticker", "sticker": {"product_id": 1, "sticker_id": 5}}]}, "sticker", ""),
    ({"attachments": [{"type": "photo", "photo": {"id": 1, "owner_id": ANNA, "sizes": []}}]}, "image", ""),
    ({"attachments": [{"type": "audio_message", "audio_message": {"id": 1, "duration": 3,
                                                                   "link_ogg": "https://psv4.userapi.com/a.ogg"}}]},
     "voice", ""),
    ({"attachments": [{"type": "doc", "doc": {"id": 1, "title": "scan.pdf", "ext": "pdf"}}]}, "file", ""),
    ({"geo": {"type": "point", "coordinates": {"latitude": 55.76, "longitude": 37.61}}}, "location", "55.76, 37.61"),
    ({"attachments": [{"type": "poll", "poll": {"id": 1, "question": "?"}}]}, "other", ""),
])
def test_what_is_not_text_is_kept_as_what_it_was(post, more, kind, body):
    post(event(obj={"message": message(text="", **more)}))
    stored = Message.objects.get()
    assert (stored.kind, stored.body) == (kind, body)


def test_an_edit_is_a_new_line_marked_as_an_edit_and_stored_once(post):
    post(event())
    edit = event("message_edit", message(text="Hello, can I see a cardiologist on Friday?", update_time=SENT + 30))
    post(edit)
    post(edit)
    bodies = list(Inquiry.objects.get().messages.values_list("body", flat=True))
    assert bodies == ["Hello, can I see a cardiologist?", "✎ Hello, can I see a cardiologist on Friday?"]


def test_the_communitys_own_messages_and_group_chats_make_no_conversation(post):
    post(event("message_reply", message(id=180, out=1, from_id=-229416283, text="We will call you")))
    post(event(obj={"message": message(peer_id=2000000001)}))
    post(event("message_typing_state", {"state": "typing", "from_id": ANNA, "to_id": -229416283}))
    assert not (Patient.objects.exists() or UnreadDelivery.objects.exists())


def test_a_wrong_or_missing_secret_is_refused(post):
    assert post(event(secret="guess")).status_code == 403
    assert post({k: v for k, v in event().items() if k != "secret"}).status_code == 403
    assert not Inquiry.objects.exists()


@pytest.mark.parametrize("raw", ["{not json", "[1]", "ok"])
def test_a_body_that_is_not_json_is_refused(post, raw):
    assert post(None, raw=raw).status_code == 400


def test_an_event_of_an_old_api_version_is_refused_and_nothing_is_saved(post):
    assert post(event(obj=message())).status_code == 400
    assert not (Patient.objects.exists() or UnreadDelivery.objects.exists())


def test_without_its_secret_or_confirmation_the_channel_does_not_exist(client, moscow):
    for secret, confirmation in (("", "5d7a9c1e"), (SECRET, "")):
        with override_settings(CLINICFLOW_VK_SECRET=secret, CLINICFLOW_VK_CONFIRMATION=confirmation):
            response = client.post("/hooks/vk", json.dumps({"type": "confirmation"}), content_type="application/json")
            assert response.status_code == 404


# --- sending -----------------------------------------------------------------------------------------


@pytest.fixture
def api(settings, fake_provider):
    settings.CLINICFLOW_VK_API_BASE = fake_provider.url
    settings.CLINICFLOW_VK_TOKEN = "vk1.a.token"
    return fake_provider


def test_send_calls_messages_send_with_a_random_id_that_repeats_for_the_same_message(api):
    api.answer(200, {"response": 185})
    api.answer(200, {"response": 185})
    assert vk.send(to=str(ANNA), text="See you", key="outbox:17") == "185"
    vk.send(to=str(ANNA), text="See you", key="outbox:17")
    first, again = (request.form() for request in api.requests)
    assert api.requests[0].path == "/method/messages.send"
    assert {k: first[k] for k in ("peer_id", "message", "access_token", "v")} == {
        "peer_id": str(ANNA), "message": "See you", "access_token": "vk1.a.token", "v": "5.199"}
    assert first["random_id"] == again["random_id"] != "0"


@pytest.mark.parametrize(("code", "retry"), [(901, False), (6, True), (10, True), (5, False)])
def test_vk_errors_say_whether_to_retry(api, code, retry):
    api.answer(200, {"error": {"error_code": code, "error_msg": "Some VK error", "request_params": []}})
    with pytest.raises(SendFailed, match=str(code)) as failed:
        vk.send(to=str(ANNA), text="See you")
    assert failed.value.retry is retry
