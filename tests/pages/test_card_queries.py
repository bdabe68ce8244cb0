"""The patient card costs the same number of queries however long the patient's history is."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clinicflow.funnel.models import Stage
from clinicflow.funnel.services import case_move
from clinicflow.inbox.services import InquiryDraft, inquiry_receive, inquiry_respond
from clinicflow.scheduling.services import appointment_book

START = datetime(2026, 12, 1, 10, tzinfo=ZoneInfo("Europe/Moscow"))  # a Tuesday: visits a week apart
pytestmark = [pytest.mark.django_db, pytest.mark.time_machine(START - timedelta(days=14), tick=False)]


def history(branch, doctor, receptionist, visits: int):
    inquiry, _ = inquiry_receive(draft=InquiryDraft(channel="web", phone="+79161234567", consent=True,
                                                    branch_id=branch.pk, text="Hello"))
    inquiry_respond(inquiry=inquiry, by=receptionist, text="Called back")
    case_move(case=inquiry.case, to_stage=Stage.QUALIFICATION, by=receptionist)
    for n in range(visits):
        appointment_book(patient=inquiry.patient, doctor=doctor, branch=branch, by=receptionist,
                         starts_at=START + timedelta(weeks=n))
    return inquiry.patient


def card_queries(client, patient) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(f"/patients/{patient.pk}/").status_code == 200
    return len(queries)


def test_the_card_does_not_query_per_row(rita_client, moscow, doctor, receptionist):
    patient = history(moscow, doctor, receptionist, visits=1)
    card_queries(rita_client, patient)  # the first read of all creates the clinic's settings row
    few = card_queries(rita_client, patient)
    for n in range(1, 6):
        appointment_book(patient=patient, doctor=doctor, branch=moscow, starts_at=START + timedelta(weeks=10 + n))
    assert card_queries(rita_client, patient) == few
