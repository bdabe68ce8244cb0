"""Send guards, checked when the job runs, each with its reason on the card."""

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import User
from django.test import override_settings

from clinicflow.compliance.models import Consent
from clinicflow.messaging.models import OutboundMessage, Purpose
from clinicflow.messaging.services import message_queue, next_allowed_time
from clinicflow.patients.models import Channel
from clinicflow.patients.services import patient_resolve
from clinicflow.scheduling.models import Appointment
from clinicflow.tasks.models import Task

from .conftest import consent_to, run_jobs

pytestmark = pytest.mark.django_db
Status, Reason = OutboundMessage.Status, OutboundMessage.Reason


def reminder(patient, visit, key="reminder:1", **kw):
    return message_queue(patient=patient, purpose=Purpose.REMINDER, key=key, appointment=visit, **kw)


def outcome(message) -> tuple[str, str]:
    message.refresh_from_db()
    return message.status, message.blocked_reason


class TestAllowedHours:
    def test_a_message_due_at_night_in_the_branchs_zone_waits_for_morning_there(self, novosibirsk, clock,
                                                                                 providers):
        # 16:00 UTC: 19:00 in Moscow (allowed), 23:00 in Novosibirsk (not).
        clock.move_to(datetime(2027, 3, 10, 16, 0, tzinfo=UTC))
        nina, _created = patient_resolve(branch=novosibirsk, phone="+7 923 765-43-21", full_name="Nina Sokolova")
        consent_to(nina, Consent.Purpose.PROCESSING, Consent.Purpose.SERVICE, Consent.Purpose.CROSS_BORDER)
        message = message_queue(patient=nina, purpose=Purpose.CUSTOM, key="n:1", text="Your card is ready.")
        run_jobs()
        assert outcome(message) == (Status.QUEUED, Reason.QUIET_HOURS)
        nine_in_novosibirsk = datetime(2027, 3, 11, 2, 0, tzinfo=UTC)
        assert message.not_before == nine_in_novosibirsk
        assert providers["whatsapp"].sent == []
        clock.move_to(nine_in_novosibirsk - timedelta(minutes=1))
        run_jobs()
        assert providers["whatsapp"].sent == []
        clock.move_to(nine_in_novosibirsk)
        run_jobs()
        assert outcome(message) == (Status.SENT, "")

    def test_a_reply_to_the_patient_is_not_held_for_the_night(self, anna, clock, providers):
        clock.move_to(datetime(2027, 3, 10, 20, 0, tzinfo=UTC))  # 23:00 in Moscow
        message = message_queue(patient=anna, purpose=Purpose.REPLY, key="r:1", text="We are open at 9.")
        run_jobs()
        assert outcome(message) == (Status.SENT, "")

    @override_settings(CLINICFLOW_SEND_HOURS="10:00-18:30")
    def test_the_hours_are_a_setting(self, moscow):
        evening = datetime(2027, 3, 10, 15, 45, tzinfo=UTC)  # 18:45 in Moscow
        assert next_allowed_time(evening, moscow.zone) == datetime(2027, 3, 11, 7, 0, tzinfo=UTC)
        early = datetime(2027, 3, 10, 6, 0, tzinfo=UTC)  # 09:00 in Moscow
        assert next_allowed_time(early, moscow.zone) == datetime(2027, 3, 10, 7, 0, tzinfo=UTC)

    def test_the_next_morning_is_found_across_a_dst_change(self):
        from zoneinfo import ZoneInfo

        berlin = ZoneInfo("Europe/Berlin")  # clocks go forward on 28 March 2027
        saturday_night = datetime(2027, 3, 27, 22, 0, tzinfo=UTC)  # 23:00 CET
        assert next_allowed_time(saturday_night, berlin) == datetime(2027, 3, 28, 7, 0, tzinfo=UTC)  # 09:00 CEST


