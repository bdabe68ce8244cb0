import string

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinicflow.clinic.models import Branch
from clinicflow.inbox.models import Message
from clinicflow.patients.models import Channel, Patient
from clinicflow.scheduling.models import Appointment


class Purpose(models.TextChoices):
    """Why a message is sent. Its kind (service or marketing) follows from it: see MARKETING_PURPOSES."""

    REMINDER = "reminder", _("Visit reminder")
    CONFIRMATION = "confirmation", _("Visit confirmation")
    REBOOKING = "rebooking", _("Rebooking offer")
    REVIEW_REQUEST = "review_request", _("Review request")
    GREETING = "greeting", _("Greeting")
    REPLY = "reply", _("Reply to the patient")
    OPT_OUT = "opt_out", _("Unsubscribe confirmation")
    CUSTOM = "custom", _("Other service message")
    CAMPAIGN = "campaign", _("Marketing campaign")


# What needs marketing consent (and counts against the weekly cap); everything else is service communication
# about the patient's own visits and requests.
MARKETING_PURPOSES = frozenset({Purpose.GREETING, Purpose.CAMPAIGN})

# What a template may name. Never the service, specialty or anything else that tells what the visit is
# about: a message shown on a locked screen or read by a relative must not reveal it (medical secrecy).
VARIABLES = {
    "first_name": _("Patient's first name"),
    "clinic": _("Clinic name"),
    "doctor": _("Doctor's name"),
    "date": _("Visit date (branch's time zone)"),
    "time": _("Visit time (branch's time zone)"),
    "branch_address": _("Branch address"),
    "branch_phone": _("Branch phone"),
    "link": _("Link"),
}
SAMPLE_VALUES = {"first_name": "Anna", "clinic": "Clinic", "doctor": "Dr. Ivanova", "date": "12.03.2027",
                 "time": "10:30", "branch_address": "Tverskaya 1", "branch_phone": "+7 495 123-45-67",
                 "link": "https://clinic.example/r/abc"}


def template_variables(body: str) -> list[str]:
    """The variable names a template uses; ValidationError for an unknown one or a broken brace."""
    try:
        fields = [name for _text, name, spec, conversion in string.Formatter().parse(body) if name is not None]
    except ValueError as exc:
        raise ValidationError({"body": _("Unbalanced braces: write variables as {first_name}, and a literal "
                                         "brace as {{ or }}.")}) from exc
    unknown = sorted({name for name in fields if name not in VARIABLES})
    if unknown:
        raise ValidationError({"body": _("Unknown variable: %(names)s. Allowed: %(allowed)s.") % {
            "names": ", ".join("{" + name + "}" for name in unknown),
            "allowed": ", ".join("{" + name + "}" for name in VARIABLES)}})
    return fields


def template_render(body: str, values: dict) -> str:
    template_variables(body)
    return body.format(**{name: values.get(name, "") for name in VARIABLES})


class MessageTemplate(models.Model):
    """What a message says, per purpose, channel (or any) and language; variables in braces."""

    purpose = models.CharField(_("purpose"), max_length=16, choices=Purpose.choices)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices, blank=True,
                               help_text=_("Empty: any channel without a template of its own."))
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES)
    body = models.TextField(_("text"), max_length=1000, help_text=_(
        "Variables: {first_name}, {clinic}, {doctor}, {date}, {time}, {branch_address}, {branch_phone}, {link}. "
        "Never name the service or specialty: the fact of a visit is medical secrecy."))
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["purpose", "language", "channel"]
        verbose_name = _("message template")
        verbose_name_plural = _("message templates")
        constraints = [models.UniqueConstraint(fields=["purpose", "channel", "language"],
                                               name="one_template_per_purpose_channel_language")]

    def __str__(self):
        return f"{self.get_purpose_display()} · {self.get_language_display()} · {self.channel or '*'}"

    def clean(self):
        template_variables(self.body)

    def preview(self) -> str:
        """The text with sample values, as the admin shows it."""
        return template_render(self.body, {name: str(value) for name, value in SAMPLE_VALUES.items()})


