from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from clinicflow import gates
from clinicflow.accounts.models import Role, user_roles

from .access import task_for_user, tasks_at_work
from .forms import MANUAL_KINDS, due_from, owner_choices, owner_from
from .models import Task
from .services import (
    ESCALATION_OWNERS,
    UNDO_SECONDS,
    task_complete,
    task_create,
    task_reassign,
    task_reopen,
    task_reschedule,
)

VIEWS = ("mine", "role", "overdue", "attention")
SNOOZE_MINUTES = (15, 60)


def tasks_for(user, view: str):
    tasks = tasks_at_work(user).listing(user, view)
    return tasks.select_related("patient", "assignee", "branch")


def manages(user) -> bool:
    """Managers act on escalations and on what is late at their branches."""
    return user.is_superuser or bool(user_roles(user) & ESCALATION_OWNERS)


def default_view(user) -> str:
    # A front-office manager opens the page on what is theirs to act on; receptionists on their own tasks.
    return "attention" if Role.FRONT_OFFICE_MANAGER in user_roles(user) else "mine"


@gates.patient_reader_required
def task_list(request):
    gates.list_opened(request.user, "tasks")
    user = request.user
    view = request.GET.get("view") if request.GET.get("view") in VIEWS else default_view(user)
    tabs = [v for v in VIEWS if v != "attention" or manages(user)]
    counts = {name: tasks_for(user, name).count() for name in tabs}
    return render(request, "tasks/list.html", {**_row_context(request), "tasks": tasks_for(user, view)[:200],
                                               "view": view, "tabs": tabs, "counts": counts, "section": "tasks",
                                               "branches": gates.branches_at_work(user), "kinds": _manual_kinds()})


def _manual_kinds() -> list[tuple[str, str]]:
    return [(kind, Task.Kind(kind).label) for kind in MANUAL_KINDS]


def _row_context(request) -> dict:
    """What every task row needs: the owner list of the user's branches, and whether escalations move."""
    return {"now": timezone.now(), "owners": owner_choices(request.user, gates.work_branch_ids(request.user)),
            "manages": manages(request.user), "snooze_minutes": SNOOZE_MINUTES, "undo_seconds": UNDO_SECONDS}


@require_POST
@gates.patient_reader_required
def task_new(request):
    """A task by hand from the tasks page: call back, follow up, at a time, for me, a colleague or a role."""
    branch = gates.branch_for_user(request.user, request.POST.get("branch"))
    if branch is None:
        messages.error(request, _("Choose one of your branches."))
        return redirect("tasks:list")
    try:
        assignee, role = owner_from(request.POST.get("owner", ""), user=request.user)
        task_create(title=request.POST.get("title", ""), kind=_kind(request), branch=branch, assignee=assignee,
                    role=role, due_at=due_from(request.POST.get("due_at", ""), branch), created_by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Task created."))
    return redirect("tasks:list")


def _kind(request) -> str:
    kind = request.POST.get("kind", "callback")
    return kind if kind in MANUAL_KINDS else "callback"


@require_POST
@gates.patient_reader_required
def task_done(request, task_id):
    task = task_for_user(request.user, task_id, write=True)
    task_complete(task=task, by=request.user)
    if request.htmx:
        # "Done · Undo" in place of the row, for UNDO_SECONDS.
        return render(request, "tasks/list.html#done_row", {**_row_context(request), "task": task})
    return _back(request)


@require_POST
@gates.patient_reader_required
def task_undo(request, task_id):
    task = task_for_user(request.user, task_id, write=True)
    error = _attempt(task_reopen, task=task, by=request.user)
    if error and not request.htmx:
        messages.error(request, error)
    template = "tasks/list.html#done_row" if task.done_at else "tasks/list.html#task_row"
    return _row_or_back(request, template, task, error)


@require_POST
@gates.patient_reader_required
def task_move(request, task_id):
    """Reschedule to a chosen time, or snooze by a few minutes from now."""
    task = task_for_user(request.user, task_id, write=True)
    snooze = request.POST.get("snooze", "")
    if snooze.isdigit() and int(snooze) in SNOOZE_MINUTES:
        due_at = timezone.now() + timedelta(minutes=int(snooze))
        error = _attempt(task_reschedule, task=task, due_at=due_at, by=request.user)
    else:
        try:
            due_at = due_from(request.POST.get("due_at", ""), task.branch)
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            error = _attempt(task_reschedule, task=task, due_at=due_at, by=request.user)
    return _row_or_back(request, "tasks/list.html#task_row", task, error)


@require_POST
@gates.patient_reader_required
def task_hand_over(request, task_id):
    task = task_for_user(request.user, task_id, write=True)
    try:
        assignee, role = owner_from(request.POST.get("owner", ""), user=request.user)
    except ValidationError as exc:
        error = " ".join(exc.messages)
    else:
        error = _attempt(task_reassign, task=task, by=request.user, assignee=assignee, role=role)
    return _row_or_back(request, "tasks/list.html#task_row", task, error)


def _attempt(service, **kwargs) -> str:
    """Run a task service; its refusal as one line for the row (an escalation refused to a receptionist too)."""
    task = kwargs["task"]
    try:
        service(**kwargs)
    except ValidationError as exc:
        task.refresh_from_db()
        return " ".join(exc.messages)
    except PermissionDenied as exc:
        return str(exc)
    return ""


def _row_or_back(request, template: str, task: Task, error: str):
    if request.htmx:
        task.refresh_from_db()
        return render(request, template, {**_row_context(request), "task": task, "error": error})
    if error:
        messages.error(request, error)
    return _back(request)


def _back(request):
    back = request.POST.get("next", "")
    return redirect(back if back.startswith("/tasks/") else "tasks:list")
