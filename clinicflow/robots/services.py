"""Robots: plan a job when their trigger happens, and act when it runs if the reason still holds.

Planning happens in the caller's transaction (the domain's `event_emit`), so a booking and its reminder
stand or fall together. Each planned run is a Job ("robot.run") whose key names the reason, e.g.
"robot:3:appointment:12:2027-03-11T07:00:00+00:00": a reschedule plans a new key and cancels the old
one; a cancel cancels them all. At run time the handler checks again that the visit is still booked at
that time and not past, and writes its log row (RobotRun) under the same key in the same transaction
as its effects, so a job reclaimed after a worker crash never acts twice. Messages go through
messaging's `message_queue`, which owns consent, quiet hours and the other send guards.
"""

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from clinicflow.automation.models import Job
from clinicflow.automation.services import job_cancel, job_plan
from clinicflow.clinic.cache import clinic_cache_clear, process_cached
from clinicflow.clinic.models import Branch
from clinicflow.funnel.models import Case, Source
from clinicflow.funnel.services import TransitionRefused, case_move
from clinicflow.inbox.models import Inquiry, Message
from clinicflow.inbox.services import ESCALATE_JOB, inquiry_close
from clinicflow.messaging.models import OutboundMessage, Purpose
from clinicflow.messaging.services import COMING, channel_choose, message_queue, outbox_cancel_for_visit
from clinicflow.patients.models import Patient
from clinicflow.scheduling.models import Appointment
from clinicflow.scheduling.services import appointment_cancel, appointment_set_status
from clinicflow.tasks.models import Task
from clinicflow.tasks.services import task_create

from .models import (
    APPOINTMENT_TRIGGERS,
    COMING_VISIT_TRIGGERS,
    Action,
    FutureVisit,
    Robot,
    RobotRun,
    Timing,
    Trigger,
    Visits,
)

log = logging.getLogger(__name__)

RUN_JOB = "robot.run"
BIRTHDAYS_JOB = "robots.birthdays"
# The built-in whose notification is the queue itself (the unread badge): nothing to plan.
QUEUE_BADGE = "new_inquiry"
WEBHOOK_TIMEOUT = 10
Outcome = RobotRun.Outcome


def stamp(moment: datetime) -> str:
    """A moment as it appears in keys: UTC, ISO, to the second."""
    return moment.astimezone(UTC).replace(microsecond=0).isoformat()


def run_key(robot: Robot, subject: str, pk: int, when: str = "") -> str:
    return f"robot:{robot.pk}:{subject}:{pk}" + (f":{when}" if when else "")


@dataclass
class Subject:
    """What a run is about: a visit, an inquiry, a case, or only a patient (a birthday)."""

    patient: Patient
    branch: Branch
    appointment: Appointment | None = None
    inquiry: Inquiry | None = None
    case: Case | None = None

    @classmethod
    def load(cls, payload: dict) -> "Subject | None":
        if "appointment_id" in payload:
            visit = Appointment.objects.select_related("patient", "branch", "service").filter(
                pk=payload["appointment_id"]).first()
            return visit and cls(visit.patient, visit.branch, appointment=visit, case=visit.case)
        if "inquiry_id" in payload:
            inquiry = Inquiry.objects.select_related("patient", "branch").filter(pk=payload["inquiry_id"]).first()
            return inquiry and cls(inquiry.patient, inquiry.branch, inquiry=inquiry, case=inquiry.case)
        if "case_id" in payload:
            case = Case.objects.select_related("patient", "branch").filter(pk=payload["case_id"]).first()
            return case and cls(case.patient, case.branch, case=case)
        patient = Patient.objects.select_related("branch").filter(pk=payload.get("patient_id")).first()
        return patient and cls(patient, patient.branch)


# --- planning, on the domain's events -------------------------------------------------------------


