from django.core.exceptions import ValidationError
from django.db.models import Count
from django.shortcuts import render
from django.views.decorators.http import require_POST

from clinicflow import gates

from .access import case_for_user, cases_at_work
from .models import Case, IntakeQuestion, Source, Stage
from .services import case_move, case_record_intake

BOARD_STAGES = [s for s in Stage if s != Stage.CLOSED]
CARDS_PER_COLUMN = 25


def board_columns(user):
    """The kanban: per stage its newest cards and how many there are. Two queries per stage at most."""
    cases = cases_at_work(user)
    counts = dict(cases.values_list("stage").annotate(n=Count("id")).order_by())
    columns = []
    for stage in BOARD_STAGES:
        cards = (cases.filter(stage=stage).select_related("patient", "branch")
                 .order_by("-stage_changed_at", "-id")[:CARDS_PER_COLUMN]) if counts.get(stage) else []
        count = counts.get(stage, 0)
        columns.append({"stage": stage, "count": count, "cards": cards, "hidden": max(count - CARDS_PER_COLUMN, 0)})
    return columns


@gates.patient_reader_required
def board(request):
    gates.list_opened(request.user, "cases")
    context = {"columns": board_columns(request.user), "section": "cases"}
    return render(request, "funnel/board.html", context)


@require_POST
@gates.patient_reader_required
def move(request, case_id):
    case = case_for_user(request.user, case_id, write=True)
    error = None
    try:
        case = case_move(case=case, to_stage=request.POST.get("stage", ""), by=request.user, source=Source.PERSON,
                         reason=request.POST.get("reason", ""))
    except ValidationError as exc:
        error = " ".join(exc.messages)
    if request.POST.get("view") == "board":
        context = {"columns": board_columns(request.user), "error": error, "error_case_id": case.pk}
        return render(request, "funnel/board.html#board", context)
    return render(request, "funnel/case_panel.html", _panel_context(case, error=error))


@require_POST
@gates.patient_reader_required
def intake(request, case_id):
    case = case_for_user(request.user, case_id, write=True)
    errors = {}
    try:
        case = case_record_intake(case=case, answers=request.POST)
    except ValidationError as exc:
        errors = {field: " ".join(messages) for field, messages in exc.message_dict.items()}
    return render(request, "funnel/case_panel.html", _panel_context(case, intake_errors=errors,
                                                                     saved=not errors))


def _panel_context(case: Case, **extra) -> dict:
    return {"case": case, "questions": IntakeQuestion.objects.filter(active=True), **extra}
