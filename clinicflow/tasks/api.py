from datetime import datetime
from typing import Literal

from django.http import Http404
from ninja import Field, Router, Schema, Status

from clinicflow import gates
from clinicflow.accounts.models import Role
from clinicflow.core import limits
from clinicflow.core.api_types import DbId, Flag, Moment, Text, one_of

from .access import task_for_user
from .models import Task
from .services import task_complete, task_create
from .views import tasks_for

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


@router.get("", response=list[TaskOut], summary="Open tasks: mine, my role's, or overdue")
def list_tasks(request, view: Literal["mine", "role", "overdue"] = "mine"):
    gates.require_patient_reader(request.auth)
    return list(tasks_for(request.auth, view)[:500])


@router.post("", response={201: TaskOut})
def create_task(request, payload: TaskIn):
    gates.require_patient_reader(request.auth)
    branch = gates.branch_for_user(request.auth, payload.branch_id)
    if branch is None:
        raise Http404
    return Status(201, task_create(title=payload.title, branch=branch, due_at=payload.due_at, kind=payload.kind,
                                   role=payload.role, assignee=request.auth if payload.assign_to_me else None,
                                   created_by=request.auth))


@router.post("/{task_id}/done", response=TaskOut)
def complete_task(request, task_id: DbId):
    task = task_for_user(request.auth, task_id, write=True)
    return task_complete(task=task, by=request.auth)
