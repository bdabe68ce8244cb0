"""Telegram Bot API (core.telegram.org/bots/api): updates pushed to /hooks/telegram, sendMessage to answer.

Telegram signs nothing: it echoes the `secret_token` given to setWebhook in a header, compared in constant
time. Only private chats with the bot are conversations with a patient: a group's chat id is many people, so
group and channel posts are left out (docs/integration.md). Message ids are counted per chat, hence the
external id "<chat id>:<message id>". Telegram reports no delivery or reading of what a bot sends.
"""

from django.conf import settings
from django.http import HttpRequest

from clinicflow.inbox.models import Message
from clinicflow.patients.models import Channel

from .base import Adapter, Event, Malformed, SendFailed, same
from .messenger import json_object, own_message, sent_at
from .outbound import answer_json, provider_post

Kind = Message.Kind
# The first of these a message carries names its kind; text and captions are kept whatever the kind.
KINDS = [("sticker", Kind.STICKER), ("photo", Kind.IMAGE), ("voice", Kind.VOICE), ("audio", Kind.VOICE),
         ("video", Kind.VIDEO), ("video_note", Kind.VIDEO), ("animation", Kind.VIDEO), ("document", Kind.FILE),
         ("venue", Kind.LOCATION), ("location", Kind.LOCATION)]


class Telegram(Adapter):
    name, channel, secret_setting = "telegram", Channel.TELEGRAM, "CLINICFLOW_TELEGRAM_SECRET_TOKEN"

    def verify(self, request: HttpRequest, body: bytes) -> bool:
        return same(request.headers.get("X-Telegram-Bot-Api-Secret-Token", ""),
                    settings.CLINICFLOW_TELEGRAM_SECRET_TOKEN)

    def parse(self, request: HttpRequest, body: bytes) -> list[Event]:
        update = json_object(body)
        if not isinstance(update.get("update_id"), int):
            raise Malformed("no update_id")
        edited = "edited_message" in update
        message = update.get("edited_message") if edited else update.get("message")
        if message is None:
            return []  # button presses, chat member changes...: nothing a patient wrote
        chat = _checked(message)
        if chat.get("type") != "private":
            return []
        return [_draft(message, chat["id"], edited=edited)]


def _checked(message) -> dict:
    chat = message.get("chat") if isinstance(message, dict) else None
    if not (isinstance(chat, dict) and isinstance(chat.get("id"), int) and isinstance(message.get("message_id"), int)):
        raise Malformed("a message without chat.id or message_id")
    return chat


def _draft(message: dict, chat_id: int, *, edited: bool):
    author = message.get("from") or {}
    kind, text, phone = _content(message, author)
    external_id = f"{chat_id}:{message['message_id']}"
    if edited:
        # An edit is a new line (the desk may have read the first version); its time tells edits apart.
        external_id += f":edit:{message.get('edit_date', '')}"
    return own_message(channel=Channel.TELEGRAM, sender=chat_id, external_id=external_id, kind=kind, text=text,
                       phone=phone, full_name=f"{author.get('first_name', '')} {author.get('last_name', '')}",
                       at=sent_at(message.get("edit_date") if edited else message.get("date")), edited=edited)


def _content(message: dict, author: dict) -> tuple[str, str, str]:
    """(kind, text, the person's own verified phone or "")."""
    text = str(message.get("text") or message.get("caption") or "")
    contact = message.get("contact")
    if isinstance(contact, dict):
        number = str(contact.get("phone_number", ""))
        # The "share my number" button sends the person's own contact: Telegram vouches that it is theirs.
        own = contact.get("user_id") is not None and contact.get("user_id") == author.get("id")
        name = f"{contact.get('first_name', '')} {contact.get('last_name', '')}".strip()
        return Kind.CONTACT, number if own else f"{name} {number}".strip(), number if own else ""
    for key, kind in KINDS:
        if key in message:
            if kind == Kind.LOCATION and not text:
                text = _place(message)
            return kind, text, ""
    return (Kind.TEXT, text, "") if "text" in message else (Kind.OTHER, text, "")


def _place(message: dict) -> str:
    venue = message.get("venue") or {}
    location = message.get("location") or venue.get("location") or {}
    where = f"{location.get('latitude', '')}, {location.get('longitude', '')}"
    return " — ".join(filter(None, [venue.get("title"), venue.get("address"), where]))


def send(*, to: str, text: str, **kw) -> str:
    """Send a text to a chat; returns the message's external id ("<chat id>:<message id>")."""
    token = settings.CLINICFLOW_TELEGRAM_BOT_TOKEN
    if not token:
        raise SendFailed("CLINICFLOW_TELEGRAM_BOT_TOKEN is not set", retry=False)
    url = f"{settings.CLINICFLOW_TELEGRAM_API_BASE.rstrip('/')}/bot{token}/sendMessage"
    response = provider_post(url, provider="Telegram", json={"chat_id": to, "text": text})
    answer = answer_json(response, provider="Telegram")
    result = answer.get("result") if answer.get("ok") else None
    if not isinstance(result, dict) or "message_id" not in result:
        # 400 chat not found, 403 the person blocked the bot, 401 a revoked token: retrying will not help.
        raise SendFailed(f"Telegram refused ({response.status_code}): {answer.get('description', '')}"[:500],
                         retry=False)
    return f"{to}:{result['message_id']}"
