"""Time travel: reminders at the right local time, never after a cancel, moved by a reschedule, once only."""

from datetime import UTC, datetime, timedelta

import pytest

from clinicflow.automation.models import Job
from clinicflow.automation.worker import claim_one, work_once
from clinicflow.messaging.models import OutboundMessage, Purpose
from clinicflow.robots.services import robot_run
from clinicflow.scheduling.models import Appointment
from clinicflow.scheduling.services import appointment_cancel, appointment_reschedule

from .conftest import book, log_of, messages_for, planned, run_jobs

pytestmark = pytest.mark.django_db
Status, Reason = OutboundMessage.Status, OutboundMessage.Reason


def sent(providers) -> int:
    return sum(len(fake.sent) for fake in providers.values())


class TestLocalTime:
    def test_the_day_before_reminder_keeps_the_local_hour_across_a_change_to_summer_time(
            self, clock, everywhere, berlin, patient_at, providers):
        clock.move_to(datetime(2027, 3, 24, 9, 0, tzinfo=UTC))
        patient = patient_at(berlin)
        # Sunday 28 March, 10:00 in Berlin (summer time from 02:00 that night): 08:00 UTC.
        visit = book(patient, everywhere, berlin, datetime(2027, 3, 28, 8, 0, tzinfo=UTC))
        [job] = planned(visit)
        saturday_ten_in_berlin = datetime(2027, 3, 27, 9, 0, tzinfo=UTC)  # still winter time: UTC+1
        assert job.due_at == saturday_ten_in_berlin
        clock.move_to(saturday_ten_in_berlin - timedelta(minutes=1))
        run_jobs()
        assert sent(providers) == 0
        clock.move_to(saturday_ten_in_berlin)
        run_jobs()
        assert [(m.purpose, m.status) for m in messages_for(patient)] == [(Purpose.CONFIRMATION, Status.SENT)]

    def test_a_branch_in_another_zone_is_reminded_at_its_own_hour(self, clock, everywhere, novosibirsk, patient_at,
                                                                  providers):
        patient = patient_at(novosibirsk, phone="+7 923 765-43-21", name="Nina Sokolova")
        # Thursday 11 March, 10:00 in Novosibirsk (UTC+7): 03:00 UTC, 06:00 in Moscow.
        visit = book(patient, everywhere, novosibirsk, datetime(2027, 3, 11, 3, 0, tzinfo=UTC))
        [job] = planned(visit)
        assert job.due_at == datetime(2027, 3, 10, 3, 0, tzinfo=UTC)  # Wednesday 10:00 there
        clock.move_to(job.due_at)
        run_jobs()
        assert messages_for(patient)[0].status == Status.SENT

    def test_a_reminder_due_at_night_waits_for_the_allowed_hours(self, clock, everywhere, moscow, patient_at,
                                                                 providers):
        patient = patient_at(moscow)
        # Wednesday 07:30 in Moscow: the day-before reminder is due at 07:30 on Tuesday, before 09:00.
        visit = book(patient, everywhere, moscow, datetime(2027, 3, 10, 4, 30, tzinfo=UTC))
        clock.move_to(planned(visit)[0].due_at)
        run_jobs()
        [message] = messages_for(patient)
        assert (message.status, message.blocked_reason) == (Status.QUEUED, Reason.QUIET_HOURS)
        assert sent(providers) == 0
        nine_in_moscow = datetime(2027, 3, 9, 6, 0, tzinfo=UTC)
        clock.move_to(nine_in_moscow)
        run_jobs()
        message.refresh_from_db()
        assert message.status == Status.SENT and sent(providers) == 1


