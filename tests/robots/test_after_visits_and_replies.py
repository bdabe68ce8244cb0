"""Rebooking, review requests, birthdays, the consent gate on every sending robot, and confirmation by reply."""

from datetime import UTC, date, datetime, timedelta

import pytest

from clinicflow.automation.models import Job
from clinicflow.compliance.models import Consent
from clinicflow.inbox.models import Inquiry
from clinicflow.inbox.services import InquiryDraft, inquiry_receive
from clinicflow.messaging.models import OutboundMessage, Purpose
from clinicflow.patients.models import Channel, Patient
from clinicflow.robots.services import robots_birthdays
from clinicflow.scheduling.models import Appointment
from clinicflow.scheduling.services import appointment_set_status

from .conftest import SERVICE_CONSENTS, book, later, log_of, messages_for, planned, run_jobs, switch

pytestmark = pytest.mark.django_db
Status, Reason = OutboundMessage.Status, OutboundMessage.Reason
TUESDAY_TEN_IN_MOSCOW = datetime(2027, 3, 9, 7, 0, tzinfo=UTC)


def completed_visit(clock, doctor, branch, patient) -> Appointment:
    visit = book(patient, doctor, branch, TUESDAY_TEN_IN_MOSCOW)
    clock.move_to(visit.ends_at)
    return appointment_set_status(appointment=visit, status=Appointment.Status.COMPLETED, source="mis")


class TestAfterTheVisit:
    def test_a_rebooking_offer_goes_30_days_after_a_completed_visit(self, clock, everywhere, moscow, patient_at,
                                                                    providers):
        patient = patient_at(moscow)
        visit = completed_visit(clock, everywhere, moscow, patient)
        due = {job.payload["robot_id"]: job.due_at for job in planned(visit)}
        assert sorted(due.values()) == [visit.ends_at + timedelta(hours=3),  # the review request
                                        datetime(2027, 4, 8, 7, 30, tzinfo=UTC)]  # 30 days on, same local hour
        clock.move_to(datetime(2027, 4, 8, 7, 30, tzinfo=UTC))
        run_jobs()
        assert sorted(m.purpose for m in messages_for(patient)) == [Purpose.REBOOKING, Purpose.REVIEW_REQUEST]

    def test_no_rebooking_offer_when_a_future_visit_exists(self, clock, everywhere, moscow, patient_at, providers):
        patient = patient_at(moscow)
        completed_visit(clock, everywhere, moscow, patient)
        book(patient, everywhere, moscow, datetime(2027, 4, 20, 7, 0, tzinfo=UTC))
        clock.move_to(datetime(2027, 4, 8, 8, 0, tzinfo=UTC))
        run_jobs()
        assert Purpose.REBOOKING not in [m.purpose for m in messages_for(patient)]
        assert [run.detail for run in log_of("rebooking_30d")] == ["future appointment"]


SENDING_ROBOTS = ["reminder_24h", "reminder_1w", "reminder_2h", "rebooking_30d", "review_request"]


class TestConsentGate:
    @pytest.mark.parametrize("code", SENDING_ROBOTS)
    def test_no_message_without_consent_and_the_reason_is_kept(self, code, clock, everywhere, moscow, patient_at,
                                                               providers):
        switch(code, True)
        patient = patient_at(moscow, consents=[Consent.Purpose.PROCESSING])
        visit = book(patient, everywhere, moscow, datetime(2027, 3, 20, 7, 0, tzinfo=UTC))
        if code in ("rebooking_30d", "review_request"):
            clock.move_to(visit.ends_at)
            appointment_set_status(appointment=visit, status=Appointment.Status.COMPLETED, source="mis")
        # Past every robot's time (the 2-hour reminder's is the latest before the visit).
        clock.move_to({"rebooking_30d": datetime(2027, 5, 1, 7, 0, tzinfo=UTC),
                       "review_request": visit.ends_at + timedelta(hours=4)}.get(
            code, visit.starts_at - timedelta(minutes=90)))
        run_jobs()
        blocked = [m for m in messages_for(patient) if m.blocked_reason == Reason.NO_CONSENT]
        assert blocked and all(m.status == Status.BLOCKED for m in blocked)
        assert not any(fake.sent for fake in providers.values())

    def test_a_birthday_greeting_needs_marketing_consent(self, clock, moscow, patient_at, providers):
        quiet = patient_at(moscow)
        keen = patient_at(moscow, phone="+7 916 000-11-22", name="Olga Keen",
                          consents=[*SERVICE_CONSENTS, Consent.Purpose.MARKETING])
        Patient.objects.filter(pk__in=[quiet.pk, keen.pk]).update(birth_date=date(1990, 3, 8))
        assert robots_birthdays() == 2
        assert robots_birthdays() == 0  # once a year
        assert messages_for(quiet)[0].blocked_reason == Reason.NO_CONSENT
        run_jobs()
        assert messages_for(keen)[0].status == Status.SENT


