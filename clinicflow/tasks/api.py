from datetime import datetime
from typing import Literal

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status

from clinicflow import gates
from clinicflow.accounts.models import Role
from clinicflow.core import limits
from clinicflow.core.api_types import DbId, Flag, Moment, Text, one_of

from .access import task_for_user
from .models import Task
from .services import task_complete, task_create, task_reassign, task_reopen, task_reschedule
from .views import VIEWS, tasks_for

router = Router(tags=["tasks"])


class TaskOut(Schema):
    id: int
    kind: str
    title: str
    branch_id: int
    assignee_id: int | None
    role: str
    due_at: datetime
    patient_id: int | None
    inquiry_id: int | None
    done_at: datetime | None


class TaskIn(Schema):
    title: Text = Field(min_length=1, max_length=limits.TASK_TITLE)
    branch_id: DbId
    due_at: Moment
    kind: Task.Kind = Task.Kind.CALLBACK
    role: one_of(Role, "") = Field("", description="A role whose members all see the task")
    assign_to_me: Flag = True
    patient_id: DbId | None = Field(None, description="The patient the task is about (one the user may change)")


class RescheduleIn(Schema):
    due_at: Moment = Field(description="The new due time, in the future")


class ReassignIn(Schema):
    assignee_id: DbId | None = Field(None, description="A person who works with patients at the task's branch")
    role: one_of(Role, "") = Field("", description="Or a role whose members all see the task")


@router.get("", response=list[TaskOut], summary="Open tasks: mine, my role's, overdue, or to act on (managers)")
def list_tasks(request, view: Literal[VIEWS] = "mine"):
    gates.require_patient_reader(request.auth)
    return list(tasks_for(request.auth, view)[:500])


@router.post("", response={201: TaskOut})
def create_task(request, payload: TaskIn):
    gates.require_patient_reader(request.auth)
    branch = gates.branch_for_user(request.auth, payload.branch_id)
    if branch is None:
        raise Http404
    patient = None
    if payload.patient_id is not None:
        patient = gates.patient_for_user(request.auth, payload.patient_id)  # the task is the branch's own
    return Status(201, task_create(title=payload.title, branch=branch, due_at=payload.due_at, kind=payload.kind,
                                   role=payload.role, assignee=request.auth if payload.assign_to_me else None,
                                   patient=patient, created_by=request.auth))


@router.post("/{task_id}/done", response=TaskOut)
def complete_task(request, task_id: DbId):
    task = task_for_user(request.auth, task_id, write=True)
    return task_complete(task=task, by=request.auth)


@router.post("/{task_id}/reopen", response=TaskOut, summary="Undo “done” within a few seconds")
def reopen_task(request, task_id: DbId):
    task = task_for_user(request.auth, task_id, write=True)
    return task_reopen(task=task, by=request.auth)


@router.post("/{task_id}/reschedule", response=TaskOut, summary="Snooze or move an open task")
def reschedule_task(request, task_id: DbId, payload: RescheduleIn):
    task = task_for_user(request.auth, task_id, write=True)
    return task_reschedule(task=task, due_at=payload.due_at, by=request.auth)


@router.post("/{task_id}/reassign", response=TaskOut, summary="Hand an open task to a person or a role")
def reassign_task(request, task_id: DbId, payload: ReassignIn):
    task = task_for_user(request.auth, task_id, write=True)
    assignee = None
    if payload.assignee_id is not None:
        assignee = get_user_model().objects.filter(pk=payload.assignee_id, is_active=True).first()
        if assignee is None:
            raise ValidationError({"assignee": _("No such person.")})
    elif not payload.role:
        raise ValidationError({"assignee": _("Give the task a person or a role.")})
    return task_reassign(task=task, by=request.auth, assignee=assignee, role=payload.role)