class TestVisitGuards:
    def test_no_reminder_for_a_visit_closer_than_the_lead_time(self, anna, doctor, moscow, clock, providers):
        # Booked at noon for 12:20 Moscow time: the patient knows; a "reminder" would only confuse.
        soon = Appointment.objects.create(patient=anna, doctor=doctor, branch=moscow,
                                          starts_at=datetime(2027, 3, 10, 9, 20, tzinfo=UTC),
                                          ends_at=datetime(2027, 3, 10, 9, 50, tzinfo=UTC))
        message = reminder(anna, soon)
        run_jobs()
        assert outcome(message) == (Status.BLOCKED, Reason.LEAD_TIME)
        assert providers["whatsapp"].sent == []

    def test_a_reminder_for_a_cancelled_visit_is_cancelled_not_sent(self, anna, visit, providers):
        message = reminder(anna, visit)
        Appointment.objects.filter(pk=visit.pk).update(status=Appointment.Status.CANCELLED)
        run_jobs()
        assert outcome(message) == (Status.CANCELLED, Reason.VISIT_GONE)
        assert providers["whatsapp"].sent == []

    def test_a_booking_handled_by_an_aggregator_is_not_messaged_twice(self, anna, visit, providers):
        Appointment.objects.filter(pk=visit.pk).update(messaged_by_aggregator=True)
        message = reminder(anna, visit)
        run_jobs()
        assert outcome(message) == (Status.BLOCKED, Reason.AGGREGATOR)

    def test_a_reminder_in_good_time_goes(self, anna, visit, providers):
        message = reminder(anna, visit)
        run_jobs()
        assert outcome(message) == (Status.SENT, "")


class TestLandline:
    def test_no_sms_to_a_landline(self, anna, providers):
        from clinicflow.patients.models import PatientIdentity

        PatientIdentity.objects.filter(patient=anna).update(address="+74951234567")  # a Moscow landline
        message = message_queue(patient=anna, purpose=Purpose.CUSTOM, key="c:1", text="Hello", channel=Channel.SMS)
        run_jobs()
        assert outcome(message) == (Status.BLOCKED, Reason.LANDLINE)
        assert providers["sms"].sent == []


class TestMarketing:
    @pytest.fixture
    def marketable(self, anna):
        consent_to(anna, Consent.Purpose.MARKETING)
        return anna

    def campaign(self, patient, key):
        return message_queue(patient=patient, purpose=Purpose.CAMPAIGN, key=key, text="Spring check-up week.")

    def test_no_marketing_to_a_patient_with_an_open_complaint(self, marketable, moscow, providers):
        Task.objects.create(kind=Task.Kind.COMPLAINT, title="Complaint", branch=moscow, patient=marketable,
                            role="front_office_manager", due_at=datetime(2027, 3, 12, tzinfo=UTC))
        message = self.campaign(marketable, "m:1")
        service = message_queue(patient=marketable, purpose=Purpose.CUSTOM, key="s:1", text="Card ready.")
        run_jobs()
        assert outcome(message) == (Status.BLOCKED, Reason.OPEN_COMPLAINT)
        assert outcome(service) == (Status.SENT, "")

    def test_a_closed_complaint_no_longer_holds_marketing(self, marketable, moscow, providers):
        Task.objects.create(kind=Task.Kind.COMPLAINT, title="Complaint", branch=moscow, patient=marketable,
                            role="front_office_manager", due_at=datetime(2027, 3, 12, tzinfo=UTC),
                            done_at=datetime(2027, 3, 9, tzinfo=UTC), done_by=User.objects.create(username="m"))
        message = self.campaign(marketable, "m:1")
        run_jobs()
        assert outcome(message) == (Status.SENT, "")

    def test_marketing_is_capped_per_week_and_service_messages_are_exempt(self, marketable, clock, providers):
        for n in range(2):
            self.campaign(marketable, f"m:{n}")
            run_jobs()
        third = self.campaign(marketable, "m:3")
        service = message_queue(patient=marketable, purpose=Purpose.CUSTOM, key="s:1", text="Card ready.")
        run_jobs()
        assert outcome(third) == (Status.BLOCKED, Reason.FREQUENCY_CAP)
        assert outcome(service) == (Status.SENT, "")
        clock.shift(timedelta(days=7, minutes=1))
        fourth = self.campaign(marketable, "m:4")
        run_jobs()
        assert outcome(fourth) == (Status.SENT, "")
