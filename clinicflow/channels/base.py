"""What every channel module implements: the provider's wire format on one side, an InquiryDraft (or a
delivery report about a message we sent) on the other.

A channel is one module in this package and one line in `registry.ADAPTERS`. The webhook view does the rest
in the same order for all of them: configured? (else 404) → handshake → signature over the raw body (else
403) → parse (malformed: 400, nothing saved) → each event through `inbox.services`.
"""

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from clinicflow.inbox.services import InquiryDraft


class Malformed(Exception):
    """The body is not what this provider sends: answered 400, nothing saved."""


class SendFailed(Exception):
    """The provider did not take an outbound message. `retry`: worth another try later (a timeout, a 5xx, a rate
    limit); otherwise the message itself was refused (a bad number, a closed WhatsApp window)."""

    def __init__(self, message: str, retry: bool = False):
        super().__init__(message)
        self.retry = retry


@dataclass(frozen=True)
class DeliveryReport:
    """The provider tells how far a message we sent got (sent, delivered, read, failed with its error)."""

    channel: str
    external_id: str  # the provider's id of our message
    status: str  # one of inbox.models.Message.Delivery
    error: str = ""
    at: datetime | None = None


@dataclass(frozen=True)
class CallEvent:
    """A PBX tells about an incoming call: it started, someone answered, or it ended (answered or not)."""

    provider: str  # the namespace of its call ids ("zadarma"): two PBXes may number calls alike
    call_id: str
    stage: str  # "start" | "answered" | "end"
    caller: str  # the caller's number as the PBX spells it
    at: datetime
    answered: bool = False  # at the end: somebody talked to the caller
    after_hours: bool = False  # the PBX sent the call to its after-hours menu or voicemail
    duration_seconds: int = 0

    START, ANSWERED, END = "start", "answered", "end"


Event = InquiryDraft | DeliveryReport | CallEvent


class Adapter:
    """One provider. Subclasses set the names and override what their provider does differently."""

    name = ""  # the webhook's path under /hooks/, e.g. "telegram" or "sms/twilio"
    channel = ""  # patients.models.Channel value of what it brings
    secret_setting = ""  # the setting without which the channel is off (its webhook answers 404)

    def configured(self) -> bool:
        return bool(getattr(settings, self.secret_setting, ""))

    def handshake(self, request: HttpRequest) -> HttpResponse | None:
        """A provider's set-up call (a GET verification, a confirmation request), answered before anything else.
        None: not a handshake."""
        return None

    def verify(self, request: HttpRequest, body: bytes) -> bool:
        """Is the request really from the provider? Checked over the raw body, before parsing, in constant time."""
        raise NotImplementedError

    def parse(self, request: HttpRequest, body: bytes) -> list[Event]:
        """The events in one delivery. Raise Malformed when the body is not the provider's format."""
        raise NotImplementedError

    def answer(self, request: HttpRequest, events: list[Event]) -> HttpResponse:
        """What the provider expects back once the delivery is taken (most want any 200)."""
        return HttpResponse("ok", content_type="text/plain")


def same(given: str | bytes, expected: str | bytes) -> bool:
    """Constant-time comparison of a secret the caller sent with ours; an empty secret never matches."""
    given = given.encode() if isinstance(given, str) else given
    expected = expected.encode() if isinstance(expected, str) else expected
    return bool(expected) and hmac.compare_digest(given, expected)


def hmac_hex(key: str, body: bytes, digest=hashlib.sha256) -> str:
    return hmac.new(key.encode(), body, digest).hexdigest()
