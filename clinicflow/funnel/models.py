from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from clinicflow.clinic.models import Branch, Doctor, Specialty
from clinicflow.patients.models import Patient


class Stage(models.TextChoices):
    NEW = "new", _("New inquiry")
    QUALIFICATION = "qualification", _("Qualification")
    BOOKING = "booking", _("Booking")
    REMINDER = "reminder", _("Reminder")
    COMPLETED = "completed", _("Appointment completed")
    REBOOKING = "rebooking", _("Rebooking")
    REVIEW = "review", _("Review")
    LOST = "lost", _("Lost")
    CLOSED = "closed", _("Closed")


# Where a case may go next from each stage. The one table the funnel obeys on every path.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    Stage.NEW: (Stage.QUALIFICATION, Stage.BOOKING, Stage.LOST, Stage.CLOSED),
    Stage.QUALIFICATION: (Stage.BOOKING, Stage.LOST, Stage.CLOSED),
    Stage.BOOKING: (Stage.QUALIFICATION, Stage.REMINDER, Stage.COMPLETED, Stage.LOST, Stage.CLOSED),
    Stage.REMINDER: (Stage.BOOKING, Stage.COMPLETED, Stage.LOST, Stage.CLOSED),
    Stage.COMPLETED: (Stage.REBOOKING, Stage.REVIEW, Stage.CLOSED),
    Stage.REBOOKING: (Stage.BOOKING, Stage.REVIEW, Stage.LOST, Stage.CLOSED),
    Stage.REVIEW: (Stage.REBOOKING, Stage.CLOSED),
    Stage.LOST: (Stage.QUALIFICATION, Stage.CLOSED),
    Stage.CLOSED: (),
}
ACTIVE_STAGES = [s for s in Stage.values if s not in (Stage.LOST, Stage.CLOSED)]
# The move a person most often makes next: what the stage menus offer first. Never backwards (a receptionist
# who clicks "Move" without looking must not send a booked patient back to Qualification).
FORWARD: dict[str, str] = {
    Stage.NEW: Stage.QUALIFICATION,
    Stage.QUALIFICATION: Stage.BOOKING,
    Stage.BOOKING: Stage.REMINDER,
    Stage.REMINDER: Stage.COMPLETED,
    Stage.COMPLETED: Stage.REVIEW,
    Stage.REBOOKING: Stage.BOOKING,
    Stage.REVIEW: Stage.CLOSED,
    Stage.LOST: Stage.CLOSED,
}


class Source(models.TextChoices):
    """Who or what moved a case."""

    PERSON = "person", _("Staff member")
    API = "api", _("API")
    MIS = "mis", _("MIS sync")
    ROBOT = "robot", _("Robot")
    SYSTEM = "system", _("clinicflow")


# The list a new clinic starts with (Settings → Lost reasons). Stored in English and translated when shown,
# so a Russian desk reads «Дорого»; names a clinic types itself are shown as typed.
DEFAULT_LOST_REASONS: list[tuple[str, bool]] = [  # (name, closes a junk inquiry's fresh case)
    (gettext_noop("Too expensive"), False),
    (gettext_noop("No answer"), False),
    (gettext_noop("Chose another clinic"), False),
    (gettext_noop("No convenient time"), False),
    (gettext_noop("Changed their mind"), False),
    (gettext_noop("Spam"), True),
    (gettext_noop("Duplicate"), True),
]
# Only these names are translated when shown: a clinic's own name that happens to be a word of the catalogue
# ("Closed") must still read as the clinic typed it.
DEFAULT_LOST_REASON_NAMES = frozenset(name for name, _closes in DEFAULT_LOST_REASONS)


def lost_words_shown(text: str) -> str:
    """Lost words in the reader's language: a listed reason's stored name translated, the rest as typed.

    A move to Lost stores the listed reason by its stored name ("Too expensive: wants it cheaper"), so the
    same case reads «Дорого: wants it cheaper» to a Russian desk and "Too expensive: …" to the English API.
    Only the names of the list a clinic starts with change; a name the clinic typed stays as is.
    """
    name, colon, rest = text.partition(": ")
    return f"{gettext(name)}{colon}{rest}" if name in DEFAULT_LOST_REASON_NAMES else text


class LostReason(models.Model):
    """One reason a case is lost, from the clinic's own list; the person who moves the case may add free text."""

    name = models.CharField(_("name"), max_length=100, unique=True,
                            help_text=_("The reasons clinicflow starts with are shown in each person's language; a "
                                        "name you type is shown as you typed it."))
    closes_fresh_case = models.BooleanField(
        _("closes the case of a junk inquiry"), default=False,
        help_text=_("Closing an inquiry without answer with this reason (spam, a duplicate) also closes its case as "
                    "lost, when nothing else happened in that case yet."))
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("lost reason")
        verbose_name_plural = _("lost reasons")

    def __str__(self):
        return self.label

    @property
    def label(self) -> str:
        return gettext(self.name) if self.name in DEFAULT_LOST_REASON_NAMES else self.name

    def names(self) -> set[str]:
        """How people may spell it: as stored and as shown in the current language, in any case."""
        return {self.name.casefold(), self.label.casefold()}


