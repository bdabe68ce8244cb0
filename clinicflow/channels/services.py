import logging

from django.core.exceptions import ValidationError
from django.db import transaction

from clinicflow.inbox.services import InquiryDraft, Received, inquiry_receive
from clinicflow.messaging.services import inbound_opt_out_check, outbox_delivery_update

from .base import DeliveryReport, Event
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
            with transaction.atomic():
                _take(event)
        except Exception as exc:  # deliberately broad: whatever it was, the delivery is kept, never lost
            failed.append(f"{type(exc).__name__}: {_described(exc)}")
    if failed:
        delivery_keep_unread(channel=channel, body=body, content_type=content_type, error="\n".join(failed))
    return len(failed)


def _take(event: Event) -> None:
    if isinstance(event, InquiryDraft):
        inquiry, received = inquiry_receive(draft=event)
        if received != Received.DUPLICATE and event.text:
            inbound_opt_out_check(inquiry=inquiry, text=event.text, channel=event.channel,
                                  key=f"{event.channel}:{event.external_id or event.sender}:{inquiry.pk}")
    elif isinstance(event, DeliveryReport):
        outbox_delivery_update(channel=event.channel, external_id=event.external_id, status=event.status,
                               error=event.error, at=event.at)
    else:
        raise TypeError(f"not an event: {type(event).__name__}")


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
