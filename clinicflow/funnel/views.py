from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Count, F, OuterRef, Subquery, Window
from django.db.models.functions import RowNumber
from django.http import QueryDict
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from clinicflow import gates
from clinicflow.clinic.models import Doctor
from clinicflow.patients.models import Patient

from .access import case_for_user, cases_at_work
from .models import Case, IntakeQuestion, LostReason, Source, Stage
from .services import case_move, case_record_intake, lost_reason_listed, lost_reasons_offered

BOARD_STAGES = [s for s in Stage if s != Stage.CLOSED]
CARDS_PER_COLUMN = 25
PERIODS = {"today": _("Opened today"), "7": _("Opened in the last 7 days"), "30": _("Opened in the last 30 days"),
           "90": _("Opened in the last 90 days")}

# Inquiries and appointments live in apps above the funnel (import-linter keeps the layers): the board
# reaches them through Case's reverse relations by name, as the gate reaches a patient's.
Inquiry = Case._meta.get_field("inquiries").related_model
Appointment = Case._meta.get_field("appointments").related_model
UPCOMING = [Appointment.Status.REQUESTED, Appointment.Status.BOOKED, Appointment.Status.CONFIRMED]


@dataclass(frozen=True)
class BoardFilters:
    """What the person narrowed the board to. Unknown or foreign values are ignored, never trusted."""

    branch: str = ""
    owner: str = ""  # "me", "none" or a user id
    doctor: str = ""
    period: str = ""
    q: str = ""
    lost: bool = False  # the Lost column expanded

    @classmethod
    def from_query(cls, query: QueryDict) -> "BoardFilters":
        def number_or(value: str, *words: str) -> str:
            return value if value.isdigit() or value in words else ""

        return cls(branch=number_or(query.get("branch", "")), owner=number_or(query.get("owner", ""), "me", "none"),
                   doctor=number_or(query.get("doctor", "")),
                   period=query.get("period", "") if query.get("period") in PERIODS else "",
                   q=" ".join(query.get("q", "").split())[:200], lost=query.get("lost") == "1")

    def querystring(self, **changes) -> str:
        values = {**self.__dict__, **changes}
        values["lost"] = "1" if values["lost"] else ""
        return urlencode({k: v for k, v in values.items() if v})

    def apply(self, cases, user):
        if self.branch:
            cases = cases.filter(branch_id=int(self.branch))
        if self.owner == "me":
            cases = cases.filter(owner=user)
        elif self.owner == "none":
            cases = cases.filter(owner=None)
        elif self.owner:
            cases = cases.filter(owner_id=int(self.owner))
        if self.doctor:
            cases = cases.filter(pk__in=Appointment.objects.filter(doctor_id=int(self.doctor)).values("case_id"))
        if self.period:
            cases = cases.filter(created_at__gte=self.period_start())
        if self.q:
            cases = cases.filter(patient__in=Patient.objects.search(self.q).values("pk"))
        return cases

    def period_start(self) -> datetime:
        now = timezone.localtime()
        if self.period == "today":
            return now.replace(hour=0, minute=0, second=0, microsecond=0)
        return now - timedelta(days=int(self.period))

    @property
    def active(self) -> bool:
        return any((self.branch, self.owner, self.doctor, self.period, self.q))


def _with_card_facts(cases):
    """What a card shows besides the patient: computed in the same query, not one query per card."""
    latest = Inquiry.objects.filter(case=OuterRef("pk")).order_by("-received_at", "-id")
    upcoming = Appointment.objects.filter(case=OuterRef("pk"), status__in=UPCOMING,
                                          starts_at__gte=timezone.now()).order_by("starts_at", "id")
    return (cases.select_related("patient", "branch", "owner").prefetch_related("patient__identities")
            .annotate(wants_service=Subquery(latest.exclude(service=None).values("service__name")[:1]),
                      wants_specialty=Subquery(latest.exclude(specialty=None).values("specialty__name")[:1]),
                      wants_time=Subquery(latest.exclude(preferred_time="").values("preferred_time")[:1]),
                      next_visit_at=Subquery(upcoming.values("starts_at")[:1]),
                      next_visit_doctor=Subquery(upcoming.values("doctor__full_name")[:1])))