def robots_on_appointment(name: str, *, appointment_id: int) -> None:
    """An appointment was booked, moved, cancelled, confirmed, completed or missed: move its robots' jobs."""
    from clinicflow.automation import events

    visit = Appointment.objects.select_related("branch", "service").get(pk=appointment_id)
    if name == events.APPOINTMENT_RESCHEDULED:
        robot_jobs_cancel(appointment=visit, keep=stamp(visit.starts_at))
    elif name != events.APPOINTMENT_BOOKED and visit.status not in COMING:
        robot_jobs_cancel(appointment=visit)
    triggers = {events.APPOINTMENT_BOOKED: [Trigger.BOOKED],
                events.APPOINTMENT_RESCHEDULED: [Trigger.BOOKED, Trigger.RESCHEDULED],
                events.APPOINTMENT_CANCELLED: [Trigger.CANCELLED],
                events.APPOINTMENT_COMPLETED: [Trigger.COMPLETED],
                events.APPOINTMENT_NO_SHOW: [Trigger.NO_SHOW]}.get(name, [])
    robots = list(Robot.objects.filter(enabled=True, trigger__in=triggers))
    for robot in robots:
        robot_plan_for_visit(robot=robot, appointment=visit, siblings=robots)


def robot_jobs_cancel(*, appointment: Appointment, keep: str | None = None) -> int:
    """Cancel the pending jobs of a visit's coming-visit robots (reminders; all, or all but those for the start
    `keep`), and drop its queued reminders: a message already written says the old time.

    Robots of cancelled or completed visits keep theirs: the MIS reporting the same outcome twice must not
    cancel a job that planning again (same key) would not bring back.
    """
    robot_ids = Robot.objects.filter(trigger__in=COMING_VISIT_TRIGGERS).values_list("pk", flat=True)
    keys = Job.objects.filter(kind=RUN_JOB, state=Job.State.PENDING, payload__robot_id__in=list(robot_ids),
                              idempotency_key__contains=f":appointment:{appointment.pk}:")
    if keep:
        keys = keys.exclude(idempotency_key__endswith=f":{keep}")
    cancelled = sum(job_cancel(key=key) for key in keys.values_list("idempotency_key", flat=True))
    outbox_cancel_for_visit(appointment=appointment)
    return cancelled


def robot_plan_for_visit(*, robot: Robot, appointment: Appointment, siblings: list[Robot] = ()) -> Job | None:
    """Plan `robot`'s run for a visit, unless its conditions rule the visit out or its time has passed.

    A before-visit robot whose time passed at booking (a visit booked 20 hours ahead, a 24-hour reminder)
    runs at once, unless another before-visit robot of the same trigger is still to come: one reminder is
    enough.
    """
    now = timezone.now()
    if condition_failing(robot, Subject(appointment.patient, appointment.branch, appointment=appointment), now):
        return None
    zone = appointment.branch.zone
    due = robot.due_for(now=now, starts_at=appointment.starts_at, ends_at=appointment.ends_at, zone=zone)
    if robot.trigger in COMING_VISIT_TRIGGERS and appointment.starts_at <= now:
        return None
    if due < now:
        if robot.timing == Timing.BEFORE_VISIT and any(
                other.timing == Timing.BEFORE_VISIT and other.trigger == robot.trigger
                and other.due_for(now=now, starts_at=appointment.starts_at, zone=zone) > now for other in siblings):
            return None
        due = now
    return _plan(robot, due, run_key(robot, "appointment", appointment.pk, stamp(appointment.starts_at)),
                 {"appointment_id": appointment.pk, "starts_at": stamp(appointment.starts_at)},
                 appointment.patient_id, appointment.branch)


def _plan(robot: Robot, due: datetime, key: str, payload: dict, patient_id: int, branch: Branch) -> Job | None:
    if robot.working_hours_only:
        due = branch.calendar(closed_from=due.date() - timedelta(days=1)).add_working_seconds(due, 0) or due
    return job_plan(kind=RUN_JOB, due_at=due, key=key, payload={"robot_id": robot.pk, **payload},
                    patient_id=patient_id, branch_id=branch.pk)


def enabled_robots(*triggers: str) -> list[Robot]:
    """The robots switched on for these triggers. Every new inquiry and reply asks, so the list is kept per
    process for a few seconds (clinic.cache; saving or switching a robot here drops it at once)."""
    robots = process_cached(("robots",), lambda: list(Robot.objects.filter(enabled=True)))
    return [robot for robot in robots if robot.trigger in triggers]


