"""SMS by Twilio: signed form posts of incoming SMS and of status callbacks, the empty TwiML answer, and sending.
Parameters follow Twilio's documented webhook and Messages API formats."""

from urllib.parse import urlencode

import pytest

from clinicflow.channels import sms_twilio
from clinicflow.channels.base import SendFailed
from clinicflow.channels.models import UnreadDelivery
from clinicflow.inbox.models import Inquiry, Message
from clinicflow.inbox.services import InquiryDraft, inquiry_receive
from clinicflow.patients.models import Patient

pytestmark = pytest.mark.django_db

TOKEN = "auth-token"
PUBLIC = "https://crm.example.clinic"
ACCOUNT = "ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"


@pytest.fixture(autouse=True)
def configured(settings, inbound_branch):
    settings.CLINICFLOW_TWILIO_ACCOUNT_SID = ACCOUNT
    settings.CLINICFLOW_TWILIO_AUTH_TOKEN = TOKEN
    settings.CLINICFLOW_TWILIO_FROM = "+15017122661"
    settings.CLINICFLOW_PUBLIC_URL = PUBLIC


def sms(sid="SM1f0e8ae6ade43cb3c0ce4525424e404f", sender="+79161234567", body="Hello, can I book a visit?",
        **extra) -> dict:
    return {"ToCountry": "US", "SmsMessageSid": sid, "NumMedia": "0", "SmsSid": sid, "SmsStatus": "received",
            "Body": body, "To": "+15017122661", "NumSegments": "1", "MessageSid": sid, "AccountSid": ACCOUNT,
            "From": sender, "ApiVersion": "2010-04-01", **extra}


def callback(sid: str, status: str, **extra) -> dict:
    return {"MessageSid": sid, "SmsSid": sid, "MessageStatus": status, "SmsStatus": status, "AccountSid": ACCOUNT,
            "From": "+15017122661", "To": "+79161234567", "ApiVersion": "2010-04-01", **extra}


@pytest.fixture
def deliver(client):
    def post(params, url=PUBLIC + "/hooks/sms/twilio", token=TOKEN, raw=None):
        body = raw if raw is not None else urlencode(params)
        signature = sms_twilio.signature(token, url, sorted(params.items()) if params else [])
        return client.post("/hooks/sms/twilio", body, content_type="application/x-www-form-urlencoded",
                           headers={"X-Twilio-Signature": signature})
    return post


def test_the_signature_matches_twilios_documented_example():
    # Twilio's own example (TwilioDevEd/api-snippets, security/signature_validation): an outside reference.
    params = {"CallSid": "CA1234567890ABCDE", "Caller": "+14158675310", "Digits": "1234",
              "From": "+14158675310", "To": "+18005551212"}
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    assert sms_twilio.signature("12345", url, list(params.items())) == "GvWf1cFY/Q7PnoempGyD5oXAezc="


def test_without_the_auth_token_the_webhook_does_not_exist(client, settings):
    settings.CLINICFLOW_TWILIO_AUTH_TOKEN = ""
    assert client.post("/hooks/sms/twilio", {}).status_code == 404


def test_an_incoming_sms_opens_an_inquiry_and_gets_empty_twiml(deliver):
    response = deliver(sms())
    assert response.status_code == 200 and response["Content-Type"] == "text/xml"
    assert response.content.decode().endswith("<Response/>")
    inquiry = Inquiry.objects.get()
    assert inquiry.channel == "sms" and inquiry.messages.get().body == "Hello, can I book a visit?"
    assert set(inquiry.patient.identities.values_list("channel", "address")) == {
        ("phone", "+79161234567"), ("sms", "+79161234567")}


def test_the_signature_is_checked_against_the_public_url_twilio_called(deliver):
    assert deliver(sms(), url="http://testserver/hooks/sms/twilio").status_code == 403
    assert deliver(sms(), token="another-token").status_code == 403
    assert not (Inquiry.objects.exists() or UnreadDelivery.objects.exists())


def test_without_a_public_url_the_requests_own_url_is_signed(deliver, settings):
    settings.CLINICFLOW_PUBLIC_URL = ""
    assert deliver(sms(), url="http://testserver/hooks/sms/twilio").status_code == 200


def test_a_tampered_body_is_refused(client):
    params = sms()
    signature = sms_twilio.signature(TOKEN, PUBLIC + "/hooks/sms/twilio", sorted(params.items()))
    params["Body"] = "Something else"
    response = client.post("/hooks/sms/twilio", urlencode(params), content_type="application/x-www-form-urlencoded",
                           headers={"X-Twilio-Signature": signature})
    assert response.status_code == 403


