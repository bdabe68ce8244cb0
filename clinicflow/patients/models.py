from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinicflow.clinic.models import Branch

from .phones import format_phone


class Channel(models.TextChoices):
    """Ways a patient reaches the clinic or is reached by it."""

    PHONE = "phone", _("Phone")
    WEB = "web", _("Website")
    WHATSAPP = "whatsapp", _("WhatsApp")
    TELEGRAM = "telegram", _("Telegram")
    VK = "vk", _("VK")
    MAX = "max", _("MAX")
    SMS = "sms", _("SMS")
    EMAIL = "email", _("E-mail")
    WALK_IN = "walk_in", _("Walk-in")


class PatientQuerySet(models.QuerySet):
    def search(self, query: str):
        """By name (any case, any alphabet), e-mail, or phone in any spelling."""
        from .phones import normalize_phone

        query = query.strip()
        if not query:
            return self.order_by("-created_at")
        match = Q(name_lower__contains=query.lower()) | Q(email__iexact=query)
        digits = "".join(ch for ch in query if ch.isdigit())
        if len(digits) >= 4 and not any(ch.isalpha() for ch in query):
            # A receptionist often types only the end of a number: "4567".
            match |= Q(identities__channel=Channel.PHONE, identities__address__contains=digits)
        try:
            match |= Q(identities__channel=Channel.PHONE, identities__address=normalize_phone(query))
        except ValidationError:
            pass  # not a whole phone number
        return self.annotate(name_lower=Lower("full_name")).filter(match).distinct()

    def current(self):
        """Cards in use: a card merged into another is kept only so that the merge can be undone."""
        return self.filter(merged_into__isnull=True)


class Patient(models.Model):
    """A person the clinic talks to. Contact data only: medical data lives in the MIS, never here."""

    full_name = models.CharField(_("full name"), max_length=160, blank=True)
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    preferred_channel = models.CharField(_("preferred channel"), max_length=16, choices=Channel.choices,
                                         default=Channel.PHONE)
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES, default="ru")
    branch = models.ForeignKey(Branch, models.PROTECT, related_name="patients", verbose_name=_("home branch"))
    mis_id = models.CharField(_("MIS id"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    # Set when this card was merged into another: it then holds nothing, lists and search skip it, and
    # opening it opens the kept card. Kept rather than deleted, so that a manager can undo the merge.
    merged_into = models.ForeignKey("self", models.PROTECT, null=True, blank=True, related_name="merged_cards",
                                    verbose_name=_("merged into"))
    merged_at = models.DateTimeField(_("merged"), null=True, blank=True)

    objects = PatientQuerySet.as_manager()

    class Meta:
        ordering = ["full_name", "id"]
        verbose_name = _("patient")
        verbose_name_plural = _("patients")
        indexes = [models.Index(fields=["full_name"])]

    def __str__(self):
        return self.full_name or self.display_phone or f"#{self.pk}"

    @property
    def phones(self) -> list[str]:
        return [i.address for i in self.identities.all() if i.channel == Channel.PHONE]

    @property
    def display_phone(self) -> str:
        phones = self.phones
        return format_phone(phones[0]) if phones else ""

    @property
    def is_merged(self) -> bool:
        return self.merged_into_id is not None

    @property
    def is_stub(self) -> bool:
        """A card a messenger account made: no phone and no visit yet (what a proven phone may join on its own)."""
        # Appointments live above patients: asked through the reverse relation by name.
        return not self.identities.filter(channel=Channel.PHONE).exists() and not self.appointments.exists()


class PatientIdentity(models.Model):
    """One address at which a patient is known: an E.164 phone, a Telegram chat id, an e-mail..."""

    patient = models.ForeignKey(Patient, models.CASCADE, related_name="identities", verbose_name=_("patient"))
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    address = models.CharField(_("address"), max_length=255)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["channel", "id"]
        verbose_name = _("patient identity")
        verbose_name_plural = _("patient identities")
        # One address belongs to one patient: the rule that keeps one person one record.
        constraints = [models.UniqueConstraint(fields=["channel", "address"], name="identity_unique_address")]

    def __str__(self):
        return f"{self.get_channel_display()}: {self.display_address}"

    @property
    def display_address(self) -> str:
        return format_phone(self.address) if self.channel == Channel.PHONE else self.address


class PatientNote(models.Model):
    """A line the front desk writes on a patient's card ("prefers calls after 18:00").

    A note belongs to the branch that wrote it: in a clinic whose branches keep their own patients, another
    branch never reads it (the card lists notes through the read gate). Contact data and organisational
    remarks only: medical details belong in the MIS, never here.
    """

    patient = models.ForeignKey(Patient, models.CASCADE, related_name="notes", verbose_name=_("patient"))
    branch = models.ForeignKey(Branch, models.PROTECT, related_name="patient_notes", verbose_name=_("branch"))
    body = models.TextField(_("note"), max_length=2000)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+",
                               verbose_name=_("author"))
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("patient note")
        verbose_name_plural = _("patient notes")

    def __str__(self):
        return self.body[:40]


class Representative(models.Model):
    """Someone who acts for a patient: a parent for a child, a guardian for a ward, a relative.

    The representative is a patient too ("a person the clinic talks to") and owns the phone and messenger
    accounts; the patient they act for may have none. A phone is then one person, not one patient: messages
    about a child go to the guardian (`services.patient_reach`).
    """

    class Relation(models.TextChoices):
        PARENT = "parent", _("parent")
        GUARDIAN = "guardian", _("guardian")
        FAMILY = "family", _("family member")
        OTHER = "other", _("other")

    representative = models.ForeignKey(Patient, models.CASCADE, related_name="represents",
                                       verbose_name=_("representative"))
    patient = models.ForeignKey(Patient, models.CASCADE, related_name="represented_by",
                                verbose_name=_("patient represented"))
    relation = models.CharField(_("relation"), max_length=16, choices=Relation.choices, default=Relation.PARENT)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True,
                                   related_name="+", verbose_name=_("recorded by"))

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("representative")
        verbose_name_plural = _("representatives")
        constraints = [
            # Two desks linking the same pair at once: the second gets the first one's link.
            models.UniqueConstraint(fields=["representative", "patient"], name="representative_unique_pair"),
            models.CheckConstraint(condition=~Q(representative=models.F("patient")), name="representative_not_self"),
        ]

    def __str__(self):
        return f"{self.representative} → {self.patient} ({self.get_relation_display()})"
