"""SMS by SMS.ru: unsigned status callbacks checked by the secret in their URL, the "100" SMS.ru needs back, and
sending. Payloads follow SMS.ru's callback (data[] notices) and sms/send (json=1) formats."""

from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest

from clinicflow.channels import outbound, sms_smsru
from clinicflow.channels.base import SendFailed
from clinicflow.channels.models import UnreadDelivery
from clinicflow.inbox.models import Message
from clinicflow.inbox.services import InquiryDraft, inquiry_receive

pytestmark = pytest.mark.django_db

SECRET = "callback-secret"
WHEN = 1767261600


@pytest.fixture(autouse=True)
def configured(settings, inbound_branch):
    settings.CLINICFLOW_SMSRU_API_ID = "F2D79B58-0000-0000-0000-73D12CE2E102"
    settings.CLINICFLOW_SMSRU_CALLBACK_SECRET = SECRET


@pytest.fixture
def ours(moscow) -> Message:
    inquiry, _ = inquiry_receive(draft=InquiryDraft(channel="web", phone="+79161234567", consent=True))
    return Message.objects.create(inquiry=inquiry, direction="out", channel="sms", external_id="000000-10000001",
                                  body="See you tomorrow", delivery="queued")


@pytest.fixture
def deliver(client):
    def post(*notices, token=SECRET, raw=None):
        body = raw if raw is not None else urlencode({f"data[{i}]": notice for i, notice in enumerate(notices)})
        return client.post(f"/hooks/sms/smsru?{urlencode({'token': token})}", body,
                           content_type="application/x-www-form-urlencoded")
    return post


def test_without_the_callback_secret_the_webhook_does_not_exist(client, settings):
    settings.CLINICFLOW_SMSRU_CALLBACK_SECRET = ""
    assert client.post("/hooks/sms/smsru?token=").status_code == 404


def test_a_callback_without_the_secret_is_refused(deliver, ours):
    assert deliver(f"sms_status\n{ours.external_id}\n103\n{WHEN}", token="guess").status_code == 403
    assert deliver(f"sms_status\n{ours.external_id}\n103\n{WHEN}", token="").status_code == 403
    ours.refresh_from_db()
    assert ours.delivery == "queued"


def test_a_delivered_status_reaches_our_message_and_smsru_gets_its_100(deliver, ours):
    response = deliver(f"sms_status\n{ours.external_id}\n103\n{WHEN}")
    assert (response.status_code, response.content) == (200, b"100")
    ours.refresh_from_db()
    assert (ours.delivery, ours.delivery_changed_at) == ("delivered", datetime.fromtimestamp(WHEN, UTC))


def test_several_notices_in_one_callback_are_all_taken(deliver, ours):
    other = Message.objects.create(inquiry=ours.inquiry, direction="out", channel="sms", external_id="000000-2",
                                   body="Reminder", delivery="queued")
    deliver(f"sms_status\n{ours.external_id}\n102\n{WHEN}", "sms_status\n000000-2\n106\n")
    ours.refresh_from_db()
    other.refresh_from_db()
    assert (ours.delivery, other.delivery, other.delivery_error) == ("sent", "failed", "106 phone failure")


def test_a_late_status_does_not_move_a_message_back(deliver, ours):
    deliver(f"sms_status\n{ours.external_id}\n103\n{WHEN}")
    deliver(f"sms_status\n{ours.external_id}\n101\n{WHEN}")
    ours.refresh_from_db()
    assert ours.delivery == "delivered"


def test_smsrus_check_of_a_new_handler_is_answered_100(deliver):
    response = deliver(raw="")
    assert (response.status_code, response.content) == (200, b"100")


def test_notices_we_do_not_use_are_ignored(deliver, ours):
    assert deliver("callcheck_status\n201737-542\n401\n").status_code == 200
    assert not UnreadDelivery.objects.exists()


def test_a_status_notice_without_its_status_is_refused(deliver, ours):
    assert deliver(f"sms_status\n{ours.external_id}").status_code == 400
    assert not UnreadDelivery.objects.exists()


def test_an_unknown_status_code_is_kept_for_review_and_answered_100(deliver, ours):
    response = deliver(f"sms_status\n{ours.external_id}\n999\n{WHEN}")
    assert (response.status_code, response.content) == (200, b"100")
    assert "999" in UnreadDelivery.objects.get().error


# --- sending -------------------------------------------------------------------------------------------------

def test_sending_posts_to_sms_send_and_returns_the_sms_id(settings, fake_provider):
    settings.CLINICFLOW_SMSRU_API_BASE = fake_provider.url
    fake_provider.answer(json_body={"status": "OK", "status_code": 100, "sms": {
        "79161234567": {"status": "OK", "status_code": 100, "sms_id": "000000-10000001"}}, "balance": 4122.56})
    assert sms_smsru.send(to="+79161234567", text="See you at 10:30") == "000000-10000001"
    sent = fake_provider.requests[0]
    assert (sent.method, sent.path) == ("POST", "/sms/send")
    assert sent.form() == {"api_id": "F2D79B58-0000-0000-0000-73D12CE2E102", "to": "79161234567",
                           "msg": "See you at 10:30", "json": "1"}


def test_a_refused_number_is_not_retried(settings, fake_provider):
    settings.CLINICFLOW_SMSRU_API_BASE = fake_provider.url
    fake_provider.answer(json_body={"status": "OK", "status_code": 100, "sms": {"74993221627": {
        "status": "ERROR", "status_code": 207, "status_text": "На этот номер нельзя отправлять сообщения"}},
        "balance": 4122.56})
    with pytest.raises(SendFailed, match="207") as failed:
        sms_smsru.send(to="+74993221627", text="Hi")
    assert failed.value.retry is False


def test_a_wrong_api_id_is_not_retried(settings, fake_provider):
    settings.CLINICFLOW_SMSRU_API_BASE = fake_provider.url
    fake_provider.answer(json_body={"status": "ERROR", "status_code": 200, "status_text": "Неправильный api_id"})
    with pytest.raises(SendFailed, match="200") as failed:
        sms_smsru.send(to="+79161234567", text="Hi")
    assert failed.value.retry is False


def test_a_busy_service_is_worth_a_retry(settings, fake_provider):
    settings.CLINICFLOW_SMSRU_API_BASE = fake_provider.url
    fake_provider.answer(json_body={"status": "ERROR", "status_code": 220,
                                    "status_text": "Сервис временно недоступен, попробуйте чуть позже."})
    with pytest.raises(SendFailed) as failed:
        sms_smsru.send(to="+79161234567", text="Hi")
    assert failed.value.retry is True


def test_sends_share_one_client_that_keeps_no_cookies_between_calls(settings, fake_provider):
    settings.CLINICFLOW_SMSRU_API_BASE = fake_provider.url
    answer = {"status": "OK", "status_code": 100, "sms": {
        "79161234567": {"status": "OK", "status_code": 100, "sms_id": "000000-10000001"}}}
    fake_provider.answer(json_body=answer, headers={"Set-Cookie": "session=abc; Path=/"})
    fake_provider.answer(json_body=answer)
    sms_smsru.send(to="+79161234567", text="One")
    sms_smsru.send(to="+79161234567", text="Two")
    assert outbound.provider_client() is outbound.provider_client()
    assert "Cookie" not in fake_provider.requests[1].headers
