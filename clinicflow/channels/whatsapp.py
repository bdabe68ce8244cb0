"""WhatsApp Business Cloud API: the webhook Meta calls (messages and the statuses of ours), and sending.

Meta verifies the webhook once with a GET (hub.verify_token must be ours; we echo hub.challenge) and signs each
POST with X-Hub-Signature-256 = "sha256=" + HMAC-SHA256(app secret, raw body).
"""

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden

from clinicflow.inbox.models import Message
from clinicflow.inbox.services import InquiryDraft
from clinicflow.patients.models import Channel
from clinicflow.patients.phones import e164_or_raw

from .base import Adapter, DeliveryReport, Event, Malformed, SendFailed, hmac_hex, same
from .outbound import answer_json, provider_post

# Free-form messages are allowed only this long after the person's last message to us; our own messages do
# not extend it. Outside it WhatsApp takes only approved templates.
WINDOW = timedelta(hours=24)

KINDS = {
    "text": Message.Kind.TEXT,
    "button": Message.Kind.TEXT,  # a template's quick-reply button pressed
    "interactive": Message.Kind.TEXT,  # a reply button or list row chosen
    "image": Message.Kind.IMAGE,
    "sticker": Message.Kind.STICKER,
    "audio": Message.Kind.VOICE,
    "video": Message.Kind.VIDEO,
    "document": Message.Kind.FILE,
    "location": Message.Kind.LOCATION,
    "contacts": Message.Kind.CONTACT,
}

STATUSES = {
    "sent": Message.Delivery.SENT,
    "delivered": Message.Delivery.DELIVERED,
    "read": Message.Delivery.READ,
    "played": Message.Delivery.READ,  # a voice message listened to
    "failed": Message.Delivery.FAILED,
}


@dataclass(frozen=True)
class Template:
    """A template approved by Meta: the only kind of message a business may start outside the window."""

    name: str
    language: str  # as approved: "ru", "en_US"
    variables: tuple[str, ...] = ()  # the body's {{1}}, {{2}}, ... in order


def window_open(last_inbound_at: datetime | None, now: datetime | None = None) -> bool:
    """May we answer in free text? Only within 24 hours of the person's last message to us."""
    if last_inbound_at is None:
        return False
    now = now or datetime.now(UTC)
    return now - last_inbound_at < WINDOW


class WhatsApp(Adapter):
    name, channel, secret_setting = "whatsapp", Channel.WHATSAPP, "CLINICFLOW_WHATSAPP_APP_SECRET"

    def handshake(self, request: HttpRequest) -> HttpResponse | None:
        if request.method != "GET":
            return None
        mode, token = request.GET.get("hub.mode", ""), request.GET.get("hub.verify_token", "")
        if mode != "subscribe" or not same(token, settings.CLINICFLOW_WHATSAPP_VERIFY_TOKEN):
            return HttpResponseForbidden("wrong verify token", content_type="text/plain")
        return HttpResponse(request.GET.get("hub.challenge", ""), content_type="text/plain")

    def verify(self, request: HttpRequest, body: bytes) -> bool:
        signature = request.headers.get("X-Hub-Signature-256", "")
        expected = "sha256=" + hmac_hex(settings.CLINICFLOW_WHATSAPP_APP_SECRET, body)
        return same(signature, expected)

    def parse(self, request: HttpRequest, body: bytes) -> list[Event]:
        try:
            envelope = json.loads(body)
        except ValueError as exc:
            raise Malformed("not JSON") from exc
        if not isinstance(envelope, dict) or envelope.get("object") != "whatsapp_business_account":
            raise Malformed("not a whatsapp_business_account notification")
        events: list[Event] = []
        for change in _changes(envelope):
            if change.get("field") == "messages":
                events += _events(change.get("value") or {})
        return events