def robots_on_inquiry(name: str, *, inquiry_id: int, inquiry: Inquiry | None = None) -> None:
    """A new inquiry: the escalation if nobody answers in time, and the robots of "inquiry received".

    The inbox passes the inquiry it has just written (with its patient, branch and case): no reading it again.
    """
    inquiry = inquiry or Inquiry.objects.select_related("branch").get(pk=inquiry_id)
    subject = Subject(inquiry.patient, inquiry.branch, inquiry=inquiry, case=inquiry.case)
    now = timezone.now()
    for robot in enabled_robots(Trigger.INQUIRY_RECEIVED, Trigger.NO_RESPONSE):
        if robot.builtin == QUEUE_BADGE or condition_failing(robot, subject, now):
            continue
        if robot.trigger == Trigger.NO_RESPONSE:
            _plan_no_response(robot, inquiry)
        else:
            _plan(robot, robot.due_for(now=now), run_key(robot, "inquiry", inquiry.pk), {"inquiry_id": inquiry.pk},
                  inquiry.patient_id, inquiry.branch)


def _plan_no_response(robot: Robot, inquiry: Inquiry) -> None:
    """Due when the working minutes have passed; the clinic's response target when the robot names none."""
    due = inquiry.response_due_at
    if robot.offset_minutes:
        calendar = inquiry.branch.calendar(closed_from=inquiry.received_at.date() - timedelta(days=1))
        due = calendar.add_working_seconds(inquiry.received_at, robot.offset_minutes * 60)
    if due is None:
        return  # the branch never opens: nobody to escalate to
    if robot.action == Action.ESCALATE:
        # The inbox's own job (its key is what answering the inquiry cancels), planned by this robot. The key
        # names the inquiry just written: nothing can hold it yet.
        job_plan(kind=ESCALATE_JOB, due_at=due, key=inquiry.escalation_key, payload={"inquiry_id": inquiry.pk},
                 patient_id=inquiry.patient_id, branch_id=inquiry.branch_id, new_key=True)
    else:
        _plan(robot, due, run_key(robot, "inquiry", inquiry.pk), {"inquiry_id": inquiry.pk}, inquiry.patient_id,
              inquiry.branch)


def robots_on_stage(name: str, *, case_id: int) -> None:
    case = Case.objects.select_related("branch").get(pk=case_id)
    now = timezone.now()
    for robot in Robot.objects.filter(enabled=True, trigger=Trigger.STAGE_ENTERED, stage=case.stage):
        if not condition_failing(robot, Subject(case.patient, case.branch, case=case), now):
            _plan(robot, robot.due_for(now=now), run_key(robot, "case", case.pk, stamp(case.stage_changed_at)),
                  {"case_id": case.pk}, case.patient_id, case.branch)


def robots_on_reply(name: str, *, inquiry_id: int, message_id: int, message: Message | None = None) -> None:
    """A patient wrote: a confirmation answer is acted on at once; other reply robots are planned."""
    message = message or Message.objects.select_related("inquiry__patient", "inquiry__branch").get(pk=message_id)
    inquiry, now = message.inquiry, timezone.now()
    for robot in enabled_robots(Trigger.REPLY_RECEIVED):
        if condition_failing(robot, Subject(inquiry.patient, inquiry.branch, inquiry=inquiry), now):
            continue
        if robot.action == Action.CONFIRM_BY_REPLY:
            reply_confirm(robot=robot, message=message)
        else:
            _plan(robot, robot.due_for(now=now), run_key(robot, "message", message.pk), {"inquiry_id": inquiry.pk},
                  inquiry.patient_id, inquiry.branch)


# --- confirmation by reply ------------------------------------------------------------------------


def reply_words(setting: str) -> set[str]:
    return {word.strip().casefold() for word in setting.split(",") if word.strip()}


