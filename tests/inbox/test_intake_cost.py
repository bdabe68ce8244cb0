"""Intake at speed (issue 6): what a new patient's inquiry costs the database, and the races the cheap path
leaves to the constraints (a duplicate delivery, a phone registered at the same moment)."""

import json
from unittest import mock

import pytest
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext

from clinicflow.channels.models import UnreadDelivery
from clinicflow.clinic.models import ClinicSettings, WorkingHours
from clinicflow.core.models import RateLimitWindow
from clinicflow.inbox import services as inbox_services
from clinicflow.inbox.models import Inquiry, Message
from clinicflow.patients import services as patient_services
from clinicflow.patients.models import Patient, PatientIdentity

from .conftest import WEDNESDAY_10

URL = "/api/v1/public/inquiries"
SECRET = "intake-cost-secret"
MOST_QUERIES = 12  # the goal, the transaction's own statements included
# The clinic settings with the default branch, the branch's working hours, its closed days, the robots switched on.
CLINIC_READS = 4


@pytest.fixture(autouse=True)
def frozen(time_machine):
    time_machine.move_to(WEDNESDAY_10, tick=False)


@pytest.fixture
def clinic(moscow):
    ClinicSettings.objects.update_or_create(pk=1, defaults={"default_branch": moscow})
    return moscow


def web_form(n: int) -> dict:
    return {"name": "Anna Ivanova", "phone": f"+7 916 000-00-{n:02d}", "consent": True, "comment": "A cardiologist?",
            "utm_source": "yandex"}


def send_form(n: int):
    return Client(REMOTE_ADDR=f"198.51.100.{n}").post(URL, web_form(n), content_type="application/json")


def telegram_update(n: int) -> str:
    chat = 7_000_000 + n
    return json.dumps({"update_id": n, "message": {
        "message_id": 1, "date": 1741762800, "text": "Hello!", "chat": {"id": chat, "type": "private"},
        "from": {"id": chat, "is_bot": False, "first_name": "Anna"}}})


def send_telegram(n: int):
    with override_settings(CLINICFLOW_TELEGRAM_SECRET_TOKEN=SECRET):
        return Client().post("/hooks/telegram", telegram_update(n), content_type="application/json",
                             headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})


def statements(send, n: int) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        assert send(n).status_code in (200, 201)
    return [query["sql"] for query in queries.captured_queries]


@pytest.mark.parametrize("send", [send_form, send_telegram], ids=["web form", "telegram"])
class TestANewPatientsInquiry:
    def test_it_costs_at_most_twelve_queries_once_the_clinic_is_cached(self, clinic, send):
        send(1)  # the first request of a process reads the clinic settings and the calendar
        sql = statements(send, 2)
        assert len(sql) <= MOST_QUERIES, "\n".join(sql)

    def test_it_is_written_in_one_transaction_without_savepoints_inside(self, clinic, send):
        send(1)
        sql = statements(send, 2)
        # Inside the test's own transaction the request's transaction is itself a savepoint: just that one.
        assert sum(statement.startswith("SAVEPOINT") for statement in sql) == 1, "\n".join(sql)

    def test_the_first_request_of_a_process_reads_the_clinic_once_more(self, clinic, send):
        assert len(statements(send, 1)) <= MOST_QUERIES + CLINIC_READS


class TestThePublicFormsRateLimit:
    def test_a_refused_inquiry_still_counts_its_hit_and_saves_nothing_else(self, clinic):
        response = Client(REMOTE_ADDR="198.51.100.9").post(URL, {**web_form(9), "phone": "call me maybe"},
                                                           content_type="application/json")
        assert response.status_code == 422
        assert RateLimitWindow.objects.get().hits == 1
        assert not Patient.objects.exists() and not Inquiry.objects.exists()

    def test_an_accepted_inquiry_counts_one_hit(self, clinic):
        send_form(1)
        assert RateLimitWindow.objects.get().hits == 1

    def test_refused_inquiries_use_up_the_limit_too(self, clinic, settings):
        settings.CLINICFLOW_PUBLIC_RATE_LIMIT = 2
        client = Client(REMOTE_ADDR="198.51.100.9")
        bad = {**web_form(9), "phone": "call me maybe"}
        statuses = [client.post(URL, bad, content_type="application/json").status_code for _ in range(2)]
        assert statuses == [422, 422]
        assert client.post(URL, web_form(9), content_type="application/json").status_code == 429


