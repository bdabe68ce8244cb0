"""The webhook contract every channel shares: off without its secret, signatures before parsing, malformed
bodies refused with nothing saved, anything we cannot read kept raw instead of lost, redeliveries ignored."""

import json

import pytest
from django.test import RequestFactory, override_settings

from clinicflow.channels import views
from clinicflow.channels.base import Adapter, DeliveryReport, Malformed, same
from clinicflow.channels.models import UnreadDelivery
from clinicflow.clinic.models import ClinicSettings
from clinicflow.inbox.models import Inquiry, Message
from clinicflow.inbox.services import InquiryDraft, inquiry_receive
from clinicflow.patients.models import Patient

pytestmark = pytest.mark.django_db


class Echo(Adapter):
    """A made-up provider: JSON lines {"id", "from", "text"} signed with a shared secret in a header."""

    name, channel, secret_setting = "echo", "telegram", "ECHO_SECRET"

    def verify(self, request, body):
        from django.conf import settings

        return same(request.headers.get("X-Secret", ""), settings.ECHO_SECRET)

    def parse(self, request, body):
        try:
            items = json.loads(body)
        except ValueError as exc:
            raise Malformed("not JSON") from exc
        if items == "boom":
            raise RuntimeError("a shape we never saw")
        events = []
        for item in items:
            if "status" in item:
                events.append(DeliveryReport(channel="telegram", external_id=item["id"], status=item["status"]))
            else:
                events.append(InquiryDraft(channel="telegram", sender=item["from"], external_id=item["id"],
                                           text=item.get("text", ""), phone=item.get("phone", ""),
                                           number_verified=True))
        return events


@pytest.fixture
def deliver(monkeypatch, moscow):
    ClinicSettings.objects.update_or_create(pk=1, defaults={"default_branch": moscow})
    monkeypatch.setattr(views, "adapter_for", lambda name: Echo() if name == "echo" else None)

    def post(payload, secret="s3cret", raw=None):
        body = raw if raw is not None else json.dumps(payload).encode()
        request = RequestFactory().post("/hooks/echo", body, content_type="application/json",
                                        headers={"X-Secret": secret})
        return views.hook(request, name="echo")

    with override_settings(ECHO_SECRET="s3cret"):
        yield post


def test_a_channel_without_its_secret_does_not_exist(monkeypatch, db):
    monkeypatch.setattr(views, "adapter_for", lambda name: Echo())
    with override_settings(ECHO_SECRET=""), pytest.raises(views.Http404):
        views.hook(RequestFactory().post("/hooks/echo", b"[]", content_type="application/json"), name="echo")


def test_a_wrong_signature_is_refused_before_the_body_is_read(deliver):
    assert deliver("boom", secret="guess").status_code == 403
    assert not UnreadDelivery.objects.exists()


def test_a_malformed_body_is_refused_and_nothing_is_saved(deliver):
    assert deliver(None, raw=b"{not json").status_code == 400
    assert not (Patient.objects.exists() or Inquiry.objects.exists() or UnreadDelivery.objects.exists())


def test_a_message_from_a_new_account_opens_an_inquiry_for_a_new_patient(deliver):
    assert deliver([{"id": "m1", "from": "555", "text": "Hello"}]).status_code == 200
    inquiry = Inquiry.objects.get()
    assert inquiry.patient.identities.get().address == "555"
    assert inquiry.messages.get().body == "Hello"


def test_a_redelivered_message_creates_nothing(deliver):
    deliver([{"id": "m1", "from": "555", "text": "Hello"}])
    assert deliver([{"id": "m1", "from": "555", "text": "Hello"}]).status_code == 200
    assert (Patient.objects.count(), Inquiry.objects.count(), Message.objects.count()) == (1, 1, 1)


def test_the_next_message_joins_the_waiting_inquiry(deliver):
    deliver([{"id": "m1", "from": "555", "text": "Hello"}])
    deliver([{"id": "m2", "from": "555", "text": "Are you there?"}])
    inquiry = Inquiry.objects.get()
    assert [m.body for m in inquiry.messages.all()] == ["Hello", "Are you there?"]


def test_an_account_that_shares_a_known_phone_joins_that_patient(deliver, moscow):
    known, _ = inquiry_receive(draft=InquiryDraft(channel="web", phone="8 916 123-45-67", consent=True))
    deliver([{"id": "m1", "from": "777", "text": "It's me", "phone": "+79161234567"}])
    assert Patient.objects.count() == 1
    assert set(known.patient.identities.values_list("channel", "address")) == {
        ("phone", "+79161234567"), ("telegram", "777")}


def test_one_bad_event_is_kept_raw_and_costs_the_others_nothing(deliver):
    response = deliver([{"id": "m1", "from": "555", "text": "Hi"}, {"id": "m2", "from": "556", "phone": "12"}])
    assert response.status_code == 200
    assert Inquiry.objects.count() == 1
    unread = UnreadDelivery.objects.get()
    assert "phone" in unread.error and '"m2"' in unread.body


def test_a_body_the_adapter_cannot_read_is_kept_and_answered_200(deliver):
    assert deliver("boom").status_code == 200
    assert "a shape we never saw" in UnreadDelivery.objects.get().error


def test_delivery_reports_move_forward_only(deliver, moscow):
    inquiry, _ = inquiry_receive(draft=InquiryDraft(channel="web", phone="8 916 123-45-67", consent=True))
    sent = Message.objects.create(inquiry=inquiry, direction="out", channel="telegram", external_id="out-1",
                                  body="See you", delivery="sent")
    deliver([{"id": "out-1", "status": "read"}])
    deliver([{"id": "out-1", "status": "delivered"}])  # late and out of order
    deliver([{"id": "out-1", "status": "failed"}])  # too late to fail: the patient read it
    sent.refresh_from_db()
    assert sent.delivery == "read"
