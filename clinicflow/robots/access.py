"""Who sees the robots: clinic admins set them up (the board); managers read what they did (the log)."""

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404

from clinicflow import gates
from clinicflow.accounts.models import Role, user_roles

from .models import Robot, RobotRun

LOG_ROLES = frozenset({Role.FRONT_OFFICE_MANAGER, Role.CLINIC_ADMIN})


def may_set_up_robots(user) -> bool:
    return user.is_superuser or Role.CLINIC_ADMIN in user_roles(user)


def robot_for_admin(user, robot_id) -> Robot:
    """403 for anyone but a clinic admin; 404 for an id that names no robot."""
    if not may_set_up_robots(user):
        raise PermissionDenied
    robot = Robot.objects.filter(pk=robot_id).first()
    if robot is None:
        raise Http404
    return robot


def runs_visible_to(user) -> QuerySet:
    """The log rows of the branches the manager reads (every branch for clinic admins); 403 for others."""
    if not gates.reads_patients(user) or not (user.is_superuser or user_roles(user) & LOG_ROLES):
        raise PermissionDenied
    return gates.visible(RobotRun.objects.select_related("robot", "patient", "branch"), user)
