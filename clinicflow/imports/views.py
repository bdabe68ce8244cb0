import csv

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from clinicflow import gates
from clinicflow.automation.models import Job

from .access import import_for_user, imports_visible_to, require_importer
from .forms import UploadForm
from .models import Field, SpreadsheetImport
from .services import (
    PREVIEW_ROWS,
    import_map,
    import_start,
    import_upload,
    mapping_problems,
    refused_entries,
    refused_report_rows,
    rows_check,
)
from .tables import TableError


@gates.patient_reader_required
def import_list(request):
    require_importer(request.user)
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            spreadsheet_import, created = import_upload(user=request.user, name=upload.name, content=upload.read())
        except TableError as exc:
            form.add_error("file", str(exc))
        else:
            if not created and spreadsheet_import.status != SpreadsheetImport.Status.UPLOADED:
                messages.warning(request, _("This file was imported already: nothing is imported twice."))
            return redirect("imports:detail", spreadsheet_import.pk)
    imports = imports_visible_to(request.user).select_related("created_by")[:50]
    return render(request, "imports/list.html", {"form": form, "imports": imports, "section": "imports"})


@gates.patient_reader_required
def import_detail(request, import_id):
    spreadsheet_import = import_for_user(request.user, import_id)
    errors = []
    if request.method == "POST":
        try:
            import_map(spreadsheet_import=spreadsheet_import, user=request.user, **_mapping_from(request.POST))
        except ValidationError as exc:
            errors = exc.messages
    context = {"spreadsheet_import": spreadsheet_import, "errors": errors, "section": "imports"}
    if spreadsheet_import.status == SpreadsheetImport.Status.UPLOADED:
        context.update(_preview_context(spreadsheet_import, request.user))
    else:
        context["stalled"] = (Job.objects.filter(idempotency_key__startswith=f"import:{spreadsheet_import.pk}:")
                              .exclude(last_error="").exclude(state=Job.State.DONE).first())
    if request.htmx:
        partial = "preview" if request.method == "POST" else "status"
        return render(request, f"imports/detail.html#{partial}", context)
    return render(request, "imports/detail.html", context)


def _mapping_from(data) -> dict:
    count = int(data.get("columns") or 0) if (data.get("columns") or "").isdigit() else 0
    branch = data.get("default_branch", "")
    return {"mapping": [data.get(f"column_{i}", "") for i in range(min(count, 100))],
            "default_branch_id": int(branch) if branch.isdigit() else None,
            "consent_declared": data.get("consent_declared") == "on"}


def _preview_context(spreadsheet_import: SpreadsheetImport, user) -> dict:
    check = rows_check(spreadsheet_import=spreadsheet_import, user=user)
    first = [cells for _line, cells in spreadsheet_import.rows[:3]]
    samples = [[cells[i] for cells in first] for i in range(len(spreadsheet_import.header))]
    return {"check": check, "preview": check.rows[:PREVIEW_ROWS], "refused_rows": check.refused[:100],
            "problems": mapping_problems(spreadsheet_import), "fields": Field.choices,
            "columns": list(zip(spreadsheet_import.header, spreadsheet_import.mapping, samples, strict=False)),
            "branches": gates.branches_at_work(user),
            "counts": {name: check.count(name) for name in ("new", "existing", "merged", "leads")}}


@require_POST
@gates.patient_reader_required
def import_run(request, import_id):
    spreadsheet_import = import_for_user(request.user, import_id)
    try:
        import_start(spreadsheet_import=spreadsheet_import, user=request.user)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    return redirect("imports:detail", spreadsheet_import.pk)


@gates.patient_reader_required
def import_refused_csv(request, import_id):
    spreadsheet_import = import_for_user(request.user, import_id)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="refused-rows-{spreadsheet_import.pk}.csv"'
    response.write("\ufeff")  # the BOM makes Excel read the file as UTF-8, not as the system's code page
    refused = spreadsheet_import.refused
    if spreadsheet_import.status == SpreadsheetImport.Status.UPLOADED:  # the preview's report, before importing
        refused = refused_entries(rows_check(spreadsheet_import=spreadsheet_import, user=request.user))
    csv.writer(response).writerows(refused_report_rows(header=spreadsheet_import.header, refused=refused))
    return response
