"""Zadarma's call notifications: signed form posts (base64 of the hex HMAC-SHA1 of a few fields per event),
shaped as Zadarma's own library and examples describe them (zadarma/user-api-v1 lib/Webhook/*.php)."""

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest
import time_machine
from django.test import Client, override_settings

from clinicflow.automation.models import Job
from clinicflow.channels.models import UnreadDelivery
from clinicflow.clinic.models import ClinicSettings
from clinicflow.inbox.models import Inquiry, Message
from clinicflow.inbox.services import InquiryDraft, inquiry_receive
from clinicflow.patients.models import Patient
from clinicflow.tasks.models import Task

pytestmark = pytest.mark.django_db

SECRET = "zd-secret"
# Monday 1 December 2026, 10:00 in Moscow: the branch is open.
OPEN = datetime(2026, 12, 1, 7, 0, tzinfo=UTC)


def signature(*parts: str) -> str:
    digest = hmac.new(SECRET.encode(), "".join(parts).encode(), hashlib.sha1).hexdigest()
    return base64.b64encode(digest.encode()).decode()


def start(call_id="in_1", caller="79161234567", did="74950000000", call_start="2026-12-01 10:00:00"):
    return {"event": "NOTIFY_START", "call_start": call_start, "pbx_call_id": call_id, "caller_id": caller,
            "called_did": did}


def answer(call_id="in_1", caller="79161234567", destination="100", call_start="2026-12-01 10:00:00"):
    return {"event": "NOTIFY_ANSWER", "caller_id": caller, "destination": destination, "call_start": call_start,
            "pbx_call_id": call_id, "internal": "100"}


def end(call_id="in_1", caller="79161234567", disposition="no answer", duration="0"):
    return {**start(call_id, caller), "event": "NOTIFY_END", "internal": "", "duration": duration,
            "disposition": disposition, "status_code": "16", "is_recorded": "0", "call_id_with_rec": ""}


def signed_parts(form: dict) -> tuple[str, ...]:
    if form["event"] == "NOTIFY_ANSWER":
        return form["caller_id"], form["destination"], form["call_start"]
    return form["caller_id"], form["called_did"], form["call_start"]


@pytest.fixture
def notify(moscow):
    ClinicSettings.objects.update_or_create(pk=1, defaults={"default_branch": moscow})
    client = Client()

    def post(form: dict, sig: str | None = None):
        return client.post("/hooks/telephony/zadarma", urlencode(form),
                           content_type="application/x-www-form-urlencoded",
                           headers={"Signature": sig if sig is not None else signature(*signed_parts(form))})

    with override_settings(CLINICFLOW_ZADARMA_SECRET=SECRET), time_machine.travel(OPEN, tick=False):
        yield post


def test_the_webhook_does_not_exist_without_the_secret(client, moscow):
    assert client.post("/hooks/telephony/zadarma", start()).status_code == 404


def test_zadarmas_url_check_is_echoed(notify, client):
    response = client.get("/hooks/telephony/zadarma", {"zd_echo": "abc123"})
    assert response.status_code == 200 and response.content == b"abc123"


def test_a_call_from_a_new_number_opens_a_phone_inquiry(notify):
    assert notify(start()).status_code == 200
    inquiry = Inquiry.objects.get()
    assert inquiry.channel == "phone" and inquiry.status == "new"
    assert inquiry.patient.phones == ["+79161234567"]
    call = inquiry.messages.get()
    assert (call.kind, call.channel, call.external_id) == ("call", "phone", "zadarma:in_1:start")


def test_a_known_patient_calling_in_another_spelling_is_found(notify, ivan):
    notify(start(caller="89161234567"))
    assert Inquiry.objects.get().patient == ivan
    assert Patient.objects.count() == 1


def test_a_call_joins_the_patients_waiting_inquiry(notify, ivan):
    waiting, _ = inquiry_receive(draft=InquiryDraft(channel="web", phone="+79161234567", consent=True, text="Hi"))
    notify(start())
    assert Inquiry.objects.get() == waiting
    assert [m.kind for m in waiting.messages.all()] == ["text", "call"]


def test_a_redelivered_notification_creates_nothing(notify):
    notify(start())
    notify(start())
    notify(end())
    notify(end())
    assert (Inquiry.objects.count(), Task.objects.count()) == (1, 1)
    assert Message.objects.count() == 2  # the call, and the note of the missed call


def test_an_answered_call_is_the_first_response(notify):
    notify(start())
    notify(answer())
    notify(end(disposition="answered", duration="95"))
    inquiry = Inquiry.objects.get()
    assert inquiry.status == "answered" and inquiry.first_response_at == OPEN
    assert inquiry.first_response_by is None
    assert Job.objects.get(idempotency_key=inquiry.escalation_key).state == "cancelled"
    assert not Task.objects.exists()


def test_a_missed_call_becomes_a_call_back_task_due_within_the_target(notify):
    notify(start())
    notify(end(disposition="no answer"))
    inquiry = Inquiry.objects.get()
    task = Task.objects.get()
    assert inquiry.is_waiting
    assert (task.kind, task.inquiry, task.patient, task.role) == ("callback", inquiry, inquiry.patient, "receptionist")
    assert task.due_at == OPEN + timedelta(minutes=5)
    assert "+7" not in task.title and "7916" not in task.title


def test_a_missed_call_without_its_start_still_opens_the_inquiry(notify):
    notify(end(disposition="busy"))
    assert Inquiry.objects.get().tasks.get().kind == "callback"


def test_getting_through_later_finishes_the_call_back_task(notify):
    notify(start("in_1"))
    notify(end("in_1", disposition="cancel"))
    notify(start("in_2"))
    notify(answer("in_2"))
    inquiry = Inquiry.objects.get()
    assert inquiry.status == "answered"
    assert Task.objects.get().done_at is not None


def test_a_wrong_signature_is_refused(notify):
    assert notify(start(), sig=signature("something", "else")).status_code == 403
    assert not Inquiry.objects.exists()


def test_a_form_without_an_event_is_malformed(notify):
    form = {"caller_id": "79161234567", "called_did": "74950000000", "call_start": "2026-12-01 10:00:00"}
    assert notify(form, sig=signature(*form.values())).status_code == 400
    assert not (Inquiry.objects.exists() or UnreadDelivery.objects.exists())


def test_a_call_event_without_its_call_id_is_malformed(notify):
    form = {**start(), "pbx_call_id": ""}
    assert notify(form).status_code == 400


def test_a_hidden_number_is_no_inquiry(notify):
    assert notify(start(caller="anonymous")).status_code == 200
    assert not (Inquiry.objects.exists() or UnreadDelivery.objects.exists())


def test_internal_and_outgoing_calls_are_taken_and_ignored(notify):
    form = {"event": "NOTIFY_OUT_START", "call_start": "2026-12-01 10:00:00", "pbx_call_id": "out_1",
            "internal": "100", "destination": "79161234567"}
    assert notify(form, sig=signature("100", "79161234567", "2026-12-01 10:00:00")).status_code == 200
    assert not Inquiry.objects.exists()


def test_the_queue_marks_a_missed_call_and_the_phone_dials(notify, rita_client):
    notify(start())
    notify(end(disposition="no answer"))
    page = rita_client.get("/queue/").content.decode()
    assert "Missed call — call back" in page
    assert 'href="tel:+79161234567"' in page


def test_a_call_still_ringing_is_not_marked_missed(notify, rita_client):
    notify(start("in_1"))
    notify(start("in_2"))
    page = rita_client.get("/queue/").content.decode()
    assert "Missed call" not in page
