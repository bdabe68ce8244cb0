"""Inquiry fixtures: a visitor of the public website, and a quick way to receive an inquiry."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from clinicflow.inbox.services import InquiryDraft, inquiry_receive
from clinicflow.patients.models import Channel

MOSCOW = ZoneInfo("Europe/Moscow")
# A Wednesday morning in Moscow: the front desk is open, nothing is near a break.
WEDNESDAY_10 = datetime(2025, 3, 12, 10, 0, tzinfo=MOSCOW)


@pytest.fixture
def visitor(db) -> Client:
    """An anonymous browser on the clinic's website."""
    return Client(REMOTE_ADDR="203.0.113.7")


@pytest.fixture
def receive(moscow):
    """Receive an inquiry through the service, as any channel would."""

    def receive(phone="+79161234567", *, branch=None, received_at=None, channel=Channel.WEB, **fields):
        draft = InquiryDraft(channel=channel, phone=phone, consent=True, branch_id=(branch or moscow).pk,
                             received_at=received_at, **fields)
        inquiry, _created = inquiry_receive(draft=draft)
        return inquiry

    return receive
