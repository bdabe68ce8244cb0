from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import Task


def task_create(*, title: str, branch, due_at, kind: str = Task.Kind.CALLBACK, assignee=None, role: str = "",
                patient=None, inquiry=None, created_by=None) -> Task:
    task = Task(title=title, branch=branch, due_at=due_at, kind=kind, assignee=assignee, role=role,
                patient=patient, inquiry=inquiry, created_by=created_by)
    if assignee is None and not role:
        raise ValidationError({"assignee": _("Give the task a person or a role.")})
    task.full_clean(validate_constraints=False)
    task.save()
    return task


def task_complete(*, task: Task, by) -> Task:
    if task.done_at is None:
        task.done_at, task.done_by = timezone.now(), by
        task.save(update_fields=["done_at", "done_by"])
    return task
