"""Robots as data: journeys switched on plan their jobs, the escalation is a robot, summaries and card labels."""

from datetime import UTC, datetime

import pytest
from django.utils import translation

from clinicflow.automation.models import Job
from clinicflow.inbox.models import Inquiry
from clinicflow.inbox.services import ESCALATE_JOB, InquiryDraft, inquiry_receive
from clinicflow.patients.models import Channel
from clinicflow.robots.models import Robot
from clinicflow.robots.services import robot_toggle

from .conftest import book, planned, robot, switch

pytestmark = pytest.mark.django_db


def test_every_journey_is_off_until_the_clinic_turns_it_on(db):
    journeys = Robot.objects.exclude(journey="")
    assert journeys.count() == 4 and not journeys.filter(enabled=True).exists()


def test_turning_on_a_journey_plans_it_for_the_visits_already_booked(clock, everywhere, moscow, patient_at):
    visit = book(patient_at(moscow), everywhere, moscow, datetime(2027, 3, 12, 7, 0, tzinfo=UTC))
    instructions = robot("journey_instructions")
    assert [job.payload["robot_id"] for job in planned(visit)] == [robot("reminder_24h").pk]
    robot_toggle(robot=instructions, enabled=True, by=None)
    jobs = {job.payload["robot_id"]: job.due_at for job in planned(visit)}
    assert jobs[instructions.pk] == datetime(2027, 3, 10, 7, 0, tzinfo=UTC)  # two days before, same local hour


def test_the_escalation_is_planned_by_its_robot_and_not_when_it_is_off(clock, moscow):
    def inquiry(n):
        return inquiry_receive(draft=InquiryDraft(channel=Channel.WHATSAPP, phone=f"+7 916 000-00-0{n}", text="Hi",
                                                  number_verified=True, branch_id=moscow.pk))[0]

    first = inquiry(1)
    assert Job.objects.get(idempotency_key=first.escalation_key).due_at == first.response_due_at
    switch("escalation", False)
    second = inquiry(2)
    assert not Job.objects.filter(kind=ESCALATE_JOB, idempotency_key=second.escalation_key).exists()
    assert Inquiry.objects.count() == 2


def test_a_summary_reads_as_a_sentence_in_both_languages(db):
    reminder = robot("reminder_24h")
    with translation.override("en"):
        english = reminder.summary()
    assert english == ("When: Appointment booked; 1 d before the visit; send “Visit confirmation” by "
                                  "the patient's messenger, else WhatsApp, else SMS.")
    with translation.override("ru"):
        assert reminder.summary() == ("Когда: Пациент записан на приём; за 1 дн. до приёма; отправить «Подтверждение "
                                      "записи» в мессенджер пациента, иначе в WhatsApp, иначе SMS.")


def test_the_patient_card_names_a_planned_reminder_and_its_channel(clock, everywhere, moscow, patient_at):
    visit = book(patient_at(moscow), everywhere, moscow, datetime(2027, 3, 12, 7, 0, tzinfo=UTC))
    [job] = planned(visit)
    assert job.kind_label == "Visit confirmation by WhatsApp"
