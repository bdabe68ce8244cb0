from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from clinicflow.accounts.models import Role
from clinicflow.clinic.models import Branch, Service, Specialty
from clinicflow.funnel.models import Stage
from clinicflow.messaging.models import Purpose
from clinicflow.patients.models import Channel, Patient


class Trigger(models.TextChoices):
    INQUIRY_RECEIVED = "inquiry_received", _("Inquiry received")
    STAGE_ENTERED = "stage_entered", _("Case enters the stage")
    BOOKED = "booked", _("Appointment booked")
    RESCHEDULED = "rescheduled", _("Appointment rescheduled")
    CANCELLED = "cancelled", _("Appointment cancelled")
    COMPLETED = "completed", _("Appointment completed")
    NO_SHOW = "no_show", _("No-show")
    REPLY_RECEIVED = "reply_received", _("Reply received")
    BIRTHDAY = "birthday", _("Birthday")
    NO_RESPONSE = "no_response", _("No response within N working minutes")


# Triggers about one appointment: their jobs are keyed by the visit's start, so a reschedule plans new ones.
APPOINTMENT_TRIGGERS = (Trigger.BOOKED, Trigger.RESCHEDULED, Trigger.CANCELLED, Trigger.COMPLETED, Trigger.NO_SHOW)
# Triggers whose reason is a visit still to come.
COMING_VISIT_TRIGGERS = (Trigger.BOOKED, Trigger.RESCHEDULED)


class Timing(models.TextChoices):
    IMMEDIATELY = "immediately", _("Immediately")
    DELAY = "delay", _("After a delay")
    BEFORE_VISIT = "before_visit", _("Before the visit")
    AFTER_VISIT = "after_visit", _("After the visit")


class Action(models.TextChoices):
    SEND_MESSAGE = "send_message", _("Send a message")
    CREATE_TASK = "create_task", _("Create a task")
    MOVE_CASE = "move_case", _("Move the case")
    NOTIFY_STAFF = "notify_staff", _("Notify staff")
    CALL_WEBHOOK = "call_webhook", _("Call a webhook")
    CONFIRM_BY_REPLY = "confirm_by_reply", _("Confirm or cancel the visit by the reply")
    ESCALATE = "escalate", _("Escalate to the front-office manager")


class Journey(models.TextChoices):
    """Patient journeys: chains of robots a clinic switches on together (off by default)."""

    INSTRUCTIONS = "instructions", _("Instructions before a visit")
    CHECK_IN = "check_in", _("Check-in after a visit")
    SURVEY = "survey", _("Short survey")
    WIN_BACK = "win_back", _("Win-back after a cancelled visit")


class Visits(models.TextChoices):
    ANY = "", _("Any patient")
    PRIMARY = "primary", _("First visit")
    RETURNING = "returning", _("Returning patient")


class FutureVisit(models.TextChoices):
    ANY = "", _("Either way")
    YES = "yes", _("Has a future appointment")
    NO = "no", _("Has no future appointment")


