from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from clinicflow import gates

from .access import task_for_user, tasks_at_work
from .services import task_complete

VIEWS = ("mine", "role", "overdue")


def tasks_for(user, view: str):
    tasks = tasks_at_work(user).listing(user, view)
    return tasks.select_related("patient", "assignee", "branch")


@gates.patient_reader_required
def task_list(request):
    gates.list_opened(request.user, "tasks")
    view = request.GET.get("view") if request.GET.get("view") in VIEWS else "mine"
    counts = {name: tasks_for(request.user, name).count() for name in VIEWS}
    return render(request, "tasks/list.html", {"tasks": tasks_for(request.user, view)[:200], "view": view,
                                               "counts": counts, "now": timezone.now(), "section": "tasks"})


@require_POST
@gates.patient_reader_required
def task_done(request, task_id):
    task = task_for_user(request.user, task_id, write=True)
    task_complete(task=task, by=request.user)
    back = request.POST.get("next", "")
    return redirect(back if back.startswith("/tasks/") else "tasks:list")
