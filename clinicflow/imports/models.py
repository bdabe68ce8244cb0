from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinicflow.clinic.models import Branch


class Field(models.TextChoices):
    """What a column of the file may become."""

    IGNORE = "", _("— ignore —")
    FULL_NAME = "full_name", _("Full name")
    LAST_NAME = "last_name", _("Surname")
    FIRST_NAME = "first_name", _("First name")
    MIDDLE_NAME = "middle_name", _("Patronymic")
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("E-mail")
    BIRTH_DATE = "birth_date", _("Birth date")
    BRANCH = "branch", _("Branch")
    COMMENT = "comment", _("Comment / wish (opens a lead)")
    CONSENT = "consent", _("Consent to processing (yes/no)")
    UTM_SOURCE = "utm_source", "utm_source"
    UTM_MEDIUM = "utm_medium", "utm_medium"
    UTM_CAMPAIGN = "utm_campaign", "utm_campaign"
    UTM_TERM = "utm_term", "utm_term"
    UTM_CONTENT = "utm_content", "utm_content"


class SpreadsheetImport(models.Model):
    """One uploaded file on its way in: its rows, how its columns map, and what importing it did.

    The rows (personal data) are kept only until the import is done; what stays is the counts and the
    report of refused rows.
    """

    class Status(models.TextChoices):
        UPLOADED = "uploaded", _("Waiting for mapping and import")
        IMPORTING = "importing", _("Importing")
        DONE = "done", _("Imported")

    # Statuses in which a file's rows are (being) written: the same file may be in one of them only once.
    WRITTEN = (Status.IMPORTING, Status.DONE)

    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+",
                                   verbose_name=_("imported by"))
    created_at = models.DateTimeField(_("uploaded"), default=timezone.now)
    file_name = models.CharField(_("file"), max_length=255)
    file_sha256 = models.CharField(_("file checksum (SHA-256)"), max_length=64, db_index=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.UPLOADED)
    header = models.JSONField(_("column titles"), default=list)
    rows = models.JSONField(_("rows"), default=list)  # [[line number, [cells]], ...] until done
    mapping = models.JSONField(_("what each column holds"), default=list)  # one Field value per column
    default_branch = models.ForeignKey(Branch, models.SET_NULL, null=True, blank=True, related_name="+",
                                       verbose_name=_("branch for rows without one"))
    # The importer's answer when the file has no consent column: the clinic holds the consents (decision 0003).
    consent_declared = models.BooleanField(_("the clinic holds the consents"), default=False)
    # The accepted rows, checked and normalised, while importing.
    plan = models.JSONField(_("rows to write"), default=list)
    rows_total = models.PositiveIntegerField(_("rows to import"), default=0)
    rows_done = models.PositiveIntegerField(_("rows imported"), default=0)
    patients_created = models.PositiveIntegerField(_("new patients"), default=0)
    patients_updated = models.PositiveIntegerField(_("patients already known"), default=0)
    leads_opened = models.PositiveIntegerField(_("open leads"), default=0)
    refused = models.JSONField(_("refused lines"), default=list)  # [{"line": n, "reason": "...", "cells": [...]}]
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("spreadsheet import")
        verbose_name_plural = _("spreadsheet imports")
        constraints = [
            # Two clicks on "Import" (or two people with the same file) must not write it twice.
            models.UniqueConstraint(fields=["file_sha256"], condition=Q(status__in=["importing", "done"]),
                                    name="import_file_written_once"),
        ]

    def __str__(self):
        return self.file_name

    @property
    def percent_done(self) -> int:
        return 100 if not self.rows_total else round(100 * self.rows_done / self.rows_total)
