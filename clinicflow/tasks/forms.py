"""What the task forms of the pages share (the tasks page and the patient card): owners and due times."""

from datetime import datetime

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from clinicflow import gates
from clinicflow.accounts.models import Role

# Roles a task can wait for, in the order the owner list offers them.
TASK_ROLES = (Role.RECEPTIONIST, Role.FRONT_OFFICE_MANAGER)
# Kinds a person creates by hand; escalations and complaints come from the robots and the desk's flows.
MANUAL_KINDS = ("callback", "follow_up", "other")


def colleagues(branch_ids) -> list:
    """Active staff who handle patients at these branches (None: every branch), for the owner list."""
    users = get_user_model().objects.filter(is_active=True)
    if branch_ids is not None:
        users = users.filter(staff__branches__in=branch_ids)
    users = users.filter(Q(groups__name__in=gates.PATIENT_ROLES) | Q(is_superuser=True)).distinct()
    return list(users.order_by("first_name", "last_name", "username"))


def owner_choices(user, branch_ids) -> list[tuple[str, str]]:
    """The "owner" select: me, a colleague, or a role whose members all see the task."""
    choices = [("me", _("Me"))]
    choices += [(f"user:{u.pk}", u.get_full_name() or u.username) for u in colleagues(branch_ids) if u.pk != user.pk]
    choices += [(f"role:{role.value}", _("Any %(role)s") % {"role": role.label}) for role in TASK_ROLES]
    return choices


def owner_from(value: str, *, user) -> tuple[object, str]:
    """(assignee, role) for a value of `owner_choices`; the services check the person works at the branch."""
    kind, _sep, rest = (value or "").partition(":")
    if value == "me":
        return user, ""
    if kind == "role" and rest in Role.values:
        return None, rest
    if kind == "user" and rest.isdigit():
        assignee = get_user_model().objects.filter(pk=int(rest), is_active=True).first()
        if assignee is not None:
            return assignee, ""
    raise ValidationError({"assignee": _("Choose who does the task.")})


def due_from(value: str, branch) -> datetime:
    """A `datetime-local` value, read as the wall-clock time of the task's branch."""
    try:
        naive = datetime.fromisoformat((value or "").strip())
    except ValueError:
        raise ValidationError({"due_at": _("Give the date and time the task is due.")}) from None
    if naive.tzinfo is not None:
        return naive
    return timezone.make_aware(naive, branch.zone)

