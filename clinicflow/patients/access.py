"""The one way to reach a patient's data.

Every page and API endpoint that shows a patient calls `patient_for_user` (or lists through
`patients_visible_to`). It checks that the reader is active staff working for the patient's branch;
the compliance work adds the access-log entry here, so no reader can skip it.
"""

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404

from clinicflow.accounts.models import is_staff_member, user_branch_ids

from .models import Patient


def patients_visible_to(user):
    """Patients whose home branch is one of the user's, or who contacted or visit one of the user's branches.

    A patient first seen in Moscow who now phones Novosibirsk must be readable by Novosibirsk's desk.
    """
    if not is_staff_member(user):
        return Patient.objects.none()
    branch_ids = user_branch_ids(user)
    if branch_ids is None:
        return Patient.objects.all()
    dealt_with = (Q(branch__in=branch_ids) | Q(inquiries__branch__in=branch_ids) | Q(cases__branch__in=branch_ids)
                  | Q(appointments__branch__in=branch_ids))
    return Patient.objects.filter(pk__in=Patient.objects.filter(dealt_with).values("pk"))


def patient_for_user(user, patient_id) -> Patient:
    """The patient, if `user` may read it: PermissionDenied for non-staff, 404 for other branches."""
    if not is_staff_member(user):
        raise PermissionDenied
    try:
        return patients_visible_to(user).select_related("branch").get(pk=patient_id)
    except (Patient.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