def board_columns(user, filters: BoardFilters | None = None):
    """The kanban: per stage its newest cards and how many there are, in three queries whatever the size.

    The Lost column is collapsed unless asked for: its cards are only counted.
    """
    filters = filters or BoardFilters()
    cases = filters.apply(cases_at_work(user), user)
    counts = dict(cases.values_list("stage").annotate(n=Count("id")).order_by())
    shown = [s for s in BOARD_STAGES if counts.get(s) and (s != Stage.LOST or filters.lost)]
    # The newest cards of every column in one query: numbered within their stage, the first ones kept.
    place = Window(RowNumber(), partition_by=[F("stage")], order_by=[F("stage_changed_at").desc(), F("id").desc()])
    cards: dict[str, list[Case]] = {}
    if shown:
        for case in _with_card_facts(cases.filter(stage__in=shown)).annotate(place=place).filter(
                place__lte=CARDS_PER_COLUMN).order_by("place"):
            cards.setdefault(case.stage, []).append(case)
    columns = []
    for stage in BOARD_STAGES:
        count = counts.get(stage, 0)
        collapsed = stage == Stage.LOST and not filters.lost
        columns.append({"stage": stage, "count": count, "cards": cards.get(stage, []), "collapsed": collapsed,
                        "hidden": 0 if collapsed else max(count - CARDS_PER_COLUMN, 0)})
    return columns


def filter_choices(user) -> dict:
    """The options of the board's filters: only the user's branches and the owners of the user's cases."""
    branches = list(gates.branches_at_work(user))
    owners = get_user_model().objects.filter(pk__in=cases_at_work(user).exclude(owner=None).values("owner_id"))
    doctors = Doctor.objects.filter(active=True, branches__in=[b.pk for b in branches]).distinct()
    return {"branches": branches if len(branches) > 1 else [], "owners": owners.order_by("first_name", "username"),
            "doctors": doctors, "periods": PERIODS}


def _board_context(request, filters: BoardFilters, **extra) -> dict:
    columns = board_columns(request.user, filters)
    on_board = {case.pk for column in columns for case in column["cards"]}
    return {"columns": columns, "filters": filters, "choices": filter_choices(request.user),
            "lost_reasons": lost_reasons_offered(),
            "lost_toggle": filters.querystring(lost=not filters.lost),
            # A refused move is shown at its card; at the top only when that card is not on the board.
            "error_on_card": extra.get("error_case_id") in on_board, **extra}


@gates.patient_reader_required
def board(request):
    filters = BoardFilters.from_query(request.GET)
    if request.htmx and not request.htmx.history_restore_request:
        # Filtering and opening Lost: the same list, opened already (decision 0002: one row per opening).
        return render(request, "funnel/board.html#board", _board_context(request, filters))
    gates.list_opened(request.user, "cases")
    return render(request, "funnel/board.html", {**_board_context(request, filters), "section": "cases"})


def _lost_reason_from(post: QueryDict) -> LostReason | None:
    value = post.get("lost_reason", "")
    if not value:
        return None
    listed = lost_reason_listed(value)
    if listed is None:
        raise ValidationError({"lost_reason": _("Choose a reason from the list.")})
    return listed


@require_POST
@gates.patient_reader_required
def move(request, case_id):
    case = case_for_user(request.user, case_id, write=True)
    to_stage, error = request.POST.get("stage", ""), None
    try:
        case = case_move(case=case, to_stage=to_stage, by=request.user, source=Source.PERSON,
                         reason=request.POST.get("reason", ""), lost_reason=_lost_reason_from(request.POST))
    except ValidationError as exc:
        error = " ".join(exc.messages)
    if request.POST.get("view") == "board":
        context = _board_context(request, BoardFilters.from_query(request.POST), error=error, error_case_id=case.pk,
                                 asking_lost_reason=bool(error) and to_stage == Stage.LOST)
        return render(request, "funnel/board.html#board", context)
    return render(request, "funnel/case_panel.html", _panel_context(case, error=error, tried_stage=to_stage))


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
