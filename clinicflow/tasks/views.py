from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from clinicflow.accounts.decorators import staff_required
from clinicflow.accounts.models import restrict_to_branches

from .models import Task
from .services import task_complete

VIEWS = ("mine", "role", "overdue")


def tasks_for(user, view: str):
    tasks = restrict_to_branches(Task.objects.all(), user).listing(user, view)
    return tasks.select_related("patient", "assignee", "branch")


@staff_required
def task_list(request):
    view = request.GET.get("view") if request.GET.get("view") in VIEWS else "mine"
    counts = {name: tasks_for(request.user, name).count() for name in VIEWS}
    return render(request, "tasks/list.html", {"tasks": tasks_for(request.user, view)[:200], "view": view,
                                               "counts": counts, "now": timezone.now(), "section": "tasks"})


@require_POST
@staff_required
def task_done(request, task_id):
    task = get_object_or_404(restrict_to_branches(Task.objects.all(), request.user), pk=task_id)
    task_complete(task=task, by=request.user)
    back = request.POST.get("next", "")
    return redirect(back if back.startswith("/tasks/") else "tasks:list")
