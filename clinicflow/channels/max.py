"""MAX messenger Bot API (dev.max.ru/docs-api): updates pushed to /hooks/max by a webhook subscription,
POST /messages to answer.

The subscription (POST /subscriptions with url, update_types and `secret`) makes MAX send the secret in the
`X-Max-Bot-Api-Secret` header of every delivery (dev.max.ru/docs-api/methods/POST/subscriptions); it is
compared in constant time. Only dialogs with the bot are conversations with a patient (a group chat is many
people). Message ids ("mid") are unique across MAX; times are Unix milliseconds. MAX reports no delivery or
reading of what a bot sends.
"""

import re

from django.conf import settings
from django.http import HttpRequest

from clinicflow.inbox.models import Message
from clinicflow.patients.models import Channel

from .base import Adapter, Event, Malformed, SendFailed, same
from .messenger import json_object, own_message, sent_at
from .outbound import answer_json, provider_post

Kind = Message.Kind
KINDS = {"image": Kind.IMAGE, "video": Kind.VIDEO, "audio": Kind.VOICE, "file": Kind.FILE, "sticker": Kind.STICKER,
         "contact": Kind.CONTACT, "location": Kind.LOCATION, "share": Kind.TEXT}
# Buttons under a message are not content.
NOT_CONTENT = {"inline_keyboard"}
VCARD_PHONE = re.compile(r"^TEL[^:\r\n]*:(?P<number>[^\r\n]+)", re.MULTILINE | re.IGNORECASE)
VCARD_NAME = re.compile(r"^FN[^:\r\n]*:(?P<name>[^\r\n]+)", re.MULTILINE | re.IGNORECASE)


class Max(Adapter):
    name, channel, secret_setting = "max", Channel.MAX, "CLINICFLOW_MAX_SECRET"

    def verify(self, request: HttpRequest, body: bytes) -> bool:
        return same(request.headers.get("X-Max-Bot-Api-Secret", ""), settings.CLINICFLOW_MAX_SECRET)

    def parse(self, request: HttpRequest, body: bytes) -> list[Event]:
        update = json_object(body)
        kind = update.get("update_type")
        if not isinstance(kind, str):
            raise Malformed("no update_type")
        if kind == "bot_started":
            return _started(update)
        if kind in ("message_created", "message_edited"):
            return _message(update, edited=kind == "message_edited")
        return []  # button presses, removals, membership changes: nothing a patient wrote


def _started(update: dict) -> list[Event]:
    """The person pressed "Start" (opened the bot, perhaps by a link from the clinic's site): like Telegram's
    /start, a first contact worth an answer."""
    user = update.get("user")
    if not (isinstance(user, dict) and isinstance(user.get("user_id"), int)):
        raise Malformed("bot_started without user.user_id")
    text = f"/start {update.get('payload') or ''}".strip()
    return [own_message(channel=Channel.MAX, sender=user["user_id"], kind=Kind.TEXT, text=text,
                        external_id=f"started:{user['user_id']}:{update.get('timestamp', '')}",
                        full_name=_name(user), at=sent_at(update.get("timestamp"), milliseconds=True))]


def _message(update: dict, *, edited: bool) -> list[Event]:
    message = update.get("message")
    sender = message.get("sender") if isinstance(message, dict) else None
    body = message.get("body") if isinstance(message, dict) else None
    if not (isinstance(sender, dict) and isinstance(body, dict) and isinstance(sender.get("user_id"), int)
            and body.get("mid")):
        raise Malformed("a message without sender.user_id or body.mid")
    if (message.get("recipient") or {}).get("chat_type") != "dialog" or sender.get("is_bot"):
        return []
    kind, text, phone = _content(body, sender["user_id"])
    external_id = str(body["mid"])
    if edited:
        # An edit is a new line (the desk may have read the first version); the update's time tells edits apart.
        external_id += f":edit:{update.get('timestamp', '')}"
    at = update.get("timestamp") if edited else message.get("timestamp")
    return [own_message(channel=Channel.MAX, sender=sender["user_id"], external_id=external_id, kind=kind, text=text,
                        phone=phone, full_name=_name(sender), at=sent_at(at, milliseconds=True), edited=edited)]


def _content(body: dict, user_id: int) -> tuple[str, str, str]:
    """(kind, text, the person's own verified phone or "")."""
    text = str(body.get("text") or "")
    attachments = [a for a in body.get("attachments") or [] if isinstance(a, dict) and a.get("type") not in NOT_CONTENT]
    if not attachments:
        return Kind.TEXT, text, ""
    first = attachments[0]
    kind = KINDS.get(first.get("type"), Kind.OTHER)
    if kind == Kind.CONTACT:
        return _contact(first.get("payload") or {}, user_id)
    if kind == Kind.LOCATION and not text:
        text = f"{first.get('latitude', '')}, {first.get('longitude', '')}"
    return kind, text, ""


def _contact(payload: dict, user_id: int) -> tuple[str, str, str]:
    """A shared contact comes as a vCard; the "share my number" button sends the person's own, and then its
    MAX account is the sender's: MAX vouches that the number is theirs."""
    vcard = str(payload.get("vcf_info") or "")
    phone, name = VCARD_PHONE.search(vcard), VCARD_NAME.search(vcard)
    number = phone["number"].strip() if phone else ""
    own = (payload.get("max_info") or {}).get("user_id") == user_id
    if own:
        return Kind.CONTACT, number, number
    return Kind.CONTACT, f"{name['name'].strip() if name else ''} {number}".strip(), ""


def _name(user: dict) -> str:
    return str(user.get("name") or f"{user.get('first_name', '')} {user.get('last_name') or ''}")


def send(*, to: str, text: str, **kw) -> str:
    """Send a text to a person (their MAX user id); returns the message's mid."""
    token = settings.CLINICFLOW_MAX_BOT_TOKEN
    if not token:
        raise SendFailed("CLINICFLOW_MAX_BOT_TOKEN is not set", retry=False)
    response = provider_post(f"{settings.CLINICFLOW_MAX_API_BASE.rstrip('/')}/messages", provider="MAX",
                             params={"user_id": to}, json={"text": text}, headers={"Authorization": token})
    answer = answer_json(response, provider="MAX")
    mid = ((answer.get("message") or {}).get("body") or {}).get("mid") if response.status_code == 200 else None
    if not mid:
        # 401 a revoked token, 403 the person blocked the bot, 404 no such user: retrying will not help.
        raise SendFailed(f"MAX refused ({response.status_code}): {answer.get('code', '')} "
                         f"{answer.get('message', '')}"[:500], retry=False)
    return str(mid)
