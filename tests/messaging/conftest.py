"""A consenting patient, a fake provider per channel registered where the send job looks, and a worker step.

The fake adapters stand in for the channel modules other work adds (each has `send(*, to, text, **kw)`
returning the provider's id or raising SendFailed); their own wire formats are tested in tests/channels.
"""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from clinicflow.automation.worker import work_once
from clinicflow.channels import sending, whatsapp
from clinicflow.channels.base import SendFailed
from clinicflow.compliance.models import Consent
from clinicflow.compliance.services import consent_record
from clinicflow.patients.models import PatientIdentity
from clinicflow.scheduling.models import Appointment

# Wednesday 10 March 2027, 09:00 UTC: 12:00 in Moscow, 16:00 in Novosibirsk.
NOON_IN_MOSCOW = datetime(2027, 3, 10, 9, 0, tzinfo=UTC)


class FakeProvider:
    """Stands where a channel module is (its `send`): records what it was asked to send; `failures` holds
    SendFailed to raise on the next calls."""

    def __init__(self, channel: str):
        self.channel = channel
        self.sent: list[dict] = []
        self.failures: list[SendFailed] = []
        self.before_send = None

    def send(self, *, to: str, text: str = "", **kw) -> str:
        if self.before_send:
            self.before_send()
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append({"to": to, "text": text, **kw})
        return f"{self.channel}-{len(self.sent)}"


class WhatsAppProvider(FakeProvider):
    """Like clinicflow.channels.whatsapp: free text within 24 hours of the patient's last message, else a
    template approved by Meta."""

    Template = whatsapp.Template
    window_open = staticmethod(whatsapp.window_open)


@pytest.fixture
def providers(monkeypatch):
    fakes = {"whatsapp": WhatsAppProvider("whatsapp"), "sms": FakeProvider("sms"),
             "telegram": FakeProvider("telegram"), "email": FakeProvider("email")}
    monkeypatch.setattr(sending, "sender_for", fakes.get)
    return fakes


@pytest.fixture
def clock():
    with time_machine.travel(NOON_IN_MOSCOW, tick=False) as traveller:
        yield traveller


def consent_to(patient, *purposes):
    for purpose in purposes:
        consent_record(patient=patient, purpose=purpose, source="staff")


@pytest.fixture
def anna(ivan, clock):
    """Ivan's card (Moscow) with consent to service messages and to WhatsApp/Telegram abroad; no marketing."""
    consent_to(ivan, Consent.Purpose.PROCESSING, Consent.Purpose.SERVICE, Consent.Purpose.CROSS_BORDER)
    return ivan


def add_address(patient, channel: str, address: str):
    PatientIdentity.objects.create(patient=patient, channel=channel, address=address)


def run_jobs() -> int:
    return work_once("test-worker")


@pytest.fixture
def visit(anna, doctor, moscow):
    """Anna's visit tomorrow at 10:00 Moscow time."""
    starts = datetime(2027, 3, 11, 7, 0, tzinfo=UTC)
    return Appointment.objects.create(patient=anna, doctor=doctor, branch=moscow, starts_at=starts,
                                      ends_at=starts + timedelta(minutes=30))