class OutboundMessage(models.Model):
    """One message to a patient: written with its cause (same transaction), sent after commit by a job.

    The provider call happens in the "messaging.send" job; consent and the send guards are checked again
    then, because the world may have moved on since it was queued.
    """

    class Kind(models.TextChoices):
        SERVICE = "service", _("Service")
        MARKETING = "marketing", _("Marketing")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENT = "sent", _("Sent")
        DELIVERED = "delivered", _("Delivered")
        READ = "read", _("Read")
        FAILED = "failed", _("Failed")
        BLOCKED = "blocked", _("Blocked")
        CANCELLED = "cancelled", _("Cancelled")

    class Reason(models.TextChoices):
        """Why a message is held back (still queued, sent later) or blocked."""

        NO_CONSENT = "no_consent", _("No valid consent for this purpose")
        NO_CROSS_BORDER = "no_cross_border", _("No consent to the transfer abroad (foreign messenger)")
        NO_ADDRESS = "no_address", _("No address on any channel")
        QUIET_HOURS = "quiet_hours", _("Outside the allowed hours: sent at the next allowed time")
        LEAD_TIME = "lead_time", _("Too close to the visit for a reminder")
        VISIT_GONE = "visit_gone", _("The visit was cancelled or has passed")
        LANDLINE = "landline", _("SMS to a landline number")
        OPEN_COMPLAINT = "open_complaint", _("The patient has an open complaint")
        AGGREGATOR = "aggregator", _("The booking is handled by an aggregator")
        FREQUENCY_CAP = "frequency_cap", _("Weekly marketing limit reached")
        OPTED_OUT = "opted_out", _("The patient unsubscribed")

    # How far a message can get; a delivery report never moves it back (reports arrive out of order).
    STEPS = [Status.QUEUED, Status.SENT, Status.DELIVERED, Status.READ]
    ACTIVE = [Status.QUEUED]

    patient = models.ForeignKey(Patient, models.CASCADE, related_name="outbound_messages",
                                verbose_name=_("patient"))
    branch = models.ForeignKey(Branch, models.PROTECT, related_name="+", verbose_name=_("branch"))
    purpose = models.CharField(_("purpose"), max_length=16, choices=Purpose.choices)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices, blank=True)
    to = models.CharField(_("to"), max_length=255, blank=True)
    body = models.TextField(_("text"), max_length=4000)
    # The template's values in the order it names them, for providers that send their own approved template
    # instead of our text (WhatsApp outside its 24-hour window: {{1}}, {{2}}...).
    variables = models.JSONField(default=list, blank=True)
    # The cause's own name ("reminder:appointment:12:24h"): the same cause queued twice is one message.
    idempotency_key = models.CharField(_("idempotency key"), max_length=200, unique=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.QUEUED)
    blocked_reason = models.CharField(_("held back because"), max_length=20, choices=Reason.choices, blank=True)
    provider_message_id = models.CharField(_("provider's message id"), max_length=200, blank=True)
    error = models.CharField(_("provider's error"), max_length=500, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    not_before = models.DateTimeField(_("not before"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    status_changed_at = models.DateTimeField(_("status changed"), default=timezone.now)
    message = models.OneToOneField(Message, models.SET_NULL, null=True, blank=True, related_name="outbound",
                                   verbose_name=_("conversation message"))
    appointment = models.ForeignKey(Appointment, models.SET_NULL, null=True, blank=True,
                                    related_name="outbound_messages", verbose_name=_("appointment"))

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("outbound message")
        verbose_name_plural = _("outbound messages")
        indexes = [
            models.Index(fields=["patient", "created_at"]),
            # Delivery reports find their message by the provider's id.
            models.Index(fields=["channel", "provider_message_id"], condition=~Q(provider_message_id=""),
                         name="outbound_provider_id"),
        ]

    def __str__(self):
        return f"{self.get_purpose_display()} → {self.get_channel_display() or '—'} ({self.get_status_display()})"

    @property
    def is_held(self) -> bool:
        """Queued but postponed by a send guard (its reason says which)."""
        return self.status == self.Status.QUEUED and bool(self.blocked_reason)
