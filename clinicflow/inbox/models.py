from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinicflow.clinic.models import Branch, Service, Specialty
from clinicflow.funnel.models import Case
from clinicflow.patients.models import Channel, Patient


class InquiryQuerySet(models.QuerySet):
    def waiting(self):
        """The live queue: inquiries nobody has answered yet."""
        return self.filter(status__in=Inquiry.WAITING)

    def most_urgent_first(self):
        """By the moment the response target runs out (in each branch's working hours): across branches and
        zones, the one closest to being late comes first, not the one that arrived first somewhere else."""
        return self.order_by(models.F("response_due_at").asc(nulls_last=True), "received_at", "id")


class Inquiry(models.Model):
    """One contact from a (prospective) patient through one channel, waiting for the front desk."""

    class Status(models.TextChoices):
        NEW = "new", _("New")
        TAKEN = "taken", _("Taken")
        ANSWERED = "answered", _("Answered")
        CLOSED = "closed", _("Closed")

    # Nobody has answered yet: the live queue (the partial index `inquiry_waiting` spells the same two).
    WAITING = (Status.NEW, Status.TAKEN)
    UTM_FIELDS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")

    # Whom the inquiry is about. `contact` is who wrote, when that is someone else: a mother writing about her
    # child (patients.Representative). Null: the patient wrote themselves.
    patient = models.ForeignKey(Patient, models.CASCADE, related_name="inquiries", verbose_name=_("patient"))
    contact = models.ForeignKey(Patient, models.SET_NULL, null=True, blank=True, related_name="inquiries_written",
                                verbose_name=_("written by"))
    # False while the sender acts for others and nobody has said whom this inquiry is about: the queue asks.
    about_confirmed = models.BooleanField(_("whom it is about is known"), default=True)
    branch = models.ForeignKey(Branch, models.PROTECT, related_name="inquiries", verbose_name=_("branch"))
    case = models.ForeignKey(Case, models.SET_NULL, null=True, blank=True, related_name="inquiries",
                             verbose_name=_("case"))
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    # The provider's own id for the delivery (a message id, a call id): a repeat delivery is ignored.
    external_id = models.CharField(max_length=200, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.NEW)
    received_at = models.DateTimeField(_("received"), default=timezone.now)
    response_due_at = models.DateTimeField(_("response due"), null=True, blank=True,
                                           help_text=_("When the response target runs out, in working hours."))
    taken_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True,
                                 related_name="+", verbose_name=_("taken by"))
    taken_at = models.DateTimeField(_("taken"), null=True, blank=True)
    first_response_at = models.DateTimeField(_("first response"), null=True, blank=True)
    first_response_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True,
                                          related_name="+", verbose_name=_("first response by"))
    closed_reason = models.CharField(_("reason for closing"), max_length=200, blank=True)
    specialty = models.ForeignKey(Specialty, models.SET_NULL, null=True, blank=True, verbose_name=_("specialty"))
    service = models.ForeignKey(Service, models.SET_NULL, null=True, blank=True, verbose_name=_("service"))
    preferred_time = models.CharField(_("preferred time"), max_length=200, blank=True)
    # What the sender typed. Anonymous input never changes a stored patient: the front desk compares these
    # with the card and applies them when the person on the phone confirms.
    given_name = models.CharField(_("name given"), max_length=160, blank=True)
    given_email = models.EmailField(_("e-mail given"), blank=True)
    utm_source = models.CharField(max_length=200, blank=True)
    utm_medium = models.CharField(max_length=200, blank=True)
    utm_campaign = models.CharField(max_length=200, blank=True)
    utm_term = models.CharField(max_length=200, blank=True)
    utm_content = models.CharField(max_length=200, blank=True)
    page_url = models.URLField(_("page"), max_length=1000, blank=True)
    referrer = models.URLField(_("came from"), max_length=1000, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+",
                                   verbose_name=_("recorded by"))
    # Moved by every service that changes what the queue shows of the inquiry. The 3-second refresh compares
    # the newest of these (and the count) with what the screen has, instead of rendering the queue again.
    changed_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = InquiryQuerySet.as_manager()

    class Meta:
        ordering = ["received_at", "id"]
        verbose_name = _("inquiry")
        verbose_name_plural = _("inquiries")
        indexes = [
            models.Index(fields=["status", "received_at"], name="inquiry_queue"),
            # The live queue reads the oldest waiting inquiries first; with two statuses in the filter only a
            # partial index returns them in order without sorting the whole queue (20 ms at 10,000 rows).
            models.Index(fields=["received_at", "id"], condition=Q(status__in=["new", "taken"]),
                         name="inquiry_waiting"),
            # The queue shows the most urgent first across branches: by the moment the target runs out.
            models.Index(fields=["response_due_at", "received_at", "id"], condition=Q(status__in=["new", "taken"]),
                         name="inquiry_waiting_due"),
            # The unchanged refresh: count and newest change of one's branches, from the index alone.
            models.Index(fields=["branch", "changed_at", "id"], condition=Q(status__in=["new", "taken"]),
                         name="inquiry_waiting_changed"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["channel", "external_id"], condition=~Q(external_id=""),
                                    name="inquiry_delivered_once"),
        ]

    def __str__(self):
        return f"{self.get_channel_display()} — {self.patient}"

    @property
    def is_waiting(self) -> bool:
        return self.status in self.WAITING

    @property
    def sender(self) -> Patient:
        """Who wrote: the contact person, or the patient themselves."""
        return self.contact or self.patient

    @property
    def given_name_differs(self) -> bool:
        """The name typed is not the card's ("the form says Maria" for Ivan Petrov's number): shown, not dropped.
        Case and extra spaces do not count."""
        typed, known = " ".join(self.given_name.split()).casefold(), " ".join(self.sender.full_name.split()).casefold()
        return bool(typed and known and typed != known)

    @property
    def escalation_key(self) -> str:
        return f"inquiry:{self.pk}:escalate"


