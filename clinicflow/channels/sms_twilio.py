"""SMS by Twilio: incoming SMS and the status callbacks of ours (both form posts to one webhook), and sending.

Twilio signs each request: X-Twilio-Signature = base64(HMAC-SHA1(auth token, the full URL it called followed by
every POST parameter, sorted by name, as name + value)). The URL is Twilio's view of it: behind a proxy that
rewrites the host or scheme, set CLINICFLOW_PUBLIC_URL.
"""

import base64
import hashlib
import hmac
from urllib.parse import parse_qsl

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from clinicflow.inbox.models import Message
from clinicflow.inbox.services import InquiryDraft
from clinicflow.patients.models import Channel
from clinicflow.patients.phones import e164_or_raw

from .base import Adapter, DeliveryReport, Event, Malformed, SendFailed, same
from .outbound import answer_json, provider_post

NAME = "sms/twilio"

# Twilio's MessageStatus values (its OpenAPI enum). "received"/"receiving" describe an incoming SMS, not ours;
# a status not listed here is skipped.
STATUSES = {
    "accepted": Message.Delivery.QUEUED,
    "scheduled": Message.Delivery.QUEUED,
    "queued": Message.Delivery.QUEUED,
    "sending": Message.Delivery.QUEUED,
    "sent": Message.Delivery.SENT,
    "delivered": Message.Delivery.DELIVERED,
    "read": Message.Delivery.READ,
    "undelivered": Message.Delivery.FAILED,
    "failed": Message.Delivery.FAILED,
    "canceled": Message.Delivery.FAILED,
}

# MediaContentType0 of an MMS → what it was.
MEDIA_KINDS = {"image": Message.Kind.IMAGE, "video": Message.Kind.VIDEO, "audio": Message.Kind.VOICE}

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'


def signature(auth_token: str, url: str, params: list[tuple[str, str]]) -> str:
    """Twilio's signature of a request to `url` with these POST parameters."""
    signed = url + "".join(name + value for name, value in sorted(params))
    return base64.b64encode(hmac.new(auth_token.encode(), signed.encode(), hashlib.sha1).digest()).decode()


def called_url(request: HttpRequest) -> str:
    """The URL Twilio called, query string included."""
    if settings.CLINICFLOW_PUBLIC_URL:
        return settings.CLINICFLOW_PUBLIC_URL + request.get_full_path()
    return request.build_absolute_uri()


def _params(body: bytes) -> list[tuple[str, str]]:
    try:
        return parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(body))
    except (UnicodeDecodeError, ValueError) as exc:
        raise Malformed("not a form post") from exc


class TwilioSms(Adapter):
    name, channel, secret_setting = NAME, Channel.SMS, "CLINICFLOW_TWILIO_AUTH_TOKEN"

    def verify(self, request: HttpRequest, body: bytes) -> bool:
        try:
            params = _params(body)
        except Malformed:
            return False  # nothing Twilio signed
        expected = signature(settings.CLINICFLOW_TWILIO_AUTH_TOKEN, called_url(request), params)
        return same(request.headers.get("X-Twilio-Signature", ""), expected)

    def parse(self, request: HttpRequest, body: bytes) -> list[Event]:
        form = dict(_params(body))
        if not form.get("MessageSid"):
            raise Malformed("no MessageSid")
        status = form.get("MessageStatus", "")
        if status and status not in ("received", "receiving"):
            report = _report(form, status)
            return [report] if report else []
        if not form.get("From"):
            raise Malformed("an incoming SMS without From")
        number = e164_or_raw(form["From"])
        return [InquiryDraft(channel=Channel.SMS, sender=number, phone=number, number_verified=True,
                             external_id=form["MessageSid"], text=form.get("Body", ""), kind=_kind(form))]

    def answer(self, request: HttpRequest, events: list[Event]) -> HttpResponse:
        # TwiML with nothing in it: take the message, send no automatic reply.
        return HttpResponse(EMPTY_TWIML, content_type="text/xml")


def _report(form: dict, status: str) -> DeliveryReport | None:
    delivery = STATUSES.get(status)
    if delivery is None:
        return None
    code = form.get("ErrorCode", "")
    error = f"Twilio error {code} {form.get('ErrorMessage', '')}".strip() if code else ""
    return DeliveryReport(channel=Channel.SMS, external_id=form["MessageSid"], status=delivery, error=error[:500])


def _kind(form: dict) -> str:
    if form.get("NumMedia", "0") in ("", "0"):
        return Message.Kind.TEXT
    media = form.get("MediaContentType0", "").split("/")[0]
    return MEDIA_KINDS.get(media, Message.Kind.FILE)


def send(*, to: str, text: str) -> str:
    """Send an SMS to an E.164 number. Returns Twilio's message sid, which its status callbacks name."""
    sid = settings.CLINICFLOW_TWILIO_ACCOUNT_SID
    sender = settings.CLINICFLOW_TWILIO_FROM
    form = {"To": to, "Body": text, "MessagingServiceSid" if sender.startswith("MG") else "From": sender}
    if settings.CLINICFLOW_PUBLIC_URL:
        form["StatusCallback"] = settings.CLINICFLOW_PUBLIC_URL + reverse(f"hook-{NAME}")
    url = f"{settings.CLINICFLOW_TWILIO_API_BASE.rstrip('/')}/2010-04-01/Accounts/{sid}/Messages.json"
    response = provider_post(url, provider="Twilio", data=form, auth=(sid, settings.CLINICFLOW_TWILIO_AUTH_TOKEN))
    answer = answer_json(response, provider="Twilio")
    if response.status_code >= 400 or not answer.get("sid"):
        raise SendFailed(f"Twilio refused the message: {answer.get('code', response.status_code)} "
                         f"{answer.get('message', '')}".strip())
    return answer["sid"]
