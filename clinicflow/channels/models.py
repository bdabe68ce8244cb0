from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class UnreadDelivery(models.Model):
    """A signed delivery we could not turn into inquiries (a format the provider added, a bug of ours).

    Kept raw so that nothing a patient wrote is lost: reported in the log and on /healthz, read by an admin,
    replayed once fixed, and deleted with the rest of the personal data after the retention period.
    """

    channel = models.CharField(_("channel"), max_length=40)
    received_at = models.DateTimeField(_("received"), default=timezone.now)
    body = models.TextField(_("raw body"))
    content_type = models.CharField(max_length=120, blank=True)
    error = models.TextField(_("error"))
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("unread delivery")
        verbose_name_plural = _("unread deliveries")

    def __str__(self):
        return f"{self.channel} {self.received_at:%Y-%m-%d %H:%M}"


class MailboxCursor(models.Model):
    """How far the clinic's mailbox has been read: the last UID taken, valid while the folder's UIDVALIDITY
    stays the same (a server that renumbers its folder changes it)."""

    mailbox = models.CharField(_("mailbox"), max_length=300, unique=True)  # user@host/folder
    uid_validity = models.BigIntegerField(default=0)
    last_uid = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("mailbox cursor")
        verbose_name_plural = _("mailbox cursors")

    def __str__(self):
        return self.mailbox
