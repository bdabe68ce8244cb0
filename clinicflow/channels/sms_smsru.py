"""SMS by SMS.ru: sending, and the status callbacks of what we sent.

SMS.ru posts a form whose data[0], data[1], ... fields each hold one notice, its lines separated by "\\n":
"sms_status", the SMS id, the status code (and the time). It wants "100" back from every request, or it
retries and at last disables the handler.

SMS.ru signs nothing. The only proof a callback is SMS.ru's is a secret only SMS.ru and we know, so the
handler address registered in the SMS.ru cabinet carries it: /hooks/sms/smsru?token=<CLINICFLOW_SMSRU_CALLBACK_SECRET>
(over HTTPS, compared in constant time). Keep it out of shared access logs; change it if it leaks. A callback
tells only how far our SMS got and carries no patient data, so a forged one could at worst mark an SMS delivered.

Sending needs only CLINICFLOW_SMSRU_API_ID; without the callback secret there are no delivery reports.
"""

from datetime import UTC, datetime
from urllib.parse import parse_qsl

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from clinicflow.inbox.models import Message
from clinicflow.patients.models import Channel

from .base import Adapter, DeliveryReport, Event, Malformed, SendFailed, same
from .outbound import answer_json, provider_post

# SMS.ru status codes (sms.ru/api/status). Codes 200 and above answer an API call, never describe an SMS.
STATUSES = {
    "100": (Message.Delivery.QUEUED, ""),
    "101": (Message.Delivery.SENT, ""),  # being passed to the operator
    "102": (Message.Delivery.SENT, ""),  # sent, on its way
    "103": (Message.Delivery.DELIVERED, ""),
    "104": (Message.Delivery.FAILED, "104 expired"),
    "105": (Message.Delivery.FAILED, "105 deleted by the operator"),
    "106": (Message.Delivery.FAILED, "106 phone failure"),
    "107": (Message.Delivery.FAILED, "107 unknown reason"),
    "108": (Message.Delivery.FAILED, "108 rejected"),
    "110": (Message.Delivery.READ, ""),
    "150": (Message.Delivery.FAILED, "150 no route to this number"),
}

# Answer codes of sms/send after which the same request may succeed later (the service is down or busy).
RETRY_CODES = {"220", "500"}


class SmsRu(Adapter):
    name, channel, secret_setting = "sms/smsru", Channel.SMS, "CLINICFLOW_SMSRU_CALLBACK_SECRET"

    def verify(self, request: HttpRequest, body: bytes) -> bool:
        return same(request.GET.get("token", ""), settings.CLINICFLOW_SMSRU_CALLBACK_SECRET)

    def parse(self, request: HttpRequest, body: bytes) -> list[Event]:
        try:
            fields = parse_qsl(body.decode("utf-8"), keep_blank_values=True)
        except UnicodeDecodeError as exc:
            raise Malformed("not a form post") from exc
        # SMS.ru's check of a new handler may carry no notice at all: it only wants its "100".
        notices = [value.replace("\r", "").split("\n") for key, value in fields if key.startswith("data[")]
        return [_report(lines) for lines in notices if lines[0] == "sms_status"]

    def answer(self, request: HttpRequest, events: list[Event]) -> HttpResponse:
        return HttpResponse("100", content_type="text/plain")


def _report(lines: list[str]) -> DeliveryReport:
    if len(lines) < 3 or not lines[1]:
        raise Malformed("an sms_status notice needs an id and a status")
    if lines[2] not in STATUSES:
        # Not Malformed: the delivery is kept raw for someone to read, and SMS.ru still gets its "100".
        raise ValueError(f"unknown SMS.ru status {lines[2][:10]!r}")
    status, error = STATUSES[lines[2]]
    at = datetime.fromtimestamp(int(lines[3]), UTC) if len(lines) > 3 and lines[3].isdigit() else None
    return DeliveryReport(channel=Channel.SMS, external_id=lines[1], status=status, error=error, at=at)


def send(*, to: str, text: str) -> str:
    """Send an SMS to an E.164 number. Returns SMS.ru's SMS id, which its status callbacks name."""
    form = {"api_id": settings.CLINICFLOW_SMSRU_API_ID, "to": to.lstrip("+"), "msg": text, "json": "1"}
    if settings.CLINICFLOW_SMSRU_FROM:
        form["from"] = settings.CLINICFLOW_SMSRU_FROM
    # POST, not the GET of SMS.ru's examples: the text and the api_id stay out of URLs and their logs.
    response = provider_post(f"{settings.CLINICFLOW_SMSRU_API_BASE.rstrip('/')}/sms/send", provider="SMS.ru",
                             data=form)
    answer = answer_json(response, provider="SMS.ru")
    _raise_for(answer)
    # The answer lists each number it was given; ours is the only one.
    sms = next(iter((answer.get("sms") or {}).values()), None)
    if not isinstance(sms, dict):
        raise SendFailed("SMS.ru answered without the SMS")
    _raise_for(sms)
    if not sms.get("sms_id"):
        raise SendFailed("SMS.ru answered without the SMS id")
    return str(sms["sms_id"])


def _raise_for(answer: dict) -> None:
    if answer.get("status") == "OK":
        return
    code = str(answer.get("status_code", ""))
    raise SendFailed(f"SMS.ru refused the message: {code} {answer.get('status_text', '')}".strip(),
                     retry=code in RETRY_CODES)
