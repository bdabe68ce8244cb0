"""The read gate applied to cases."""

from clinicflow import gates

from .models import Case


def cases_visible_to(user):
    return gates.visible(Case.objects.all(), user)


def cases_at_work(user):
    """The user's own branches' cases: what the kanban shows."""
    return gates.at_work(Case.objects.all(), user)


def case_for_user(user, case_id, *, write: bool = False) -> Case:
    return gates.one_for_user(Case.objects.select_related("patient", "branch"), user, case_id, write=write)
