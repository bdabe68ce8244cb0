from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from clinicflow import gates
from clinicflow.accounts.decorators import staff_required
from clinicflow.funnel.models import Stage

from .access import may_set_up_robots, robot_for_admin, runs_visible_to
from .forms import RobotForm
from .models import Robot
from .services import QUEUE_BADGE, robot_save, robot_toggle, robots_plan_existing

LOG_ROWS = 200


def _require_admin(user) -> None:
    if not may_set_up_robots(user):
        raise PermissionDenied


@staff_required
def board(request):
    """Stages as columns, robots as cards: what the clinic automates at each step."""
    _require_admin(request.user)
    robots = list(Robot.objects.select_related("branch", "specialty", "service"))
    columns = [("", Robot._meta.get_field("stage").help_text)] + [(s.value, s.label) for s in Stage]
    board_columns = [(key, label, [r for r in robots if r.stage == key]) for key, label in columns]
    return render(request, "robots/board.html", {"columns": [c for c in board_columns if c[2] or c[0]],
                                                 "queue_badge": QUEUE_BADGE, "section": "robots"})


@staff_required
@require_POST
def toggle(request, robot_id):
    robot = robot_for_admin(request.user, robot_id)
    error = ""
    try:
        robot = robot_toggle(robot=robot, enabled=request.POST.get("enabled") == "on", by=request.user)
    except ValidationError as exc:
        error = exc.messages[0]
    if request.htmx:
        return render(request, "robots/board.html#robot_card", {"robot": robot, "error": error,
                                                                 "queue_badge": QUEUE_BADGE})
    return redirect("robots:board")


@staff_required
def edit(request, robot_id=None):
    """Change a robot (or make a new one): trigger, timing, conditions, action."""
    robot = robot_for_admin(request.user, robot_id) if robot_id else None
    _require_admin(request.user)
    form = RobotForm(request.POST or None, instance=robot)
    if request.method == "POST" and form.is_valid():
        try:
            saved = robot_save(robot=form.instance, by=request.user)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            robots_plan_existing(robot=saved)
            return redirect("robots:board")
    return render(request, "robots/edit.html", {"form": form, "robot": robot, "section": "robots"})


@staff_required
def log(request):
    """What the robots did, for whom, and how it ended: the newest runs of the manager's branches."""
    runs = runs_visible_to(request.user)
    gates.list_opened(request.user, "robots-log")
    return render(request, "robots/log.html", {"runs": runs[:LOG_ROWS], "section": "robots"})