def reply_intent(text: str) -> str:
    """"confirm", "cancel", or "" when the reply is anything else (a question, a sentence): people read it."""
    word = text.strip().strip(".!").strip().casefold()
    if word in reply_words(settings.CLINICFLOW_CONFIRM_WORDS):
        return "confirm"
    if word in reply_words(settings.CLINICFLOW_CANCEL_WORDS):
        return "cancel"
    return ""


def visit_asked_about(inquiry: Inquiry, now: datetime) -> Appointment | None:
    """The visit the patient was last asked to confirm (within the reply window), while it is still ahead."""
    window = timedelta(hours=settings.CLINICFLOW_CONFIRM_REPLY_HOURS)
    asked = OutboundMessage.objects.filter(
        patient_id__in=[pk for pk in (inquiry.patient_id, inquiry.contact_id) if pk], purpose=Purpose.CONFIRMATION,
        status__in=[OutboundMessage.Status.SENT, OutboundMessage.Status.DELIVERED, OutboundMessage.Status.READ],
        sent_at__gte=now - window, appointment__status__in=COMING, appointment__starts_at__gt=now)
    question = asked.select_related("appointment").order_by("-sent_at", "-id").first()
    return question.appointment if question else None


def reply_confirm(*, robot: Robot, message: Message) -> str:
    """Confirm or cancel the visit the patient was asked about, by their reply ("1", "да", "no"...).

    Anything else, or no question asked, changes nothing: the message is in the queue for a person.
    Understood, the visit is confirmed (or cancelled, which pushes the cancel to the MIS when connected), and
    an inquiry that holds nothing but this reply leaves the queue.
    """
    inquiry, now = message.inquiry, timezone.now()
    intent = reply_intent(message.body)
    visit = visit_asked_about(inquiry, now) if intent else None
    if visit is None:
        return ""
    key = run_key(robot, "message", message.pk)
    if RobotRun.objects.filter(key=key).exists():
        return "already"
    try:
        with transaction.atomic():
            if intent == "confirm" and visit.status != Appointment.Status.CONFIRMED:
                appointment_set_status(appointment=visit, status=Appointment.Status.CONFIRMED, source=Source.ROBOT)
            elif intent == "cancel":
                appointment_cancel(appointment=visit, by=None, reason=_("Cancelled by the patient's reply"))
    except ValidationError as exc:
        # E.g. a visit still waiting for the MIS to accept it cannot be confirmed: people decide.
        _log(robot, key, Subject(inquiry.patient, inquiry.branch, appointment=visit), Outcome.SKIPPED,
             "; ".join(exc.messages)[:255])
        return ""
    done = _("Visit confirmed by the patient's reply") if intent == "confirm" else \
        _("Visit cancelled by the patient's reply")
    if inquiry.is_waiting and inquiry.messages.filter(direction=Message.Direction.INBOUND).count() == 1:
        inquiry_close(inquiry=inquiry, by=None, reason=done)
    _log(robot, key, Subject(inquiry.patient, inquiry.branch, appointment=visit), Outcome.DONE,
         f"appointment {visit.pk}: {intent}")
    return intent


# --- conditions -----------------------------------------------------------------------------------


def condition_failing(robot: Robot, subject: Subject, now: datetime) -> str:
    """The first of the robot's conditions the subject fails, in words ("" when all hold)."""
    visit, inquiry = subject.appointment, subject.inquiry
    if robot.branch_id and robot.branch_id != subject.branch.pk:
        return "branch"
    service = visit.service if visit else (inquiry.service if inquiry else None)
    specialty_id = service.specialty_id if service else (inquiry.specialty_id if inquiry else None)
    if robot.service_id and (service is None or service.pk != robot.service_id):
        return "service"
    if robot.specialty_id and specialty_id != robot.specialty_id:
        return "specialty"
    if robot.channel and (inquiry is None or inquiry.channel != robot.channel):
        return "channel"
    if robot.visits:
        primary = visit.is_primary if visit else not subject.patient.appointments.filter(
            status=Appointment.Status.COMPLETED).exists()
        if primary != (robot.visits == Visits.PRIMARY):
            return "primary/returning"
    if robot.future_visit:
        ahead = subject.patient.appointments.filter(status__in=COMING, starts_at__gt=now)
        if visit:
            ahead = ahead.exclude(pk=visit.pk)
        if ahead.exists() != (robot.future_visit == FutureVisit.YES):
            return "future appointment"
    return ""


