"""Closing an inquiry as spam or a duplicate also closes its fresh case, so no empty card stays on the kanban."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from clinicflow.funnel.models import LostReason, Stage
from clinicflow.funnel.services import case_move
from clinicflow.inbox.models import Inquiry
from clinicflow.inbox.services import InquiryDraft, inquiry_close, inquiry_receive, inquiry_respond
from clinicflow.scheduling.models import Appointment

pytestmark = pytest.mark.django_db


def receive(branch, by, phone="+7 916 555-00-01") -> Inquiry:
    draft = InquiryDraft(channel="phone", phone=phone, full_name="Somebody", consent=True, branch_id=branch.pk)
    return inquiry_receive(draft=draft, created_by=by)[0]


@pytest.mark.parametrize("reason,listed", [("Spam", "Spam"), ("spam", "Spam"), ("Duplicate of #41", "Duplicate")])
def test_spam_or_a_duplicate_closes_the_fresh_case_as_lost_with_that_reason(moscow, receptionist, reason, listed):
    inquiry = receive(moscow, receptionist)
    inquiry_close(inquiry=inquiry, by=receptionist, reason=reason)
    case = inquiry.case
    case.refresh_from_db()
    assert (case.stage, case.listed_lost_reason.name) == (Stage.LOST, listed)
    assert case.lost_reason.lower().startswith(listed.lower())
    assert case.transitions.last().by == receptionist


def test_another_reason_leaves_the_case_open(moscow, receptionist):
    inquiry = receive(moscow, receptionist)
    inquiry_close(inquiry=inquiry, by=receptionist, reason="Wrong number, called back later")
    inquiry.case.refresh_from_db()
    assert inquiry.case.stage == Stage.NEW


def test_a_case_with_another_inquiry_stays_open(moscow, receptionist):
    first = receive(moscow, receptionist)
    inquiry_respond(inquiry=first, by=receptionist, text="Called back")
    second = receive(moscow, receptionist)
    assert second != first and second.case == first.case
    inquiry_close(inquiry=second, by=receptionist, reason="Duplicate")
    first.case.refresh_from_db()
    assert first.case.stage == Stage.NEW


def test_a_case_with_an_appointment_stays_open(moscow, receptionist, doctor):
    inquiry = receive(moscow, receptionist)
    starts_at = timezone.now() + timedelta(days=1)
    Appointment.objects.create(patient=inquiry.patient, case=inquiry.case, doctor=doctor, branch=moscow,
                               starts_at=starts_at, ends_at=starts_at + timedelta(minutes=30))
    inquiry_close(inquiry=inquiry, by=receptionist, reason="Spam")
    inquiry.case.refresh_from_db()
    assert inquiry.case.stage == Stage.NEW


def test_a_case_past_new_inquiry_stays_where_it_is(moscow, receptionist):
    inquiry = receive(moscow, receptionist)
    case_move(case=inquiry.case, to_stage=Stage.QUALIFICATION)
    inquiry_close(inquiry=inquiry, by=receptionist, reason="Spam")
    inquiry.case.refresh_from_db()
    assert inquiry.case.stage == Stage.QUALIFICATION


def test_a_reason_the_clinic_did_not_mark_as_junk_leaves_the_case(moscow, receptionist):
    LostReason.objects.filter(name="Spam").update(closes_fresh_case=False)
    inquiry = receive(moscow, receptionist)
    inquiry_close(inquiry=inquiry, by=receptionist, reason="Spam")
    inquiry.case.refresh_from_db()
    assert inquiry.case.stage == Stage.NEW


def test_nothing_changes_when_the_inquiry_was_no_longer_waiting(moscow, receptionist):
    inquiry = receive(moscow, receptionist)
    Inquiry.objects.filter(pk=inquiry.pk).update(status=Inquiry.Status.ANSWERED)
    with pytest.raises(ValidationError, match="no longer waiting"):
        inquiry_close(inquiry=inquiry, by=receptionist, reason="Spam")
    inquiry.case.refresh_from_db()
    assert inquiry.case.stage == Stage.NEW


def test_it_is_all_or_nothing(moscow, receptionist, monkeypatch):
    """If closing the case fails, the inquiry is not closed either (one transaction)."""
    from clinicflow.inbox import services

    def broken(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(services, "case_lose_if_fresh", broken)
    inquiry = receive(moscow, receptionist)
    with pytest.raises(RuntimeError):
        inquiry_close(inquiry=inquiry, by=receptionist, reason="Spam")
    inquiry.refresh_from_db()
    assert inquiry.status == Inquiry.Status.NEW
