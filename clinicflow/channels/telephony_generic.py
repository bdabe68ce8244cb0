"""A documented JSON format any PBX (Asterisk, FreePBX, a provider's webhook relay) can send (webhook
"telephony/generic"); docs/integration.md has the contract, an example and how to sign it.

One call event per POST:
    {"event": "call_start" | "call_answered" | "call_end", "call_id": "...", "from": "+79161234567",
     "to": "+74950000000", "at": "2026-12-01T09:15:00+03:00", "answered": false, "duration_seconds": 0,
     "after_hours": false}
signed in `X-Clinicflow-Signature: sha256=<hex HMAC-SHA256(CLINICFLOW_TELEPHONY_SECRET, raw body)>`.
"""

import json

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from clinicflow.patients.models import Channel

from .base import Adapter, CallEvent, Event, Malformed, hmac_hex, same

STAGES = {"call_start": CallEvent.START, "call_answered": CallEvent.ANSWERED, "call_end": CallEvent.END}
CALL_ID_MAX = 150  # the inquiry's and message's external_id hold 200 with the prefix and stage


class GenericTelephony(Adapter):
    name = "telephony/generic"
    channel = Channel.PHONE
    secret_setting = "CLINICFLOW_TELEPHONY_SECRET"

    def verify(self, request: HttpRequest, body: bytes) -> bool:
        expected = "sha256=" + hmac_hex(settings.CLINICFLOW_TELEPHONY_SECRET, body)
        return same(request.headers.get("X-Clinicflow-Signature", ""), expected)

    def parse(self, request: HttpRequest, body: bytes) -> list[Event]:
        try:
            call = json.loads(body)
        except ValueError as exc:
            raise Malformed("not JSON") from exc
        if not isinstance(call, dict):
            raise Malformed("expected one JSON object")
        stage = STAGES.get(call.get("event"))
        if stage is None:
            raise Malformed(f"event: expected one of {', '.join(STAGES)}")
        return [CallEvent(provider="generic", call_id=_text(call, "call_id", CALL_ID_MAX), stage=stage,
                          caller=_text(call, "from", 40), at=_moment(call.get("at")),
                          answered=_flag(call, "answered"), after_hours=_flag(call, "after_hours"),
                          duration_seconds=_seconds(call.get("duration_seconds", 0)))]


def _text(call: dict, name: str, longest: int) -> str:
    value = call.get(name)
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise Malformed(f"{name}: required, a string")
    if len(value) > longest:
        raise Malformed(f"{name}: longer than {longest} characters")
    return value.strip()


def _flag(call: dict, name: str) -> bool:
    value = call.get(name, False)
    if not isinstance(value, bool):
        raise Malformed(f"{name}: expected true or false")
    return value


def _seconds(value) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise Malformed("duration_seconds: expected a whole number of seconds, 0 or more")
    return value


def _moment(value):
    """ISO 8601 with its offset; absent, the moment it arrives (PBXes report live)."""
    if value is None:
        return timezone.now()
    try:
        moment = parse_datetime(value) if isinstance(value, str) else None
    except ValueError:  # well formed but impossible, e.g. month 13
        moment = None
    if moment is None or moment.tzinfo is None:
        raise Malformed("at: expected an ISO 8601 time with its offset, e.g. 2026-12-01T09:15:00+03:00")
    return moment
