"""An inquiry nobody answered within the target becomes a task for the front-office manager, once."""

from datetime import timedelta

import pytest

from clinicflow.accounts.models import Role
from clinicflow.automation.models import Job
from clinicflow.automation.worker import work_once
from clinicflow.inbox.models import Inquiry
from clinicflow.inbox.services import ESCALATE_JOB, inquiry_close, inquiry_respond, inquiry_take
from clinicflow.tasks.models import Task

from .conftest import WEDNESDAY_10

DUE = WEDNESDAY_10 + timedelta(minutes=5)


@pytest.fixture
def inquiry(receive, time_machine):
    time_machine.move_to(WEDNESDAY_10, tick=False)
    return receive(full_name="Ivan Petrov")


def run_jobs_at(time_machine, moment) -> int:
    time_machine.move_to(moment, tick=False)
    return work_once("test-worker")


def test_it_does_nothing_before_the_due_time(inquiry, time_machine):
    assert run_jobs_at(time_machine, DUE - timedelta(seconds=1)) == 0
    assert not Task.objects.exists()
    assert Job.objects.get().state == Job.State.PENDING


def test_it_hands_an_unanswered_inquiry_to_the_front_office_manager(inquiry, time_machine):
    assert run_jobs_at(time_machine, DUE + timedelta(minutes=1)) == 1
    task = Task.objects.get()
    assert task.kind == Task.Kind.ESCALATION
    assert task.role == Role.FRONT_OFFICE_MANAGER
    assert task.assignee is None
    assert (task.inquiry, task.patient, task.branch) == (inquiry, inquiry.patient, inquiry.branch)
    assert "Ivan" not in task.title  # titles travel to lists: the task links the patient instead
    assert task.due_at == DUE + timedelta(minutes=1)
    job = Job.objects.get()
    assert (job.state, job.result) == (Job.State.DONE, "escalated")


def test_it_escalates_a_taken_but_unanswered_inquiry(inquiry, time_machine, receptionist):
    inquiry_take(inquiry=inquiry, by=receptionist)
    run_jobs_at(time_machine, DUE)
    assert Task.objects.filter(kind=Task.Kind.ESCALATION).count() == 1


def test_it_escalates_once_however_often_the_worker_runs(inquiry, time_machine):
    run_jobs_at(time_machine, DUE)
    assert run_jobs_at(time_machine, DUE + timedelta(hours=1)) == 0
    assert Task.objects.count() == 1


def test_it_escalates_once_when_the_job_was_planned_twice(inquiry, time_machine):
    Job.objects.create(kind=ESCALATE_JOB, due_at=DUE, idempotency_key="a-copy", payload={"inquiry_id": inquiry.pk})
    assert run_jobs_at(time_machine, DUE) == 2
    assert Task.objects.count() == 1
    assert sorted(Job.objects.values_list("result", flat=True)) == ["already escalated", "escalated"]


def test_it_cancels_the_escalation_when_the_inquiry_is_answered_in_time(inquiry, time_machine, receptionist):
    time_machine.move_to(WEDNESDAY_10 + timedelta(minutes=3), tick=False)
    inquiry_respond(inquiry=inquiry, by=receptionist, text="Called back, booked for Friday")
    assert Job.objects.get().state == Job.State.CANCELLED
    assert run_jobs_at(time_machine, DUE + timedelta(hours=1)) == 0
    assert not Task.objects.exists()


def test_it_cancels_the_escalation_when_the_inquiry_is_closed(inquiry, time_machine, receptionist):
    inquiry_close(inquiry=inquiry, by=receptionist, reason="Spam")
    assert Job.objects.get().state == Job.State.CANCELLED
    assert run_jobs_at(time_machine, DUE + timedelta(hours=1)) == 0
    assert not Task.objects.exists()


def test_it_rechecks_the_inquiry_when_the_job_runs(inquiry, time_machine):
    # The job was not cancelled (say, the answer came through another path): the handler looks again.
    Inquiry.objects.filter(pk=inquiry.pk).update(status="answered")
    run_jobs_at(time_machine, DUE)
    assert not Task.objects.exists()
    assert Job.objects.get().result == "answered in time"


def test_it_copes_with_a_deleted_inquiry(inquiry, time_machine):
    Job.objects.create(kind=ESCALATE_JOB, due_at=DUE, idempotency_key="orphan", payload={"inquiry_id": 10**9})
    run_jobs_at(time_machine, DUE)
    assert Job.objects.get(idempotency_key="orphan").state == Job.State.DONE
