import hashlib
import json

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinicflow.patients.models import Channel, Patient


class Consent(models.Model):
    """A patient's consent to the processing of personal data for one purpose, with its evidence.

    A consent given by someone we cannot yet tie to the number (an anonymous web form naming a known
    patient's phone, or marketing typed into the form) waits for the number to confirm it
    (`confirmed_at`); until then it allows nothing.
    """

    class Purpose(models.TextChoices):
        PROCESSING = "processing", _("Processing of personal data")
        SERVICE = "service", _("Service communication")
        MARKETING = "marketing", _("Marketing")
        CROSS_BORDER = "cross_border", _("Transfer abroad (foreign messengers)")

    # Messengers whose servers are abroad: writing there transfers personal data across the border.
    CROSS_BORDER_CHANNELS = frozenset({Channel.WHATSAPP, Channel.TELEGRAM})

    patient = models.ForeignKey(Patient, models.CASCADE, related_name="consents", verbose_name=_("patient"))
    purpose = models.CharField(_("purpose"), max_length=16, choices=Purpose.choices)
    given_at = models.DateTimeField(_("given"), default=timezone.now)
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True,
                                        help_text=_("Empty while the number has not confirmed it."))
    withdrawn_at = models.DateTimeField(_("withdrawn"), null=True, blank=True)
    source = models.CharField(_("source"), max_length=32, help_text=_("Where it was given: web form, phone..."))
    text_version = models.CharField(_("consent text version"), max_length=32, blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    page_url = models.URLField(_("page"), max_length=500, blank=True)
    withdrawal_source = models.CharField(_("withdrawn via"), max_length=32, blank=True)

    class Meta:
        ordering = ["-given_at", "-id"]
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        indexes = [models.Index(fields=["patient", "purpose"])]

    def __str__(self):
        return f"{self.patient}: {self.get_purpose_display()}"

    @property
    def is_valid(self) -> bool:
        return self.confirmed_at is not None and self.withdrawn_at is None

    @property
    def source_label(self) -> str:
        """Where it was given, in the reader's words: the channel's name, or the desk ("staff")."""
        if self.source == "staff":
            return str(_("at the front desk"))
        return str(Channel(self.source).label) if self.source in Channel.values else self.source

    @property
    def is_pending(self) -> bool:
        return self.confirmed_at is None and self.withdrawn_at is None


class AccessLogEntry(models.Model):
    """One read (or write) of a patient's data by a person or an API token. Append-only, hash-chained.

    Each row's hash covers its own fields and the previous row's hash, so editing or deleting a row
    breaks the chain from there on; `clinicflow audit-verify` says where. Ids are copied, not foreign
    keys: the log outlives deleted users and patients (retention), and nothing cascades into it.
    """

    class Action(models.TextChoices):
        READ = "read", _("Read")
        WRITE = "write", _("Changed")
        SEARCH = "search", _("Found in a search")
        LIST = "list", _("Opened a list")
        EXPORT = "export", _("Exported")
        MERGE = "merge", _("Merged")
        DELETE = "delete", _("Deleted")

    seq = models.PositiveBigIntegerField(_("number"), unique=True, editable=False)
    at = models.DateTimeField(_("when"), editable=False)
    user_id = models.BigIntegerField(_("user id"), null=True, editable=False)
    username = models.CharField(_("user"), max_length=150, blank=True, editable=False)
    roles = models.CharField(_("roles"), max_length=200, blank=True, editable=False)
    token_id = models.BigIntegerField(_("API token id"), null=True, editable=False)
    patient_id = models.BigIntegerField(_("patient id"), null=True, db_index=True, editable=False)
    action = models.CharField(_("action"), max_length=16, choices=Action.choices, editable=False)
    target = models.CharField(_("what"), max_length=80, blank=True, editable=False,
                              help_text=_("The object or screen, e.g. inquiry:12 or list:queue."))
    ip_address = models.CharField(_("IP address"), max_length=45, blank=True, editable=False)
    user_agent = models.CharField(_("browser"), max_length=300, blank=True, editable=False)
    prev_hash = models.CharField(max_length=64, editable=False)
    hash = models.CharField(max_length=64, editable=False)

    CHAINED_FIELDS = ("seq", "at", "user_id", "username", "roles", "token_id", "patient_id", "action", "target",
                      "ip_address", "user_agent", "prev_hash")

    class Meta:
        ordering = ["-seq"]
        verbose_name = _("access log entry")
        verbose_name_plural = _("access log")
        indexes = [models.Index(fields=["at"]), models.Index(fields=["user_id", "at"])]

    def __str__(self):
        return f"#{self.seq} {self.username} {self.action} {self.target}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValidationError("The access log is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError("The access log is append-only.")

    def compute_hash(self) -> str:
        values = {name: getattr(self, name) for name in self.CHAINED_FIELDS}
        values["at"] = self.at.isoformat(timespec="microseconds")
        canonical = json.dumps(values, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


class AccessLogHead(models.Model):
    """The chain's last number and hash, one row. Appending locks it, so concurrent writers queue up and
    the chain stays a single line; comparing it with the last row also reveals rows cut off the end."""

    seq = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64, default="0" * 64)

    def __str__(self):
        return f"#{self.seq} {self.hash[:12]}"