def reason_gone(robot: Robot, subject: Subject, payload: dict, now: datetime) -> str:
    """Why the run's reason no longer holds ("" when it does): the visit moved, was cancelled or passed."""
    if not robot.enabled:
        return "robot switched off"
    visit = subject.appointment
    if visit is not None and robot.trigger in APPOINTMENT_TRIGGERS:
        s = Appointment.Status
        expected = {Trigger.CANCELLED: [s.CANCELLED], Trigger.COMPLETED: [s.COMPLETED],
                    Trigger.NO_SHOW: [s.NO_SHOW]}.get(robot.trigger, COMING)
        if visit.status not in expected:
            return f"visit {visit.get_status_display().lower()}"
        if robot.trigger in COMING_VISIT_TRIGGERS:
            if payload.get("starts_at") != stamp(visit.starts_at):
                return "visit moved"
            if visit.starts_at <= now:
                return "visit passed"
    if robot.trigger == Trigger.NO_RESPONSE and subject.inquiry and not subject.inquiry.is_waiting:
        return "answered in time"
    return condition_failing(robot, subject, now)


# --- running ----------------------------------------------------------------------------------------


def robot_run(*, job: Job) -> str:
    """Run one planned robot job: re-check its reason, act, and log it, once per key."""
    robot = Robot.objects.filter(pk=job.payload.get("robot_id")).first()
    if robot is None:
        return "robot deleted"
    if robot.action == Action.CALL_WEBHOOK and not RobotRun.objects.filter(key=job.idempotency_key).exists():
        _webhook_call(robot, job)  # outside the transaction; the key lets the receiver drop a repeat
    with transaction.atomic():
        if RobotRun.objects.filter(key=job.idempotency_key).exists():
            return "already ran"  # a worker crashed after the run committed; the job was reclaimed
        subject = Subject.load(job.payload)
        if subject is None:
            return "subject deleted"
        now = timezone.now()
        gone = reason_gone(robot, subject, job.payload, now)
        outcome, detail = (Outcome.SKIPPED, gone) if gone else _act(robot, subject, job.idempotency_key, now)
        _log(robot, job.idempotency_key, subject, outcome, detail)
    return f"{outcome}: {detail}"[:255]


def _act(robot: Robot, subject: Subject, key: str, now: datetime) -> tuple[str, str]:
    if robot.action == Action.SEND_MESSAGE:
        try:
            row = message_queue(patient=subject.patient, purpose=robot.purpose, key=key, branch=subject.branch,
                                appointment=subject.appointment)
        except ValidationError as exc:
            return Outcome.FAILED, "; ".join(exc.messages)[:255]
        return Outcome.DONE, f"message {row.pk}: {row.status} {row.blocked_reason}".strip()
    if robot.action in (Action.CREATE_TASK, Action.NOTIFY_STAFF):
        kind = Task.Kind.FOLLOW_UP if robot.action == Action.CREATE_TASK else Task.Kind.OTHER
        task = task_create(title=robot.task_title or robot.name, branch=subject.branch, due_at=now, kind=kind,
                           role=robot.role, patient=subject.patient, inquiry=subject.inquiry)
        return Outcome.DONE, f"task {task.pk}"
    if robot.action == Action.MOVE_CASE:
        if subject.case is None:
            return Outcome.SKIPPED, "no case"
        try:
            case_move(case=subject.case, to_stage=robot.to_stage, source=Source.ROBOT, reason=robot.name)
        except TransitionRefused as exc:
            return Outcome.SKIPPED, "; ".join(exc.messages)[:255]
        return Outcome.DONE, f"case {subject.case.pk} → {robot.to_stage}"
    if robot.action == Action.CALL_WEBHOOK:
        return Outcome.DONE, "webhook called"
    return Outcome.SKIPPED, f"nothing to do for {robot.action}"


