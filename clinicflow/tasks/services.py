from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from clinicflow import gates
from clinicflow.accounts.models import Role, user_roles

from .models import Task

# How long "Done" can be taken back: long enough to notice a click on the wrong row, short enough that
# a finished task does not come back days later without anyone deciding so.
UNDO_SECONDS = 10
# Who may hand an escalation to someone else: it is the manager's to act on.
ESCALATION_OWNERS = frozenset({Role.FRONT_OFFICE_MANAGER, Role.CLINIC_ADMIN})


def task_create(*, title: str, branch, due_at, kind: str = Task.Kind.CALLBACK, assignee=None, role: str = "",
                patient=None, inquiry=None, created_by=None) -> Task:
    task = Task(title=title.strip(), branch=branch, due_at=due_at, kind=kind, assignee=assignee, role=role,
                patient=patient, inquiry=inquiry, created_by=created_by)
    _check_owner(branch=branch, assignee=assignee, role=role)
    task.full_clean(validate_constraints=False)
    task.save()
    return task


def _check_owner(*, branch, assignee, role: str) -> None:
    """A task goes to a person who works at its branch and handles patients, or to a role that does."""
    if assignee is None and not role:
        raise ValidationError({"assignee": _("Give the task a person or a role.")})
    if role and role not in gates.PATIENT_ROLES:
        raise ValidationError({"role": _("Only a role that works with patients can take a task.")})
    if assignee is not None:
        branch_ids = gates.work_branch_ids(assignee)
        if not gates.reads_patients(assignee) or (branch_ids is not None and branch.pk not in branch_ids):
            raise ValidationError({"assignee": _("This person does not work with patients at %(branch)s.")
                                   % {"branch": branch.name}})


def task_complete(*, task: Task, by) -> Task:
    if task.done_at is None:
        task.done_at, task.done_by = timezone.now(), by
        task.save(update_fields=["done_at", "done_by"])
    return task


def task_reopen(*, task: Task, by) -> Task:
    """Undo "Done" within UNDO_SECONDS of it; later, a finished task stays finished."""
    if task.done_at is None:
        return task
    if timezone.now() - task.done_at > timedelta(seconds=UNDO_SECONDS):
        raise ValidationError({"done_at": ngettext(
            "Too late to undo: the task was finished more than %(seconds)d second ago. Create a new one if there "
            "is more to do.",
            "Too late to undo: the task was finished more than %(seconds)d seconds ago. Create a new one if there "
            "is more to do.", UNDO_SECONDS) % {"seconds": UNDO_SECONDS}})
    # On the value just read: a second undo (or a double click) finds nothing left to reopen.
    Task.objects.filter(pk=task.pk, done_at=task.done_at).update(done_at=None, done_by=None)
    task.refresh_from_db()
    return task


def task_reschedule(*, task: Task, due_at: datetime, by) -> Task:
    """Snooze or move an open task to a later time."""
    _check_open(task)
    if due_at <= timezone.now():
        raise ValidationError({"due_at": _("Choose a time in the future.")})
    task.due_at = due_at
    task.full_clean(validate_constraints=False)
    task.save(update_fields=["due_at"])
    return task


def task_reassign(*, task: Task, by, assignee=None, role: str = "") -> Task:
    """Hand an open task to a person of its branch or to a role; escalations only by a manager."""
    _check_open(task)
    if task.kind == Task.Kind.ESCALATION and not (by.is_superuser or user_roles(by) & ESCALATION_OWNERS):
        raise PermissionDenied(_("Only a front-office manager reassigns an escalation."))
    _check_owner(branch=task.branch, assignee=assignee, role="" if assignee else role)
    task.assignee, task.role = assignee, "" if assignee else role
    task.save(update_fields=["assignee", "role"])
    return task


def _check_open(task: Task) -> None:
    if task.done_at is not None:
        raise ValidationError({"done_at": _("The task is already done.")})
