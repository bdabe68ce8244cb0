"""Tasks: mine, my role's, overdue; done once; only within my branches."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from clinicflow.accounts.models import Role
from clinicflow.tasks.models import Task
from clinicflow.tasks.services import task_complete, task_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def tasks(moscow, novosibirsk, receptionist, manager):
    now = timezone.now()
    return {
        "mine": task_create(title="Call Ivan back", branch=moscow, due_at=now + timedelta(hours=1),
                            assignee=receptionist),
        "mine_late": task_create(title="Send directions", branch=moscow, due_at=now - timedelta(hours=1),
                                 assignee=receptionist),
        "for_receptionists": task_create(title="Confirm tomorrow", branch=moscow, due_at=now + timedelta(hours=3),
                                         role=Role.RECEPTIONIST),
        "for_managers": task_create(title="Escalation", branch=moscow, due_at=now - timedelta(minutes=1),
                                    role=Role.FRONT_OFFICE_MANAGER, kind=Task.Kind.ESCALATION),
        "elsewhere": task_create(title="Novosibirsk callback", branch=novosibirsk, due_at=now,
                                 role=Role.RECEPTIONIST),
    }


def titles(response) -> set[str]:
    return {t.title for t in response.context["tasks"]}


def test_mine_lists_tasks_assigned_to_me(rita_client, tasks):
    assert titles(rita_client.get("/tasks/?view=mine")) == {"Call Ivan back", "Send directions"}


def test_my_role_lists_unassigned_tasks_for_my_role_in_my_branches(rita_client, tasks):
    assert titles(rita_client.get("/tasks/?view=role")) == {"Confirm tomorrow"}


def test_overdue_lists_late_tasks_for_me_or_my_role(rita_client, tasks):
    assert titles(rita_client.get("/tasks/?view=overdue")) == {"Send directions"}


def test_the_manager_sees_escalations_in_their_role(client, manager, tasks):
    client.force_login(manager)
    assert titles(client.get("/tasks/?view=overdue")) == {"Escalation"}


def test_done_removes_a_task_from_the_lists_once(rita_client, tasks, receptionist):
    task = tasks["mine"]
    assert rita_client.post(f"/tasks/{task.pk}/done/", {"next": "/tasks/?view=mine"}).status_code == 302
    task.refresh_from_db()
    first_done = task.done_at
    assert task.done_by == receptionist
    task_complete(task=task, by=receptionist)
    assert task.done_at == first_done
    assert "Call Ivan back" not in titles(rita_client.get("/tasks/?view=mine"))


def test_done_does_not_redirect_elsewhere(rita_client, tasks):
    response = rita_client.post(f"/tasks/{tasks['mine'].pk}/done/", {"next": "https://evil.example/"})
    assert response["Location"] == "/tasks/"


def test_another_branchs_task_cannot_be_completed(rita_client, tasks):
    assert rita_client.post(f"/tasks/{tasks['elsewhere'].pk}/done/").status_code == 404


def test_a_task_needs_a_person_or_a_role(moscow):
    with pytest.raises(ValidationError, match="person or a role"):
        task_create(title="Nobody's", branch=moscow, due_at=timezone.now())


def test_the_api_lists_creates_and_completes_tasks(client, auth, moscow):
    due = (timezone.now() + timedelta(hours=2)).isoformat()
    created = client.post("/api/v1/tasks", {"title": "Call back", "branch_id": moscow.pk, "due_at": due},
                          content_type="application/json", **auth)
    assert created.status_code == 201
    assert [t["title"] for t in client.get("/api/v1/tasks?view=mine", **auth).json()] == ["Call back"]
    done = client.post(f"/api/v1/tasks/{created.json()['id']}/done", **auth)
    assert done.json()["done_at"] is not None