class PatientMerge(models.Model):
    """Two cards of one person made one: `merged` gave everything it held to `kept`.

    `moved` names exactly which rows moved (``{"app.model:field": [ids]}``), `filled` the fields of the kept
    card that were blank and got the merged card's value, and `steps` what other apps did (an open case closed
    because the kept card had one at the same branch), so that `patient_unmerge` puts each back. `by` is
    empty for the automatic join of a messenger account that proved its phone.
    """

    kept = models.ForeignKey(Patient, models.PROTECT, related_name="merges_kept", verbose_name=_("kept card"))
    merged = models.ForeignKey(Patient, models.PROTECT, related_name="merges_given", verbose_name=_("merged card"))
    by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+",
                           verbose_name=_("merged by"))
    reason = models.CharField(_("reason"), max_length=200)
    at = models.DateTimeField(_("merged"), default=timezone.now)
    moved = models.JSONField(_("rows moved"), default=dict)
    filled = models.JSONField(_("blanks filled"), default=list)
    steps = models.JSONField(_("other changes"), default=dict)
    undone_at = models.DateTimeField(_("undone"), null=True, blank=True)
    undone_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True,
                                  related_name="+", verbose_name=_("undone by"))

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("merge of patient cards")
        verbose_name_plural = _("merges of patient cards")
        constraints = [
            # Two people merging the same card at once: the second one's merge fails instead of stacking up.
            models.UniqueConstraint(fields=["merged"], condition=Q(undone_at__isnull=True),
                                    name="one_live_merge_per_card"),
        ]

    def __str__(self):
        return f"#{self.merged_id} → #{self.kept_id}"

    @property
    def is_undone(self) -> bool:
        return self.undone_at is not None

    def moved_count(self) -> int:
        return sum(len(ids) for ids in self.moved.values())