class Message(models.Model):
    """A message or a note of a call, in or out, within an inquiry's conversation."""

    class Direction(models.TextChoices):
        INBOUND = "in", _("From patient")
        OUTBOUND = "out", _("To patient")
        NOTE = "note", _("Internal note")

    class Kind(models.TextChoices):
        # What a channel delivered. Anything we cannot show as text is still kept and named, never dropped.
        TEXT = "text", _("Text")
        CONTACT = "contact", _("Shared contact")
        IMAGE = "image", _("Picture")
        STICKER = "sticker", _("Sticker")
        VOICE = "voice", _("Voice message")
        VIDEO = "video", _("Video")
        FILE = "file", _("File")
        LOCATION = "location", _("Location")
        CALL = "call", _("Call")
        FORM = "form", _("Web form")
        OTHER = "other", _("Unsupported message")

    class Delivery(models.TextChoices):
        """How far an outbound message got, as the provider reports it."""

        QUEUED = "queued", _("Queued")
        SENT = "sent", _("Sent")
        DELIVERED = "delivered", _("Delivered")
        READ = "read", _("Read")
        FAILED = "failed", _("Failed")

    inquiry = models.ForeignKey(Inquiry, models.CASCADE, related_name="messages", verbose_name=_("inquiry"))
    direction = models.CharField(_("direction"), max_length=8, choices=Direction.choices)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.TEXT)
    # The channel it came or went by: a conversation may continue by another channel than it began.
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices, blank=True)
    # The provider's id of this message: a redelivered webhook finds it and creates nothing.
    external_id = models.CharField(max_length=200, blank=True)
    body = models.TextField(_("text"), max_length=4000, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+",
                               verbose_name=_("author"))
    delivery = models.CharField(_("delivery"), max_length=16, choices=Delivery.choices, blank=True)
    delivery_error = models.CharField(_("provider's error"), max_length=500, blank=True)
    delivery_changed_at = models.DateTimeField(_("delivery status changed"), null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        constraints = [
            models.UniqueConstraint(fields=["channel", "external_id"], condition=~Q(external_id=""),
                                    name="message_delivered_once"),
        ]

    def __str__(self):
        return f"{self.get_direction_display()}: {self.body[:40]}"

    @property
    def shown_text(self) -> str:
        """The text, or what kind of message it was when it has none (a sticker, a voice message)."""
        if self.body:
            return self.body
        return f"[{self.get_kind_display()}]"
