"""VK community messages by the Callback API (dev.vk.com/ru/api/callback/getting-started): events posted to
/hooks/vk, messages.send to answer.

VK signs nothing either: every event carries the community's secret key in its JSON body ("secret"), so the
body is read as JSON before the check (anything else is answered 400) and the key compared in constant time.
Setting the server up, VK posts {"type": "confirmation"} and expects the confirmation string back. Every other
event is answered "ok" in plain text, or VK delivers it again. Only a person's own dialog with the community
is a conversation with a patient: peer ids of group chats start at 2000000000.
"""

import hashlib
import json
import secrets

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest

from clinicflow.inbox.models import Message
from clinicflow.patients.models import Channel

from .base import Adapter, Event, Malformed, SendFailed, same
from .messenger import json_object, own_message, sent_at
from .outbound import answer_json, provider_post

API_VERSION = "5.199"
GROUP_CHATS = 2_000_000_000
Kind = Message.Kind
KINDS = {"photo": Kind.IMAGE, "sticker": Kind.STICKER, "audio_message": Kind.VOICE, "audio": Kind.VOICE,
         "video": Kind.VIDEO, "doc": Kind.FILE, "graffiti": Kind.IMAGE, "link": Kind.TEXT}
# VK error codes after which the same call may succeed later: unknown error, too many requests per second,
# flood control, internal server error. Any other (901: the person does not allow the community to write,
# 5: a revoked token...) stays as it is.
RETRY_LATER = {1, 6, 9, 10}


class Vk(Adapter):
    name, channel, secret_setting = "vk", Channel.VK, "CLINICFLOW_VK_SECRET"

    def configured(self) -> bool:
        # Without the confirmation string VK cannot even attach the server to the community.
        return super().configured() and bool(settings.CLINICFLOW_VK_CONFIRMATION)

    def handshake(self, request: HttpRequest) -> HttpResponse | None:
        if request.method != "POST":
            return None
        try:
            event = json_object(request.body)
        except Malformed as exc:
            return HttpResponseBadRequest(f"malformed: {exc}", content_type="text/plain")
        if event.get("type") == "confirmation":
            return HttpResponse(settings.CLINICFLOW_VK_CONFIRMATION, content_type="text/plain")
        return None

    def verify(self, request: HttpRequest, body: bytes) -> bool:
        given = json.loads(body).get("secret")  # the handshake answered 400 to anything but a JSON object
        return isinstance(given, str) and same(given, settings.CLINICFLOW_VK_SECRET)

    def parse(self, request: HttpRequest, body: bytes) -> list[Event]:
        event = json_object(body)
        kind, payload = event.get("type"), event.get("object")
        if not isinstance(kind, str) or not isinstance(payload, dict):
            raise Malformed("no type or object")
        if kind == "message_new":
            if not isinstance(payload.get("message"), dict):
                raise Malformed("message_new without object.message (set the Callback API version to 5.199)")
            return _drafts(payload["message"], edited=False)
        if kind == "message_edit":
            return _drafts(payload, edited=True)
        # message_reply (what the community wrote, by us or in VK itself), typing, joins...: nothing a patient wrote.
        return []


def _drafts(message: dict, *, edited: bool) -> list[Event]:
    if not all(isinstance(message.get(key), int) for key in ("id", "from_id", "peer_id")):
        raise Malformed("a message without id, from_id or peer_id")
    if message["peer_id"] >= GROUP_CHATS or message.get("out") or message["from_id"] != message["peer_id"]:
        return []
    kind, text = _content(message)
    external_id = str(message["id"])  # message ids are counted per community
    if edited:
        # An edit is a new line (the desk may have read the first version); its time tells edits apart.
        external_id += f":edit:{message.get('update_time', '')}"
    return [own_message(channel=Channel.VK, sender=message["peer_id"], external_id=external_id, kind=kind,
                        text=text, at=sent_at(message.get("update_time") if edited else message.get("date")),
                        edited=edited)]


def _content(message: dict) -> tuple[str, str]:
    text = str(message.get("text") or "")
    attachments = [a for a in message.get("attachments") or [] if isinstance(a, dict)]
    if attachments:
        return KINDS.get(attachments[0].get("type"), Kind.OTHER), text
    geo = message.get("geo")
    if isinstance(geo, dict):
        where = geo.get("coordinates") or {}
        return Kind.LOCATION, text or f"{where.get('latitude', '')}, {where.get('longitude', '')}"
    return Kind.TEXT, text


def send(*, to: str, text: str, key: str = "", **kw) -> str:
    """Send a text to a person (their peer id); returns VK's message id. `key`, the caller's own id for this
    message, becomes VK's random_id: a retry of the same message is then not delivered twice."""
    token = settings.CLINICFLOW_VK_TOKEN
    if not token:
        raise SendFailed("CLINICFLOW_VK_TOKEN is not set", retry=False)
    form = {"peer_id": to, "message": text, "random_id": random_id(key), "access_token": token, "v": API_VERSION}
    response = provider_post(f"{settings.CLINICFLOW_VK_API_BASE.rstrip('/')}/method/messages.send",
                             provider="VK", data=form)
    answer = answer_json(response, provider="VK")
    if isinstance(answer.get("response"), int):
        return str(answer["response"])
    error = answer.get("error") if isinstance(answer.get("error"), dict) else {}
    # VK answers its errors with HTTP 200 and an error object.
    raise SendFailed(f"VK refused ({response.status_code}): {error.get('error_code', '')} "
                     f"{error.get('error_msg', '')}"[:500], retry=error.get("error_code") in RETRY_LATER)


def random_id(key: str) -> int:
    """VK drops a message whose random_id it saw from the same community recently: one key, one number."""
    if not key:
        return secrets.randbelow(2**31 - 1) + 1
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:4]) & 0x7FFFFFFF or 1