def test_a_signed_post_without_a_message_is_refused(deliver):
    assert deliver({"AccountSid": ACCOUNT}).status_code == 400
    assert not UnreadDelivery.objects.exists()


def test_a_known_patient_written_another_way_is_found_by_the_number(deliver, moscow):
    known, _ = inquiry_receive(draft=InquiryDraft(channel="web", phone="8 916 123 45 67", consent=True))
    deliver(sms())
    assert Patient.objects.get() == known.patient


def test_the_next_sms_joins_the_waiting_inquiry_and_a_redelivery_creates_nothing(deliver):
    deliver(sms(sid="SM1"))
    deliver(sms(sid="SM2", body="Hello?"))
    deliver(sms(sid="SM2", body="Hello?"))
    inquiry = Inquiry.objects.get()
    assert [m.body for m in inquiry.messages.all()] == ["Hello, can I book a visit?", "Hello?"]


def test_a_picture_message_is_kept_as_a_picture(deliver):
    deliver(sms(body="", NumMedia="1", MediaContentType0="image/jpeg",
                MediaUrl0="https://api.twilio.com/2010-04-01/Accounts/AC/Messages/MM/Media/ME"))
    assert Message.objects.get().kind == "image"


def test_status_callbacks_move_our_message_forward_and_keep_the_error(deliver, moscow):
    inquiry, _ = inquiry_receive(draft=InquiryDraft(channel="web", phone="+79161234567", consent=True))
    ours = Message.objects.create(inquiry=inquiry, direction="out", channel="sms", external_id="SMout",
                                  body="See you tomorrow", delivery="queued")
    assert deliver(callback("SMout", "sent")).status_code == 200
    ours.refresh_from_db()
    assert ours.delivery == "sent"
    deliver(callback("SMout", "undelivered", ErrorCode="30003"))
    ours.refresh_from_db()
    assert (ours.delivery, ours.delivery_error) == ("failed", "Twilio error 30003")
    assert Inquiry.objects.count() == 1


def test_sending_posts_to_the_messages_api_and_asks_for_status_callbacks(settings, fake_provider):
    settings.CLINICFLOW_TWILIO_API_BASE = fake_provider.url
    fake_provider.answer(201, json_body={"sid": "SM1f0e8ae6ade43cb3c0ce4525424e404f", "status": "queued",
                                         "to": "+79161234567", "from": "+15017122661", "error_code": None})
    assert sms_twilio.send(to="+79161234567", text="See you at 10:30") == "SM1f0e8ae6ade43cb3c0ce4525424e404f"
    sent = fake_provider.requests[0]
    assert sent.path == f"/2010-04-01/Accounts/{ACCOUNT}/Messages.json"
    assert sent.headers["Authorization"].startswith("Basic ")
    assert sent.form() == {"To": "+79161234567", "Body": "See you at 10:30", "From": "+15017122661",
                           "StatusCallback": PUBLIC + "/hooks/sms/twilio"}


def test_a_messaging_service_sends_in_place_of_a_number(settings, fake_provider):
    settings.CLINICFLOW_TWILIO_API_BASE = fake_provider.url
    settings.CLINICFLOW_TWILIO_FROM = "MGXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"
    fake_provider.answer(201, json_body={"sid": "SM2", "status": "accepted"})
    sms_twilio.send(to="+79161234567", text="Hi")
    assert fake_provider.requests[0].form()["MessagingServiceSid"] == "MGXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"


def test_a_refused_number_is_not_retried(settings, fake_provider):
    settings.CLINICFLOW_TWILIO_API_BASE = fake_provider.url
    fake_provider.answer(400, json_body={"code": 21211, "message": "The 'To' number +7000 is not a valid phone "
                                         "number.", "more_info": "https://www.twilio.com/docs/errors/21211",
                                         "status": 400})
    with pytest.raises(SendFailed, match="21211") as failed:
        sms_twilio.send(to="+7000", text="Hi")
    assert failed.value.retry is False


def test_a_rate_limit_is_worth_a_retry(settings, fake_provider):
    settings.CLINICFLOW_TWILIO_API_BASE = fake_provider.url
    fake_provider.answer(429, json_body={"code": 20429, "message": "Too Many Requests", "status": 429})
    with pytest.raises(SendFailed) as failed:
        sms_twilio.send(to="+79161234567", text="Hi")
    assert failed.value.retry is True
