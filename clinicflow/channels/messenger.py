"""What the messenger bots (Telegram, MAX, VK) have in common, so that each of their modules holds only its
provider's wire format: a JSON body or Malformed, the provider's clock, a person's own message as a draft.
(Their outbound calls go through `outbound`, like every channel's.)"""

import json
from datetime import UTC, datetime

from django.utils import timezone

from clinicflow.inbox.services import InquiryDraft

from .base import Malformed

# Marks a line that is a later version of a message already in the conversation. A sign, not a word: the
# conversation stores what arrived, and a word would be frozen in the language of the moment it came in.
EDITED = "✎ "


def json_object(body: bytes) -> dict:
    """The delivery as a JSON object, or Malformed."""
    try:
        update = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Malformed("not JSON") from exc
    if not isinstance(update, dict):
        raise Malformed("not a JSON object")
    return update


def sent_at(timestamp, *, milliseconds: bool = False) -> datetime | None:
    """When the person wrote, by the provider's clock (Unix time); never later than now, so a provider's
    clock running ahead cannot push the response deadline."""
    if not isinstance(timestamp, int | float) or isinstance(timestamp, bool):
        return None
    at = datetime.fromtimestamp(timestamp / 1000 if milliseconds else timestamp, tz=UTC)
    return min(at, timezone.now())


def own_message(*, channel: str, sender, external_id: str, kind: str, text: str = "", full_name: str = "",
                phone: str = "", at: datetime | None = None, edited: bool = False) -> InquiryDraft:
    """A message the person wrote to the clinic's bot from their own account: the account is verified by the
    messenger, and writing is their own request (no consent box to tick)."""
    return InquiryDraft(channel=channel, sender=str(sender), external_id=external_id, kind=kind,
                        text=(EDITED + text) if edited else text, full_name=full_name.strip(),
                        phone=plus_phone(phone), number_verified=True, received_at=at)


def plus_phone(phone: str) -> str:
    """Messengers give a shared number in international form, often without its "+" ("79161234567");
    without it, the number would be read as a local one."""
    phone = phone.strip()
    return f"+{phone}" if phone and phone[0].isdigit() else phone
