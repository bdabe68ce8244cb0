"""The compliance officer's screens: who read which patient's data, filtered and exported."""

import csv
from datetime import datetime, time

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinicflow.accounts.decorators import staff_required
from clinicflow.accounts.models import Role, user_roles

from .models import AccessLogEntry

PAGE_ROWS = 200


class AccessLogFilter(forms.Form):
    username = forms.CharField(label=_("User"), max_length=150, required=False)
    patient_id = forms.IntegerField(label=_("Patient id"), min_value=1, max_value=2**63 - 1, required=False)
    action = forms.ChoiceField(label=_("Action"), required=False,
                               choices=[("", _("any"))] + AccessLogEntry.Action.choices)
    since = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs["class"] = "form-select form-select-sm" if isinstance(
                field.widget, forms.Select) else "form-control form-control-sm"

    def entries(self):
        entries = AccessLogEntry.objects.all()
        if not self.is_valid():
            return entries.none()
        data = self.cleaned_data
        if data["username"]:
            entries = entries.filter(username=data["username"])
        if data["patient_id"]:
            entries = entries.filter(patient_id=data["patient_id"])
        if data["action"]:
            entries = entries.filter(action=data["action"])
        zone = timezone.get_current_timezone()
        if data["since"]:
            entries = entries.filter(at__gte=datetime.combine(data["since"], time.min, zone))
        if data["until"]:
            entries = entries.filter(at__lte=datetime.combine(data["until"], time.max, zone))
        return entries


def _require_compliance_officer(user) -> None:
    if not (user.is_superuser or Role.COMPLIANCE_OFFICER in user_roles(user)):
        raise PermissionDenied


@staff_required
def access_log(request):
    _require_compliance_officer(request.user)
    form = AccessLogFilter(request.GET)
    entries = form.entries()
    return render(request, "compliance/access_log.html", {
        "form": form, "entries": entries[:PAGE_ROWS], "total": entries.count(), "page_rows": PAGE_ROWS,
        "query": request.GET.urlencode(), "section": "access_log"})


class _Echo:
    def write(self, value):
        return value


@staff_required
def access_log_csv(request):
    """The filtered log as CSV, streamed so a year of rows never sits in memory."""
    _require_compliance_officer(request.user)
    entries = AccessLogFilter(request.GET).entries().order_by("seq")
    writer = csv.writer(_Echo())
    rows = (writer.writerow([_cell(e, column) for column in CSV_COLUMNS]) for e in entries.iterator(chunk_size=2000))
    response = StreamingHttpResponse(_chain(writer.writerow(CSV_COLUMNS), rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="access-log.csv"'
    return response


CSV_COLUMNS = ["seq", "at", "user_id", "username", "roles", "token_id", "patient_id", "action", "target",
               "ip_address", "user_agent", "prev_hash", "hash"]


def _cell(entry: AccessLogEntry, column: str):
    value = getattr(entry, column)
    if column == "at":
        return value.isoformat()
    # A browser string such as "=HYPERLINK(...)" would run as a formula in a spreadsheet.
    if isinstance(value, str) and value.startswith(("=", "+", "-", "@", "\t", "\r")):
        return "'" + value
    return value


def _chain(first, rest):
    yield first
    yield from rest