def missing_once(real):
    """The real lookup, except that its first call finds nothing: a parallel request not committed yet."""
    calls = []

    def lookup(*args, **kwargs):
        calls.append(1)
        return None if len(calls) == 1 else real(*args, **kwargs)

    return lookup


class TestRaces:
    def test_a_telegram_update_delivered_twice_at_once_makes_one_inquiry(self, clinic):
        send_telegram(1)
        with mock.patch.object(inbox_services, "_delivered", missing_once(inbox_services._delivered)):
            assert send_telegram(1).status_code == 200
        assert Inquiry.objects.count() == 1 and Message.objects.count() == 1
        assert not UnreadDelivery.objects.exists()

    def test_a_form_sent_twice_at_once_with_one_request_id_is_answered_as_a_duplicate(self, clinic):
        form = {**web_form(1), "request_id": "form-42"}
        first = Client(REMOTE_ADDR="198.51.100.1").post(URL, form, content_type="application/json")
        with mock.patch.object(inbox_services, "_delivered", missing_once(inbox_services._delivered)):
            second = Client(REMOTE_ADDR="198.51.100.1").post(URL, form, content_type="application/json")
        assert (first.status_code, second.status_code) == (201, 200)
        assert second.json() == {"id": first.json()["id"], "status": "new", "duplicate": True}
        assert Inquiry.objects.count() == 1

    def test_a_phone_registered_at_the_same_moment_joins_its_card_and_leaves_no_empty_one(self, moscow, ivan):
        with mock.patch.object(patient_services, "_known_by", missing_once(patient_services._known_by)):
            patient, created = patient_services.patient_resolve(branch=moscow, phone="8 916 123 45 67",
                                                                full_name="Ivan")
        assert (patient, created) == (ivan, False)
        assert list(Patient.objects.all()) == [ivan]
        assert PatientIdentity.objects.count() == 1

    def test_a_new_account_with_a_known_phone_keeps_nothing_of_the_undone_card(self, moscow, ivan):
        with mock.patch.object(patient_services, "_known_by", side_effect=[None, None, ivan]):
            patient, created = patient_services.patient_resolve(branch=moscow, phone="+79161234567",
                                                                address=("telegram", "555"))
        assert (patient, created) == (ivan, False)
        assert list(Patient.objects.all()) == [ivan]
        assert not PatientIdentity.objects.filter(channel="telegram").exists()


class TestTheClinicCache:
    def test_a_new_default_branch_applies_to_the_next_inquiry_at_once(self, clinic, novosibirsk):
        send_form(1)
        ClinicSettings.objects.update_or_create(pk=1, defaults={"default_branch": novosibirsk})
        send_form(2)
        assert Inquiry.objects.order_by("pk").last().branch == novosibirsk

    def test_changed_working_hours_apply_to_the_next_deadline_at_once(self, clinic):
        send_form(1)
        WorkingHours.objects.filter(branch=clinic, weekday=WEDNESDAY_10.weekday()).delete()
        send_form(2)
        first, second = Inquiry.objects.order_by("pk")
        assert second.response_due_at > first.response_due_at  # Wednesday is now closed

    def test_without_a_cache_every_request_reads_the_clinic(self, clinic, settings):
        settings.CLINICFLOW_CLINIC_CACHE_SECONDS = 0
        send_form(1)
        # Uncached, the robots are read for each event: the inquiry received, and its first message.
        assert len(statements(send_form, 2)) == MOST_QUERIES + CLINIC_READS + 1
