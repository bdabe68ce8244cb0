"""Tasks by hand: create, reschedule and snooze, reassign (escalations by a manager), undo "done" briefly."""

from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from clinicflow.accounts.models import Role
from clinicflow.tasks.models import Task
from clinicflow.tasks.services import (
    UNDO_SECONDS,
    task_complete,
    task_create,
    task_reassign,
    task_reopen,
    task_reschedule,
)
from tests.conftest import make_staff

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def callback(moscow, receptionist) -> Task:
    return task_create(title="Call back", branch=moscow, due_at=timezone.now() + timedelta(hours=1),
                       assignee=receptionist)


@pytest.fixture
def escalation(moscow) -> Task:
    return task_create(title="Unanswered inquiry", branch=moscow, due_at=timezone.now() - timedelta(minutes=5),
                       role=Role.FRONT_OFFICE_MANAGER, kind=Task.Kind.ESCALATION)


class TestCreate:
    def test_the_tasks_page_creates_a_task_at_the_branchs_local_time(self, rita_client, receptionist, moscow):
        response = rita_client.post("/tasks/new/", {"title": "Call back", "kind": "callback", "branch": moscow.pk,
                                                    "due_at": "2030-03-01T10:00", "owner": "me"})
        assert response.status_code == 302
        task = Task.objects.get()
        assert (task.assignee, task.created_by) == (receptionist, receptionist)
        assert task.due_at.isoformat() == "2030-03-01T07:00:00+00:00"

    def test_a_branch_i_do_not_work_for_is_refused(self, rita_client, novosibirsk):
        rita_client.post("/tasks/new/", {"title": "x", "branch": novosibirsk.pk, "due_at": "2030-03-01T10:00",
                                         "owner": "me"})
        assert not Task.objects.exists()

    def test_a_role_that_never_works_with_patients_cannot_own_a_task(self, moscow):
        with pytest.raises(ValidationError, match="works with patients"):
            task_create(title="x", branch=moscow, due_at=timezone.now(), role=Role.MARKETER)


class TestUndoDone:
    def test_done_answers_done_and_undo_in_place(self, rita_client, callback):
        response = rita_client.post(f"/tasks/{callback.pk}/done/", **HTMX)
        content = response.content.decode()
        assert f'id="task-{callback.pk}"' in content and "Undo" in content
        assert f'data-undo-seconds="{UNDO_SECONDS}"' in content

    def test_undo_within_the_window_reopens_the_task(self, rita_client, callback):
        rita_client.post(f"/tasks/{callback.pk}/done/", **HTMX)
        response = rita_client.post(f"/tasks/{callback.pk}/reopen/", **HTMX)
        callback.refresh_from_db()
        assert callback.done_at is None and callback.done_by is None
        assert "Reschedule" in response.content.decode()

    def test_undo_after_the_window_is_refused(self, rita_client, receptionist, callback):
        with time_machine.travel(timezone.now() - timedelta(seconds=UNDO_SECONDS + 1), tick=False):
            task_complete(task=callback, by=receptionist)
        response = rita_client.post(f"/tasks/{callback.pk}/reopen/", **HTMX)
        assert "Too late to undo" in response.content.decode()
        callback.refresh_from_db()
        assert callback.done_at is not None

    def test_undo_of_an_open_task_changes_nothing(self, receptionist, callback):
        assert task_reopen(task=callback, by=receptionist).done_at is None

    def test_another_branch_cannot_undo(self, client, outsider, receptionist, callback):
        task_complete(task=callback, by=receptionist)
        client.force_login(outsider)
        assert client.post(f"/tasks/{callback.pk}/reopen/").status_code == 404


class TestReschedule:
    def test_snooze_moves_the_task_from_now(self, rita_client, callback):
        before = timezone.now()
        rita_client.post(f"/tasks/{callback.pk}/reschedule/", {"snooze": "15"}, **HTMX)
        callback.refresh_from_db()
        assert before + timedelta(minutes=14) < callback.due_at < timezone.now() + timedelta(minutes=16)

    def test_a_chosen_time_is_read_in_the_branchs_zone(self, rita_client, callback):
        rita_client.post(f"/tasks/{callback.pk}/reschedule/", {"due_at": "2030-03-01T18:30"}, **HTMX)
        callback.refresh_from_db()
        assert callback.due_at.isoformat() == "2030-03-01T15:30:00+00:00"

    def test_a_time_in_the_past_is_refused(self, rita_client, callback):
        due = callback.due_at
        response = rita_client.post(f"/tasks/{callback.pk}/reschedule/", {"due_at": "2020-01-01T10:00"}, **HTMX)
        assert "Choose a time in the future." in response.content.decode()
        callback.refresh_from_db()
        assert callback.due_at == due

    def test_a_done_task_is_not_rescheduled(self, receptionist, callback):
        task_complete(task=callback, by=receptionist)
        with pytest.raises(ValidationError, match="already done"):
            task_reschedule(task=callback, due_at=timezone.now() + timedelta(hours=2), by=receptionist)


