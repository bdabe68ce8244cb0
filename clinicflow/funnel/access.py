from django.http import Http404

from clinicflow.accounts.models import restrict_to_branches

from .models import Case


def cases_visible_to(user):
    return restrict_to_branches(Case.objects.all(), user)


def case_for_user(user, case_id) -> Case:
    try:
        return cases_visible_to(user).select_related("patient", "branch").get(pk=case_id)
    except (Case.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