class TestVisitChanges:
    def test_no_reminder_after_a_cancel(self, clock, everywhere, moscow, patient_at, providers):
        patient = patient_at(moscow)
        visit = book(patient, everywhere, moscow, datetime(2027, 3, 11, 7, 0, tzinfo=UTC))
        [job] = planned(visit)
        appointment_cancel(appointment=visit, by=None)
        job.refresh_from_db()
        assert job.state == Job.State.CANCELLED
        clock.move_to(job.due_at + timedelta(hours=1))
        run_jobs()
        assert messages_for(patient) == [] and sent(providers) == 0

    def test_a_run_that_finds_the_visit_cancelled_sends_nothing(self, clock, everywhere, moscow, patient_at,
                                                                providers):
        # The job was claimed before the cancel took it off the plan: the handler re-checks.
        patient = patient_at(moscow)
        visit = book(patient, everywhere, moscow, datetime(2027, 3, 11, 7, 0, tzinfo=UTC))
        clock.move_to(planned(visit)[0].due_at)
        job = claim_one("w1")
        Appointment.objects.filter(pk=visit.pk).update(status=Appointment.Status.CANCELLED)
        assert robot_run(job=job).startswith("skipped")
        assert messages_for(patient) == []
        assert [run.detail for run in log_of("reminder_24h")] == ["visit cancelled"]

    def test_a_reschedule_moves_the_reminder_and_cancels_the_old_one(self, clock, everywhere, moscow, patient_at,
                                                                     providers):
        patient = patient_at(moscow)
        visit = book(patient, everywhere, moscow, datetime(2027, 3, 11, 7, 0, tzinfo=UTC))
        [old] = planned(visit)
        appointment_reschedule(appointment=visit, starts_at=datetime(2027, 3, 12, 8, 0, tzinfo=UTC), by=None)
        old.refresh_from_db()
        assert old.state == Job.State.CANCELLED
        [new] = planned(visit)
        assert new.due_at == datetime(2027, 3, 11, 8, 0, tzinfo=UTC)  # Thursday 11:00 in Moscow
        assert new.idempotency_key.endswith("2027-03-12T08:00:00+00:00")
        clock.move_to(old.due_at)
        run_jobs()
        assert sent(providers) == 0
        clock.move_to(new.due_at)
        run_jobs()
        assert sent(providers) == 1

    def test_a_reminder_queued_for_the_old_time_is_dropped_by_a_reschedule(self, clock, everywhere, moscow,
                                                                          patient_at, providers):
        patient = patient_at(moscow)
        visit = book(patient, everywhere, moscow, datetime(2027, 3, 10, 4, 30, tzinfo=UTC))
        clock.move_to(planned(visit)[0].due_at)  # 07:30 in Moscow: the message waits for 09:00
        run_jobs()
        appointment_reschedule(appointment=visit, starts_at=datetime(2027, 3, 12, 8, 0, tzinfo=UTC), by=None)
        [message] = messages_for(patient)
        assert (message.status, message.blocked_reason) == (Status.CANCELLED, Reason.VISIT_GONE)


class TestWorkerTrouble:
    def test_a_crash_after_the_run_and_before_done_sends_one_message(self, clock, everywhere, moscow, patient_at,
                                                                      providers, settings):
        patient = patient_at(moscow)
        visit = book(patient, everywhere, moscow, datetime(2027, 3, 11, 7, 0, tzinfo=UTC))
        clock.move_to(planned(visit)[0].due_at)
        job = claim_one("crashing-worker")
        robot_run(job=job)  # the handler committed its work; the worker dies before marking the job done
        clock.move_to(job.lease_expires_at + timedelta(seconds=1))
        work_once("second-worker", limit=200)
        job.refresh_from_db()
        assert job.state == Job.State.DONE and job.result == "already ran"
        assert len(messages_for(patient)) == 1 and sent(providers) == 1

    def test_a_worker_down_for_a_day_catches_up_but_never_reminds_of_a_past_visit(
            self, clock, everywhere, moscow, patient_at, providers):
        patient = patient_at(moscow)
        # Booked on Monday: Tuesday 10:00 (reminded at once, but the worker is down) and Wednesday 13:00 (due
        # Tuesday 13:00). The worker comes back on Tuesday at 15:00 Moscow time.
        missed = book(patient, everywhere, moscow, datetime(2027, 3, 9, 7, 0, tzinfo=UTC))
        coming = book(patient, everywhere, moscow, datetime(2027, 3, 10, 10, 0, tzinfo=UTC))
        clock.move_to(datetime(2027, 3, 9, 12, 0, tzinfo=UTC))
        run_jobs()
        by_visit = {m.appointment_id: m.status for m in messages_for(patient)}
        assert by_visit == {coming.pk: Status.SENT}
        assert missed.pk not in by_visit
        assert [run.detail for run in log_of("reminder_24h")][0] == "visit passed"

    def test_a_visit_booked_less_than_a_day_ahead_is_reminded_at_once(self, clock, everywhere, moscow, patient_at,
                                                                      providers):
        patient = patient_at(moscow)
        visit = book(patient, everywhere, moscow, datetime(2027, 3, 9, 7, 0, tzinfo=UTC))  # tomorrow 10:00
        [job] = planned(visit)
        assert job.due_at == datetime(2027, 3, 8, 9, 0, tzinfo=UTC)
