"""The generic JSON call webhook any PBX can speak (docs/integration.md): one event per POST, signed with
HMAC-SHA256 of the raw body."""

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client, override_settings

from clinicflow.channels.models import UnreadDelivery
from clinicflow.clinic.models import ClinicSettings
from clinicflow.inbox.models import Inquiry
from clinicflow.tasks.models import Task

pytestmark = pytest.mark.django_db

SECRET = "pbx-secret"
NOW = datetime(2026, 12, 1, 7, 0, tzinfo=UTC)  # Tuesday 10:00 in Moscow: open
EVENING = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)  # 20:00 in Moscow: closed until 9:00 tomorrow


def call(event="call_start", call_id="c-1", **fields):
    return {"event": event, "call_id": call_id, "from": "+7 916 123-45-67", "to": "+74950000000",
            "at": "2026-12-01T10:00:00+03:00", **fields}


@pytest.fixture
def send(moscow):
    ClinicSettings.objects.update_or_create(pk=1, defaults={"default_branch": moscow})
    client = Client()

    def post(payload, secret=SECRET, raw: bytes | None = None):
        body = raw if raw is not None else json.dumps(payload).encode()
        sig = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        return client.post("/hooks/telephony/generic", body, content_type="application/json",
                           headers={"X-Clinicflow-Signature": sig})

    with override_settings(CLINICFLOW_TELEPHONY_SECRET=SECRET), time_machine.travel(NOW, tick=False):
        yield post


def test_a_call_start_opens_a_phone_inquiry_at_the_time_the_pbx_gives(send):
    assert send(call(at="2026-12-01T09:59:30+03:00")).status_code == 200
    inquiry = Inquiry.objects.get()
    assert inquiry.channel == "phone" and inquiry.patient.phones == ["+79161234567"]
    assert inquiry.received_at == NOW - timedelta(seconds=30)


def test_the_answered_event_is_the_first_response(send):
    send(call())
    send(call("call_answered", at="2026-12-01T10:00:20+03:00"))
    inquiry = Inquiry.objects.get()
    assert inquiry.status == "answered" and inquiry.first_response_at == NOW + timedelta(seconds=20)


def test_an_answered_end_alone_counts_from_the_moment_of_answer(send):
    send(call("call_end", at="2026-12-01T10:02:00+03:00", answered=True, duration_seconds=90))
    assert Inquiry.objects.get().first_response_at == NOW + timedelta(seconds=30)
    assert not Task.objects.exists()


def test_a_missed_call_becomes_a_call_back_task(send):
    send(call())
    send(call("call_end", answered=False, at="2026-12-01T10:00:40+03:00"))
    task = Task.objects.get()
    assert task.kind == "callback" and task.due_at == NOW + timedelta(seconds=40, minutes=5)


def test_an_after_hours_call_is_called_back_once_the_branch_opens(send):
    with time_machine.travel(EVENING, tick=False):
        send(call(at="2026-12-01T20:00:00+03:00", after_hours=True))
        send(call("call_end", at="2026-12-01T20:00:30+03:00", answered=True, after_hours=True, duration_seconds=20))
    inquiry = Inquiry.objects.get()
    assert inquiry.is_waiting  # the voicemail answered, nobody of the clinic
    # Wednesday 9:05 in Moscow: the target counts in working hours.
    assert Task.objects.get().due_at == datetime(2026, 12, 2, 6, 5, tzinfo=UTC)


def test_a_redelivered_event_creates_nothing(send):
    for _ in range(2):
        send(call())
        send(call("call_end"))
    assert (Inquiry.objects.count(), Task.objects.count(), Inquiry.objects.get().messages.count()) == (1, 1, 2)


def test_a_wrong_signature_is_refused(send):
    assert send(call(), secret="guess").status_code == 403
    assert not Inquiry.objects.exists()


@pytest.mark.parametrize("payload, field", [
    (call(event="ringing"), "event"),
    ({"event": "call_start", "from": "+79161234567"}, "call_id"),
    (call(**{"from": ""}), "from"),
    (call(at="2026-12-01 10:00"), "at"),
    (call(at="2026-13-01T10:00:00+03:00"), "at"),
    (call(answered="yes"), "answered"),
    (call(duration_seconds=-1), "duration_seconds"),
    ([call()], "object"),
])
def test_a_malformed_event_is_refused_naming_the_field(send, payload, field):
    response = send(payload)
    assert response.status_code == 400 and field in response.content.decode()
    assert not (Inquiry.objects.exists() or UnreadDelivery.objects.exists())


def test_a_body_that_is_not_json_is_refused(send):
    assert send(None, raw=b"event=call_start").status_code == 400