class TestReassign:
    def test_a_receptionist_hands_a_callback_to_a_colleague(self, rita_client, manager, callback):
        rita_client.post(f"/tasks/{callback.pk}/reassign/", {"owner": f"user:{manager.pk}"}, **HTMX)
        callback.refresh_from_db()
        assert (callback.assignee, callback.role) == (manager, "")

    def test_a_task_can_go_to_a_role(self, rita_client, callback):
        rita_client.post(f"/tasks/{callback.pk}/reassign/", {"owner": "role:receptionist"}, **HTMX)
        callback.refresh_from_db()
        assert (callback.assignee, callback.role) == (None, Role.RECEPTIONIST)

    def test_a_person_of_another_branch_is_refused(self, rita_client, outsider, receptionist, callback):
        response = rita_client.post(f"/tasks/{callback.pk}/reassign/", {"owner": f"user:{outsider.pk}"}, **HTMX)
        assert "does not work with patients at" in response.content.decode()
        callback.refresh_from_db()
        assert callback.assignee == receptionist

    def test_a_manager_reassigns_an_escalation(self, client, manager, receptionist, escalation):
        client.force_login(manager)
        client.post(f"/tasks/{escalation.pk}/reassign/", {"owner": f"user:{receptionist.pk}"}, **HTMX)
        escalation.refresh_from_db()
        assert escalation.assignee == receptionist

    def test_a_receptionist_may_not_reassign_an_escalation(self, rita_client, receptionist, escalation):
        response = rita_client.post(f"/tasks/{escalation.pk}/reassign/", {"owner": "me"}, **HTMX)
        assert "Only a front-office manager" in response.content.decode()
        with pytest.raises(PermissionDenied):
            task_reassign(task=escalation, by=receptionist, assignee=receptionist)
        escalation.refresh_from_db()
        assert escalation.assignee is None


class TestManagersTab:
    def test_a_manager_opens_on_escalations_and_overdue_of_their_branches(self, client, manager, moscow,
                                                                         novosibirsk, escalation, receptionist):
        late = task_create(title="Late callback", branch=moscow, due_at=timezone.now() - timedelta(hours=1),
                           assignee=receptionist)
        task_create(title="Later today", branch=moscow, due_at=timezone.now() + timedelta(hours=1),
                    assignee=receptionist)
        task_create(title="Elsewhere", branch=novosibirsk, due_at=timezone.now() - timedelta(hours=1),
                    role=Role.RECEPTIONIST, kind=Task.Kind.ESCALATION)
        client.force_login(manager)
        response = client.get("/tasks/")
        assert response.context["view"] == "attention"
        assert {t.title for t in response.context["tasks"]} == {escalation.title, late.title}

    def test_a_receptionist_keeps_mine_and_has_no_managers_tab(self, rita_client, callback):
        response = rita_client.get("/tasks/")
        assert response.context["view"] == "mine" and "attention" not in response.context["tabs"]


class TestApi:
    def test_it_reschedules_reassigns_and_undoes(self, client, auth, receptionist, manager, callback):
        due = (timezone.now() + timedelta(days=1)).replace(microsecond=0).isoformat()
        moved = client.post(f"/api/v1/tasks/{callback.pk}/reschedule", {"due_at": due},
                            content_type="application/json", **auth)
        assert moved.status_code == 200 and moved.json()["due_at"].startswith(due[:16])
        handed = client.post(f"/api/v1/tasks/{callback.pk}/reassign", {"assignee_id": manager.pk},
                             content_type="application/json", **auth)
        assert handed.json()["assignee_id"] == manager.pk
        client.post(f"/api/v1/tasks/{callback.pk}/done", **auth)
        reopened = client.post(f"/api/v1/tasks/{callback.pk}/reopen", **auth)
        assert reopened.status_code == 200 and reopened.json()["done_at"] is None

    def test_its_refusals_name_the_field(self, client, auth, outsider, callback, escalation):
        past = client.post(f"/api/v1/tasks/{callback.pk}/reschedule", {"due_at": "2020-01-01T10:00:00+03:00"},
                           content_type="application/json", **auth)
        assert past.status_code == 422 and past.json()["detail"][0]["loc"] == ["body", "due_at"]
        elsewhere = client.post(f"/api/v1/tasks/{callback.pk}/reassign", {"assignee_id": outsider.pk},
                                content_type="application/json", **auth)
        assert elsewhere.status_code == 422 and elsewhere.json()["detail"][0]["loc"] == ["body", "assignee"]
        nobody = client.post(f"/api/v1/tasks/{callback.pk}/reassign", {}, content_type="application/json", **auth)
        assert nobody.status_code == 422
        refused = client.post(f"/api/v1/tasks/{escalation.pk}/reassign", {"role": "receptionist"},
                              content_type="application/json", **auth)
        assert refused.status_code == 403

    def test_a_task_about_a_patient_of_another_branch_is_not_created(self, client, auth, moscow, nina):
        response = client.post("/api/v1/tasks", {"title": "Call back", "branch_id": moscow.pk, "patient_id": nina.pk,
                                                 "due_at": (timezone.now() + timedelta(hours=1)).isoformat()},
                               content_type="application/json", **auth)
        assert response.status_code == 404 and not Task.objects.exists()

    def test_a_marketer_gets_403(self, client, moscow, bearer, callback):
        marketer = make_staff("mark", Role.MARKETER, [moscow])
        response = client.post(f"/api/v1/tasks/{callback.pk}/reopen", **bearer(marketer))
        assert response.status_code == 403