class Case(models.Model):
    """One patient journey at one branch, from the first inquiry to the review. At most one open per branch."""

    patient = models.ForeignKey(Patient, models.CASCADE, related_name="cases", verbose_name=_("patient"))
    branch = models.ForeignKey(Branch, models.PROTECT, related_name="cases", verbose_name=_("branch"))
    stage = models.CharField(_("stage"), max_length=16, choices=Stage.choices, default=Stage.NEW)
    lost_reason = models.CharField(_("reason lost"), max_length=200, blank=True)
    # The reason from the clinic's list, for reports; `lost_reason` keeps the words shown (list name + free text).
    listed_lost_reason = models.ForeignKey(LostReason, models.SET_NULL, null=True, blank=True, related_name="cases",
                                           verbose_name=_("reason lost (from the list)"))
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True,
                              related_name="cases", verbose_name=_("owner"))
    intake = models.JSONField(_("intake answers"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    stage_changed_at = models.DateTimeField(_("stage changed at"), default=timezone.now)

    class Meta:
        ordering = ["-stage_changed_at", "-id"]
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        indexes = [models.Index(fields=["stage", "stage_changed_at"])]
        constraints = [
            # One journey at a time per branch: a new inquiry joins the open case instead of starting a second
            # one. Per branch, because an inquiry never moves a case between branches (that is a transfer).
            models.UniqueConstraint(fields=["patient", "branch"], condition=~models.Q(stage__in=["lost", "closed"]),
                                    name="one_open_case_per_patient_and_branch"),
        ]

    def __str__(self):
        return f"{self.patient} — {self.get_stage_display()}"

    @property
    def lost_reason_shown(self) -> str:
        return lost_words_shown(self.lost_reason)

    @property
    def is_open(self) -> bool:
        return self.stage not in (Stage.LOST, Stage.CLOSED)

    def next_stages(self) -> tuple[str, ...]:
        return TRANSITIONS[self.stage]

    @property
    def forward_stage(self) -> str | None:
        """The stage the move menus preselect."""
        return FORWARD.get(self.stage)


class CaseTransition(models.Model):
    """The stage history of a case: who moved it, when, from where to where, and why."""

    case = models.ForeignKey(Case, models.CASCADE, related_name="transitions", verbose_name=_("case"))
    from_stage = models.CharField(_("from stage"), max_length=16, choices=Stage.choices, blank=True)
    to_stage = models.CharField(_("to stage"), max_length=16, choices=Stage.choices)
    at = models.DateTimeField(_("when"), default=timezone.now)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+",
                           verbose_name=_("moved by"))
    source = models.CharField(_("source"), max_length=16, choices=Source.choices)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    # Set on a transfer to another branch (the stage stays the same).
    from_branch = models.ForeignKey(Branch, models.PROTECT, null=True, blank=True, related_name="+",
                                    verbose_name=_("from branch"))
    to_branch = models.ForeignKey(Branch, models.PROTECT, null=True, blank=True, related_name="+",
                                  verbose_name=_("to branch"))

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("stage change")
        verbose_name_plural = _("stage changes")

    def __str__(self):
        return f"{self.from_stage or '·'} → {self.to_stage}"

    @property
    def reason_shown(self) -> str:
        return lost_words_shown(self.reason) if self.to_stage == Stage.LOST else self.reason


class IntakeQuestion(models.Model):
    """One question of the qualification script, configured by the clinic."""

    class Kind(models.TextChoices):
        SPECIALTY = "specialty", _("Specialty")
        DOCTOR = "doctor", _("Preferred doctor")
        CHOICE = "choice", _("One of several answers")
        TEXT = "text", _("Free text")

    key = models.SlugField(_("key"), max_length=40, unique=True)
    label = models.CharField(_("question"), max_length=200)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    choices = models.JSONField(_("answers to choose from"), default=list, blank=True,
                               help_text=_('For "one of several": a list such as ["New", "Returning"].'))
    required = models.BooleanField(_("required"), default=False)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("intake question")
        verbose_name_plural = _("intake questions")

    def __str__(self):
        return self.label

    def options(self) -> list[tuple[str, str]]:
        """(value, label) pairs for kinds with a fixed set of answers."""
        if self.kind == self.Kind.SPECIALTY:
            return [(str(s.pk), s.name) for s in Specialty.objects.all()]
        if self.kind == self.Kind.DOCTOR:
            return [(str(d.pk), d.full_name) for d in Doctor.objects.filter(active=True)]
        if self.kind == self.Kind.CHOICE:
            return [(str(c), str(c)) for c in self.choices]
        return []

    def display(self, value) -> str:
        if value in (None, ""):
            return ""
        return dict(self.options()).get(str(value), str(value))