def _changes(envelope: dict) -> list[dict]:
    entries = envelope.get("entry")
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise Malformed("entry must be a list of objects")
    changes = [change for entry in entries for change in entry.get("changes") or []]
    if not all(isinstance(change, dict) for change in changes):
        raise Malformed("changes must be a list of objects")
    return changes


def _events(value: dict) -> list[Event]:
    names = {c.get("wa_id"): (c.get("profile") or {}).get("name", "") for c in value.get("contacts") or []}
    events: list[Event] = [_draft(message, names) for message in value.get("messages") or []]
    events += [report for status in value.get("statuses") or [] if (report := _report(status))]
    return events


def _draft(message: dict, names: dict) -> InquiryDraft:
    if not isinstance(message, dict) or not message.get("from") or not message.get("id"):
        raise Malformed("a message without from or id")
    number = e164_or_raw("+" + str(message["from"]).lstrip("+"))  # WhatsApp writes numbers without "+"
    kind = message.get("type", "")
    return InquiryDraft(channel=Channel.WHATSAPP, sender=number, phone=number, number_verified=True,
                        full_name=names.get(message["from"], ""), external_id=message["id"],
                        kind=KINDS.get(kind, Message.Kind.OTHER), text=_text(kind, message.get(kind) or {}),
                        received_at=_at(message.get("timestamp")))


def _text(kind: str, content: dict) -> str:
    """What the person wrote or chose; media keep their caption. A shared location or contact has no text:
    its kind says what it was."""
    if kind == "text":
        return content.get("body", "")
    if kind == "button":
        return content.get("text", "")
    if kind == "interactive":
        chosen = content.get("button_reply") or content.get("list_reply") or {}
        return chosen.get("title", "")
    if kind == "reaction":
        return content.get("emoji", "")
    return content.get("caption", "") if isinstance(content, dict) else ""


def _report(status: dict) -> DeliveryReport | None:
    """A status of a message we sent. Kinds of status we do not track (a future one) are skipped."""
    if not isinstance(status, dict) or not status.get("id"):
        raise Malformed("a status without id")
    delivery = STATUSES.get(status.get("status", ""))
    if delivery is None:
        return None
    errors = "; ".join(f"{e.get('code', '')} {e.get('title', '')}".strip() for e in status.get("errors") or [])
    return DeliveryReport(channel=Channel.WHATSAPP, external_id=status["id"], status=delivery, error=errors[:500],
                          at=_at(status.get("timestamp")))


def _at(timestamp) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(timestamp), UTC)
    except (TypeError, ValueError):
        return None


def send(*, to: str, text: str = "", template: Template | None = None) -> str:
    """Send `text` (only inside the window: see `window_open`) or else an approved `template` to an E.164
    number. Returns WhatsApp's message id (wamid), which its status callbacks name."""
    if template is None and not text.strip():
        raise ValueError("WhatsApp: nothing to send (no text and no template)")
    payload = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to.lstrip("+")}
    if template is not None:
        payload |= {"type": "template", "template": _template(template)}
    else:
        payload |= {"type": "text", "text": {"body": text, "preview_url": False}}
    url = f"{settings.CLINICFLOW_WHATSAPP_API_BASE.rstrip('/')}/{settings.CLINICFLOW_WHATSAPP_PHONE_NUMBER_ID}/messages"
    response = provider_post(url, provider="WhatsApp", json=payload,
                             headers={"Authorization": f"Bearer {settings.CLINICFLOW_WHATSAPP_TOKEN}"})
    answer = answer_json(response, provider="WhatsApp")
    if response.status_code >= 400 or not answer.get("messages"):
        error = answer.get("error") or {}
        raise SendFailed(f"WhatsApp refused the message: {error.get('code', response.status_code)} "
                         f"{error.get('message', '')}".strip())
    return answer["messages"][0]["id"]


def _template(template: Template) -> dict:
    found = {"name": template.name, "language": {"code": template.language}}
    if template.variables:
        found["components"] = [{"type": "body", "parameters": [{"type": "text", "text": str(value)}
                                                               for value in template.variables]}]
    return found