def reply(patient, text: str, n: int = 1):
    phone = patient.identities.get(channel=Channel.PHONE).address
    return inquiry_receive(draft=InquiryDraft(channel=Channel.WHATSAPP, phone=phone, text=text, number_verified=True,
                                              branch_id=patient.branch_id, external_id=f"wamid.{n}"))[0]


@pytest.fixture
def asked(clock, everywhere, moscow, patient_at, providers):
    """Ivan was asked (by WhatsApp, the day before) to confirm his visit by replying 1 or 2."""
    patient = patient_at(moscow)
    visit = book(patient, everywhere, moscow, datetime(2027, 3, 11, 7, 0, tzinfo=UTC))
    clock.move_to(planned(visit)[0].due_at)
    run_jobs()
    assert messages_for(patient)[0].status == Status.SENT
    later(clock, minutes=20)
    return visit


class TestConfirmationByReply:
    @pytest.mark.parametrize("text", ["1", "да", "Yes", " ДА! "])
    def test_a_yes_confirms_the_visit_and_leaves_nothing_in_the_queue(self, asked, text):
        inquiry = reply(asked.patient, text)
        asked.refresh_from_db()
        assert asked.status == Appointment.Status.CONFIRMED
        inquiry.refresh_from_db()
        assert inquiry.status == Inquiry.Status.CLOSED

    @pytest.mark.parametrize("text", ["2", "нет", "no"])
    def test_a_no_cancels_the_visit_and_its_jobs(self, asked, text, settings):
        reply(asked.patient, text)
        asked.refresh_from_db()
        assert asked.status == Appointment.Status.CANCELLED
        assert not Job.objects.filter(state=Job.State.PENDING, idempotency_key__contains=f":appointment:{asked.pk}:"
                                      ).exists()

    @pytest.mark.parametrize("text", ["Can I come at 11 instead?", "12", "да, но опоздаю"])
    def test_anything_else_stays_in_the_queue_for_a_person(self, asked, text):
        inquiry = reply(asked.patient, text)
        asked.refresh_from_db()
        inquiry.refresh_from_db()
        assert asked.status == Appointment.Status.BOOKED
        assert inquiry.is_waiting

    def test_the_words_are_a_setting(self, asked, settings):
        settings.CLINICFLOW_CONFIRM_WORDS = "+"
        reply(asked.patient, "yes")
        asked.refresh_from_db()
        assert asked.status == Appointment.Status.BOOKED
        reply(asked.patient, "+", n=2)
        asked.refresh_from_db()
        assert asked.status == Appointment.Status.CONFIRMED

    def test_a_yes_without_a_question_asked_changes_nothing(self, clock, everywhere, moscow, patient_at, providers):
        patient = patient_at(moscow)
        visit = book(patient, everywhere, moscow, datetime(2027, 3, 20, 7, 0, tzinfo=UTC))
        inquiry = reply(patient, "1")
        visit.refresh_from_db()
        assert visit.status == Appointment.Status.BOOKED and Inquiry.objects.get(pk=inquiry.pk).is_waiting

    def test_a_redelivered_reply_is_acted_on_once(self, asked):
        reply(asked.patient, "1")
        reply(asked.patient, "1")
        assert len(log_of("confirm_by_reply")) == 1
