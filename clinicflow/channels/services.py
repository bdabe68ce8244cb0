import logging
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from clinicflow.inbox.models import Inquiry, Message
from clinicflow.inbox.services import (
    InquiryDraft,
    Received,
    inquiry_call_answered,
    inquiry_call_missed,
    inquiry_receive,
)
from clinicflow.messaging.services import inbound_opt_out_check, outbox_delivery_update
from clinicflow.patients.models import Channel
from clinicflow.patients.phones import normalize_phone

from .base import CallEvent, DeliveryReport, Event
from .models import UnreadDelivery

log = logging.getLogger(__name__)


def delivery_take(*, channel: str, events: list[Event], body: bytes, content_type: str = "") -> int:
    """Take one signed, parsed delivery: each event into the queue or onto the message it reports on.
    Returns how many events could not be taken.

    An event that fails (a value we refuse, a bug of ours) must not cost the others nor make the provider
    redeliver forever: it is rolled back alone, and the raw delivery is kept once for review.
    """
    failed = []
    for event in events:
        try:
            _take_once(event)
        except Exception as exc:  # deliberately broad: whatever it was, the delivery is kept, never lost
            failed.append(f"{type(exc).__name__}: {_described(exc)}")
    if failed:
        delivery_keep_unread(channel=channel, body=body, content_type=content_type, error="\n".join(failed))
    return len(failed)


def _take_once(event: Event) -> None:
    """One event in one transaction (one commit for a new inquiry: no savepoint inside)."""
    try:
        with transaction.atomic():
            _take(event)
    except IntegrityError:
        # The same event delivered twice at the same moment: the other delivery won, and taken again this one
        # finds its inquiry (a duplicate, nothing written).
        with transaction.atomic():
            _take(event)


def _take(event: Event) -> None:
    if isinstance(event, InquiryDraft):
        inquiry, received = inquiry_receive(draft=event, savepoint=False)
        if received != Received.DUPLICATE and event.text:
            inbound_opt_out_check(inquiry=inquiry, text=event.text, channel=event.channel,
                                  key=f"{event.channel}:{event.external_id or event.sender}:{inquiry.pk}")
    elif isinstance(event, DeliveryReport):
        outbox_delivery_update(channel=event.channel, external_id=event.external_id, status=event.status,
                               error=event.error, at=event.at)
    elif isinstance(event, CallEvent):
        call_take(call=event)
    else:
        raise TypeError(f"not an event: {type(event).__name__}")


def call_take(*, call: CallEvent) -> Inquiry | None:
    """A PBX's notification about an incoming call: the call is an inquiry (or joins the caller's waiting one);
    answered, it is the inquiry's first response; missed or after hours, a call-back task.

    Every stage carries the caller, so a PBX that only reports the end still opens the inquiry, and each stage
    is taken once however often it is delivered (the ids are the provider's call id and the stage).
    """
    try:
        phone = normalize_phone(call.caller)
    except ValidationError:
        # A hidden or internal number: nobody to call back and no patient to find. Not kept: no personal data.
        log.info("A %s call from a hidden or unreadable number is not an inquiry", call.provider)
        return None
    key = f"{call.provider}:{call.call_id}"
    started_at = call.at - timedelta(seconds=call.duration_seconds) if call.stage == CallEvent.END else call.at
    inquiry, _received = inquiry_receive(draft=InquiryDraft(
        channel=Channel.PHONE, phone=phone, kind=Message.Kind.CALL, number_verified=True,
        external_id=f"{key}:start", received_at=started_at))
    if call.after_hours or (call.stage == CallEvent.END and not call.answered):
        inquiry_call_missed(inquiry=inquiry, at=call.at, external_id=f"{key}:missed", after_hours=call.after_hours)
    elif call.stage in (CallEvent.ANSWERED, CallEvent.END):
        answered_at = call.at if call.stage == CallEvent.ANSWERED else started_at
        inquiry_call_answered(inquiry=inquiry, at=answered_at, external_id=f"{key}:answered")
    return inquiry


def _described(exc: Exception) -> str:
    if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
        return "; ".join(f"{field}: {' '.join(messages)}" for field, messages in exc.message_dict.items())
    return str(exc)[:500]


def delivery_keep_unread(*, channel: str, body: bytes, content_type: str, error: str) -> UnreadDelivery:
    """Keep a delivery we could not read, raw, and say so in the log (without its personal data)."""
    unread = UnreadDelivery.objects.create(channel=channel, body=body.decode("utf-8", "replace"),
                                           content_type=content_type[:120], error=error)
    log.error("Could not read a %s delivery (kept as unread delivery #%s): %s", channel, unread.pk,
              error.splitlines()[0])
    return unread