class Robot(models.Model):
    """A rule: when `trigger` happens (with its conditions), at `timing`, do `action`.

    Planned runs are Jobs ("robot.run") with the reason in their key; at run time the handler checks that
    the reason still holds, so a robot never acts after a cancel, on a moved visit, or for a past one.
    """

    name = models.CharField(_("name"), max_length=120)
    # The clinic playbook's robots (created by a migration) carry their code, so a re-run finds them.
    builtin = models.CharField(_("built-in"), max_length=40, blank=True, editable=False)
    journey = models.CharField(_("patient journey"), max_length=16, choices=Journey.choices, blank=True)
    stage = models.CharField(_("board column"), max_length=16, choices=Stage.choices, blank=True,
                             help_text=_("Empty: the column of robots for the whole clinic."))
    trigger = models.CharField(_("trigger"), max_length=20, choices=Trigger.choices)
    timing = models.CharField(_("timing"), max_length=16, choices=Timing.choices, default=Timing.IMMEDIATELY)
    offset_minutes = models.PositiveIntegerField(_("how long, minutes"), default=0, help_text=_(
        "The delay, or how long before or after the visit. For “no response”: the working minutes to wait."))
    working_hours_only = models.BooleanField(_("working hours only"), default=False,
                                             help_text=_("Due outside the branch's hours: runs when it opens."))
    branch = models.ForeignKey(Branch, models.CASCADE, null=True, blank=True, related_name="+",
                               verbose_name=_("branch"), help_text=_("Empty: every branch."))
    specialty = models.ForeignKey(Specialty, models.CASCADE, null=True, blank=True, related_name="+",
                                  verbose_name=_("specialty"))
    service = models.ForeignKey(Service, models.CASCADE, null=True, blank=True, related_name="+",
                                verbose_name=_("service"))
    channel = models.CharField(_("inquiry channel"), max_length=16, choices=Channel.choices, blank=True)
    visits = models.CharField(_("patients"), max_length=16, choices=Visits.choices, blank=True)
    future_visit = models.CharField(_("future appointment"), max_length=8, choices=FutureVisit.choices, blank=True)
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    purpose = models.CharField(_("message template"), max_length=16, choices=Purpose.choices, blank=True,
                               help_text=_("Which template the message uses (in the patient's language)."))
    task_title = models.CharField(_("task title"), max_length=200, blank=True,
                                  help_text=_("Never a patient's name: the task links the patient."))
    role = models.CharField(_("for role"), max_length=32, choices=Role.choices, blank=True)
    to_stage = models.CharField(_("move to stage"), max_length=16, choices=Stage.choices, blank=True)
    webhook_url = models.URLField(_("webhook address"), blank=True, validators=[URLValidator(["https", "http"])])
    enabled = models.BooleanField(_("on"), default=True)
    position = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("robot")
        verbose_name_plural = _("robots")
        constraints = [models.UniqueConstraint(fields=["builtin"], condition=~Q(builtin=""),
                                               name="one_robot_per_builtin")]

    def __str__(self):
        return self.name

    # --- what it is, in words ---

    def summary(self) -> str:
        """The robot in one plain sentence, in the reader's language."""
        parts = [gettext("When: %(trigger)s") % {"trigger": self.get_trigger_display()}]
        if self.trigger == Trigger.NO_RESPONSE:
            parts[0] = self._no_response_words()
        parts.append(self.timing_words())
        conditions = self.condition_words()
        if conditions:
            parts.append(gettext("only for %(conditions)s") % {"conditions": ", ".join(conditions)})
        parts.append(self.action_words())
        return "; ".join(part for part in parts if part) + "."

    def _no_response_words(self) -> str:
        if self.offset_minutes:
            return gettext("When an inquiry has no response within %(minutes)s working minutes") % {
                "minutes": self.offset_minutes}
        return gettext("When an inquiry has no response within the clinic's response target")

    def timing_words(self) -> str:
        amount = duration_words(self.offset_minutes)
        if self.trigger == Trigger.NO_RESPONSE or self.timing == Timing.IMMEDIATELY:
            words = gettext("at once") if self.trigger != Trigger.NO_RESPONSE else ""
        elif self.timing == Timing.DELAY:
            words = gettext("after %(amount)s") % {"amount": amount}
        elif self.timing == Timing.BEFORE_VISIT:
            words = gettext("%(amount)s before the visit") % {"amount": amount}
        else:
            words = gettext("%(amount)s after the visit") % {"amount": amount}
        if self.working_hours_only:
            words = gettext("%(when)s, in working hours only") % {"when": words} if words else \
                gettext("in working hours only")
        return words

    def condition_words(self) -> list[str]:
        words = []
        if self.branch_id:
            words.append(str(self.branch))
        if self.specialty_id:
            words.append(str(self.specialty))
        if self.service_id:
            words.append(str(self.service))
        if self.channel:
            words.append(gettext("inquiries by %(channel)s") % {"channel": self.get_channel_display()})
        if self.visits:
            words.append(self.get_visits_display().lower())
        if self.future_visit:
            words.append(self.get_future_visit_display().lower())
        return words

    def action_words(self) -> str:
        if self.action == Action.SEND_MESSAGE:
            return gettext("send “%(template)s” by the patient's messenger, else WhatsApp, else SMS") % {
                "template": Purpose(self.purpose).label if self.purpose else "—"}
        if self.action in (Action.CREATE_TASK, Action.NOTIFY_STAFF):
            role = Role(self.role).label if self.role else gettext("the branch")
            verb = gettext("create the task “%(title)s” for %(role)s") if self.action == Action.CREATE_TASK \
                else gettext("notify %(role)s: “%(title)s”")
            return verb % {"title": self.task_title, "role": role}
        if self.action == Action.MOVE_CASE:
            return gettext("move the case to %(stage)s") % {
                "stage": Stage(self.to_stage).label if self.to_stage else "—"}
        if self.action == Action.CALL_WEBHOOK:
            return gettext("call %(url)s") % {"url": self.webhook_url}
        return str(self.get_action_display()).lower()

    def run_label(self, channel: str = "") -> str:
        """What the patient card says of a planned run: "Visit reminder by WhatsApp"."""
        if self.action == Action.SEND_MESSAGE and self.purpose:
            if channel:
                return gettext("%(purpose)s by %(channel)s") % {"purpose": Purpose(self.purpose).label,
                                                                  "channel": Channel(channel).label}
            return str(Purpose(self.purpose).label)
        return self.name

    # --- timing ---

    def due_for(self, *, now: datetime, starts_at: datetime | None = None, ends_at: datetime | None = None,
                zone=None) -> datetime:
        """When a run caused now (about a visit from `starts_at` to `ends_at`) is due.

        Whole days before or after a visit count on the branch's clock (`zone`): "1 day before" a 10:00 visit
        is 10:00 the day before, also across a change to or from summer time; hours and minutes are exact.
        """
        offset = timedelta(minutes=self.offset_minutes)
        if self.timing == Timing.DELAY:
            return now + offset
        anchor = starts_at if self.timing == Timing.BEFORE_VISIT else (ends_at or starts_at)
        if self.timing not in (Timing.BEFORE_VISIT, Timing.AFTER_VISIT) or anchor is None:
            return now
        sign = -1 if self.timing == Timing.BEFORE_VISIT else 1
        if zone is not None and self.offset_minutes % 1440 == 0:
            local = anchor.astimezone(zone).replace(tzinfo=None) + sign * offset
            return local.replace(tzinfo=zone).astimezone(anchor.tzinfo)
        return anchor + sign * offset

    def clean(self):
        required = {Action.SEND_MESSAGE: "purpose", Action.CREATE_TASK: "task_title", Action.NOTIFY_STAFF: "role",
                    Action.MOVE_CASE: "to_stage", Action.CALL_WEBHOOK: "webhook_url"}
        field = required.get(self.action)
        if field and not getattr(self, field):
            raise ValidationError({field: _("Needed for the action “%(action)s”.") % {
                "action": self.get_action_display()}})
        if self.action == Action.CREATE_TASK and not self.role:
            raise ValidationError({"role": _("Say which role takes the task.")})
        if self.timing in (Timing.BEFORE_VISIT, Timing.AFTER_VISIT) and self.trigger not in APPOINTMENT_TRIGGERS:
            raise ValidationError({"timing": _("Only appointment triggers can run relative to the visit.")})
        if self.timing != Timing.IMMEDIATELY and not self.offset_minutes:
            raise ValidationError({"offset_minutes": _("Say how long.")})