def _webhook_call(robot: Robot, job: Job) -> None:
    """POST the run's ids (never personal data) to the clinic's address; an error makes the job try again."""
    body = {"robot": robot.pk, "trigger": robot.trigger, "key": job.idempotency_key,
            **{name: value for name, value in job.payload.items() if name.endswith("_id")}}
    response = httpx.post(robot.webhook_url, json=body, timeout=WEBHOOK_TIMEOUT,
                          headers={"Idempotency-Key": job.idempotency_key})
    response.raise_for_status()


def _log(robot: Robot, key: str, subject: Subject, outcome: str, detail: str) -> RobotRun:
    run, _created = RobotRun.objects.get_or_create(key=key, defaults={
        "robot": robot, "patient": subject.patient, "branch": subject.branch, "outcome": outcome,
        "detail": detail[:255]})
    return run


# --- birthdays ---------------------------------------------------------------------------------------


def robots_birthdays(*, now: datetime | None = None) -> int:
    """Greet today's birthdays (each branch's own date), once a year per patient; marketing consent is the
    messaging gate's to check. Returns how many greetings were queued or blocked."""
    now = now or timezone.now()
    greeted = 0
    for robot in Robot.objects.filter(enabled=True, trigger=Trigger.BIRTHDAY, action=Action.SEND_MESSAGE):
        for branch in Branch.objects.filter(Q(pk=robot.branch_id) if robot.branch_id else Q()):
            today = now.astimezone(branch.zone).date()
            patients = Patient.objects.filter(branch=branch, birth_date__month=today.month, birth_date__day=today.day,
                                              merged_into__isnull=True)
            for patient in patients:
                key = run_key(robot, "patient", patient.pk, f"birthday-{today.year}")
                with transaction.atomic():
                    if condition_failing(robot, Subject(patient, branch), now) or \
                            RobotRun.objects.filter(key=key).exists():
                        continue
                    outcome, detail = _act(robot, Subject(patient, branch), key, now)
                    _log(robot, key, Subject(patient, branch), outcome, detail)
                    greeted += 1
    return greeted


# --- what people see ----------------------------------------------------------------------------------


def robot_job_labels(jobs: list[Job]) -> dict[int, str]:
    """The patient card's words for planned runs: "Visit reminder by WhatsApp" (the channel it would take now)."""
    robots = Robot.objects.in_bulk({job.payload.get("robot_id") for job in jobs})
    patients = Patient.objects.prefetch_related("identities").in_bulk({job.patient_id for job in jobs} - {None})
    labels = {}
    for job in jobs:
        robot, patient = robots.get(job.payload.get("robot_id")), patients.get(job.patient_id)
        if robot is None:
            labels[job.pk] = _("Robot")
            continue
        channel = channel_choose(patient)[0] if patient and robot.action == Action.SEND_MESSAGE else ""
        labels[job.pk] = robot.run_label(channel)
    return labels


def robot_toggle(*, robot: Robot, enabled: bool, by) -> Robot:
    """Switch a robot on or off. Off, its planned runs stay but do nothing (the handler re-checks); on again,
    new events plan as before."""
    if robot.builtin == QUEUE_BADGE:
        raise ValidationError({"enabled": _("The queue's badge is always on.")})
    Robot.objects.filter(pk=robot.pk).update(enabled=enabled)
    clinic_cache_clear()  # an update sends no signal: this process must not plan with the old switch
    robot.refresh_from_db()
    robots_plan_existing(robot=robot)
    return robot


def robot_save(*, robot: Robot, by) -> Robot:
    robot.full_clean()
    robot.save()
    return robot


def robots_plan_existing(*, robot: Robot) -> int:
    """After switching a visit robot on: plan it for the visits already booked (the events are gone)."""
    if not robot.enabled or robot.trigger not in COMING_VISIT_TRIGGERS:
        return 0
    planned = 0
    for visit in Appointment.objects.select_related("patient", "branch", "service").filter(
            status__in=COMING, starts_at__gt=timezone.now()):
        planned += robot_plan_for_visit(robot=robot, appointment=visit) is not None
    return planned
