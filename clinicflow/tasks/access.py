"""The read gate applied to tasks."""

from clinicflow import gates

from .models import Task


def tasks_visible_to(user):
    return gates.visible(Task.objects.all(), user)


def tasks_at_work(user):
    """The user's own branches' tasks: what the task lists show."""
    return gates.at_work(Task.objects.all(), user)


def task_for_user(user, task_id, *, write: bool = False) -> Task:
    return gates.one_for_user(Task.objects.select_related("branch"), user, task_id, write=write)