def duration_words(minutes: int) -> str:
    """"24 h", "7 days", "30 min": the largest whole unit."""
    if minutes and minutes % 1440 == 0:
        return gettext("%(n)s d") % {"n": minutes // 1440}
    if minutes and minutes % 60 == 0:
        return gettext("%(n)s h") % {"n": minutes // 60}
    return gettext("%(n)s min") % {"n": minutes}


class RobotRun(models.Model):
    """One run of a robot for one reason: what it did, for whom, and why (the robots log).

    Written in the same transaction as the run's effects, under the job's key: a job reclaimed after a
    crash that finds its run already written does nothing twice.
    """

    class Outcome(models.TextChoices):
        DONE = "done", _("Done")
        SKIPPED = "skipped", _("Skipped")
        FAILED = "failed", _("Failed")

    robot = models.ForeignKey(Robot, models.CASCADE, related_name="runs", verbose_name=_("robot"))
    key = models.CharField(_("reason"), max_length=200, unique=True)
    patient = models.ForeignKey(Patient, models.CASCADE, null=True, blank=True, related_name="+",
                                verbose_name=_("patient"))
    branch = models.ForeignKey(Branch, models.CASCADE, null=True, blank=True, related_name="+",
                               verbose_name=_("branch"))
    ran_at = models.DateTimeField(_("ran"), default=timezone.now)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices)
    # A short code or text of ours ("visit moved", "message 12 queued"): never what the patient wrote.
    detail = models.CharField(_("detail"), max_length=255, blank=True)

    class Meta:
        ordering = ["-ran_at", "-id"]
        verbose_name = _("robot run")
        verbose_name_plural = _("robot runs")
        indexes = [models.Index(fields=["branch", "ran_at"])]

    def __str__(self):
        return f"{self.robot} · {self.get_outcome_display()}"
