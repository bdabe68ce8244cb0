"""The robots board (clinic admins), its toggle and form, and the robots log (managers, own branches only)."""

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from clinicflow.robots.models import Robot, RobotRun

from .conftest import book, planned, robot

pytestmark = pytest.mark.django_db


def test_a_clinic_admin_sees_the_stages_with_their_robots(client, clinic_admin):
    client.force_login(clinic_admin)
    response = client.get(reverse("robots:board"))
    assert response.status_code == 200
    assert "Reminder 24 h before, asks to confirm" in response.text and "Rebooking" in response.text


@pytest.mark.parametrize("persona", ["receptionist", "manager"])
def test_other_staff_may_not_set_robots_up(client, persona, request):
    client.force_login(request.getfixturevalue(persona))
    reminder = robot("reminder_24h")
    assert client.get(reverse("robots:board")).status_code == 403
    assert client.post(reverse("robots:toggle", args=[reminder.pk])).status_code == 403
    assert Robot.objects.get(pk=reminder.pk).enabled


def test_the_toggle_switches_a_robot_off_and_answers_its_card(client, clinic_admin):
    client.force_login(clinic_admin)
    reminder = robot("reminder_24h")
    response = client.post(reverse("robots:toggle", args=[reminder.pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and f'id="robot-{reminder.pk}"' in response.text
    assert "<html" not in response.text
    assert not Robot.objects.get(pk=reminder.pk).enabled


def test_switching_a_journey_on_from_the_board_plans_it(client, clinic_admin, clock, everywhere, moscow, patient_at):
    visit = book(patient_at(moscow), everywhere, moscow, datetime(2027, 3, 12, 7, 0, tzinfo=UTC))
    client.force_login(clinic_admin)
    journey = robot("journey_instructions")
    client.post(reverse("robots:toggle", args=[journey.pk]), {"enabled": "on"})
    assert journey.pk in [job.payload["robot_id"] for job in planned(visit)]


def test_the_form_names_the_field_a_robot_needs(client, clinic_admin):
    client.force_login(clinic_admin)
    response = client.post(reverse("robots:new"), {"name": "Call after no-show", "stage": "booking",
                                                   "trigger": "no_show", "timing": "delay", "offset_minutes": "60",
                                                   "action": "create_task"})
    assert response.status_code == 200
    assert "Needed for the action" in response.text
    assert not Robot.objects.filter(name="Call after no-show").exists()
    response = client.post(reverse("robots:new"), {"name": "Call after no-show", "stage": "booking",
                                                   "trigger": "no_show", "timing": "delay", "offset_minutes": "60",
                                                   "action": "create_task", "task_title": "Call: missed visit",
                                                   "role": "receptionist", "enabled": "on"})
    assert response.status_code == 302
    assert Robot.objects.get(name="Call after no-show").summary().startswith("When: No-show; after 1 h")


def test_the_log_shows_a_manager_the_runs_of_their_branches_only(client, manager, ivan, nina):
    reminder = robot("reminder_24h")
    RobotRun.objects.create(robot=reminder, key="a", patient=ivan, branch=ivan.branch, outcome="done",
                            detail="message 1: sent")
    RobotRun.objects.create(robot=reminder, key="b", patient=nina, branch=nina.branch, outcome="skipped",
                            detail="visit cancelled")
    client.force_login(manager)
    response = client.get(reverse("robots:log"))
    assert response.status_code == 200
    assert ivan.full_name in response.text and nina.full_name not in response.text


def test_a_receptionist_has_no_robots_log(client, receptionist):
    client.force_login(receptionist)
    assert client.get(reverse("robots:log")).status_code == 403
