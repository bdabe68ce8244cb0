"""Zadarma PBX call notifications (webhook "telephony/zadarma").

Zadarma POSTs a form per call event (NOTIFY_START, NOTIFY_ANSWER, NOTIFY_END, ...) to the URL set in the
PBX's "notifications" settings, after checking it with a GET that must echo `zd_echo`. Each notification is
signed in the `Signature` header: base64 of the *hex* HMAC-SHA1, keyed with the API secret, of a few fields
that differ by event (Zadarma's own library, zadarma/user-api-v1 lib/Webhook/*.php).
"""

import base64
import hashlib
from urllib.parse import parse_qs

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from clinicflow.patients.models import Channel

from .base import Adapter, CallEvent, Event, Malformed, hmac_hex, same

# The fields each event signs, in order. Events not listed sign what the incoming-call events sign.
SIGNED_FIELDS = {
    "NOTIFY_ANSWER": ("caller_id", "destination", "call_start"),
    "NOTIFY_OUT_START": ("internal", "destination", "call_start"),
    "NOTIFY_OUT_END": ("internal", "destination", "call_start"),
    "NOTIFY_RECORD": ("pbx_call_id", "call_id_with_rec"),
}
INCOMING_SIGNED = ("caller_id", "called_did", "call_start")
STAGES = {"NOTIFY_START": CallEvent.START, "NOTIFY_ANSWER": CallEvent.ANSWERED, "NOTIFY_END": CallEvent.END}
ZD_ECHO_MAX = 100  # Zadarma's check string is short; we echo nothing longer


class Zadarma(Adapter):
    name = "telephony/zadarma"
    channel = Channel.PHONE
    secret_setting = "CLINICFLOW_ZADARMA_SECRET"

    def handshake(self, request: HttpRequest) -> HttpResponse | None:
        echo = request.GET.get("zd_echo")
        if request.method == "GET" and echo is not None:
            return HttpResponse(echo[:ZD_ECHO_MAX], content_type="text/plain")
        return None

    def verify(self, request: HttpRequest, body: bytes) -> bool:
        try:
            form = _form(body)
        except Malformed:
            return False  # nothing in it could carry a valid signature
        fields = SIGNED_FIELDS.get(form.get("event", ""), INCOMING_SIGNED)
        signed = "".join(form.get(name, "") for name in fields).encode()
        expected = base64.b64encode(hmac_hex(settings.CLINICFLOW_ZADARMA_SECRET, signed, hashlib.sha1).encode())
        return same(request.headers.get("Signature", ""), expected)

    def parse(self, request: HttpRequest, body: bytes) -> list[Event]:
        form = _form(body)
        event = form.get("event", "")
        if not event.startswith("NOTIFY_"):
            raise Malformed("no Zadarma event")
        stage = STAGES.get(event)
        if stage is None:
            return []  # internal transfers, outgoing calls, recordings: nothing for the queue
        missing = [name for name in ("pbx_call_id", "caller_id") if not form.get(name)]
        if missing:
            raise Malformed(f"{event} without {', '.join(missing)}")
        try:
            duration = int(form.get("duration") or 0)
        except ValueError:
            raise Malformed(f"duration: not a number: {form['duration'][:20]!r}") from None
        # call_start carries no zone, so the moment the notification arrives stands for the event (they come live).
        return [CallEvent(provider="zadarma", call_id=form["pbx_call_id"], stage=stage, caller=form["caller_id"],
                          at=timezone.now(), answered=form.get("disposition") == "answered",
                          duration_seconds=max(duration, 0))]

    def answer(self, request: HttpRequest, events: list[Event]) -> HttpResponse:
        # An empty answer: a JSON one to NOTIFY_START would change the call's route in the PBX.
        return HttpResponse(b"", content_type="text/plain")


def _form(body: bytes) -> dict[str, str]:
    try:
        pairs = parse_qs(body.decode(), keep_blank_values=True, strict_parsing=bool(body))
    except (UnicodeDecodeError, ValueError) as exc:
        raise Malformed("not a form") from exc
    return {name: values[0] for name, values in pairs.items()}
