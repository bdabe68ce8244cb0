from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinicflow.patients.models import Patient


class Consent(models.Model):
    """A patient's consent to the processing of personal data for one purpose, with its evidence."""

    class Purpose(models.TextChoices):
        SERVICE = "service", _("Service communication")
        MARKETING = "marketing", _("Marketing")

    patient = models.ForeignKey(Patient, models.CASCADE, related_name="consents")
    purpose = models.CharField(_("purpose"), max_length=16, choices=Purpose.choices)
    given_at = models.DateTimeField(_("given"), default=timezone.now)
    withdrawn_at = models.DateTimeField(_("withdrawn"), null=True, blank=True)
    source = models.CharField(_("source"), max_length=32, help_text=_("Where it was given: web form, phone..."))
    text_version = models.CharField(_("consent text version"), max_length=32, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    page_url = models.URLField(max_length=500, blank=True)

    class Meta:
        ordering = ["-given_at"]

    def __str__(self):
        return f"{self.patient}: {self.get_purpose_display()}"

    @property
    def is_valid(self) -> bool:
        return self.withdrawn_at is None
