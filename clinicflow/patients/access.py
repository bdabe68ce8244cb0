"""The one way to reach a patient's data.

Every page and API endpoint that shows a patient calls `patient_for_user` (or lists through
`patients_visible_to`). It checks that the reader is active staff working for the patient's branch;
the compliance work adds the access-log entry here, so no reader can skip it.
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404

from clinicflow.accounts.models import is_staff_member, restrict_to_branches

from .models import Patient


def patients_visible_to(user):
    return restrict_to_branches(Patient.objects.all(), user)


def patient_for_user(user, patient_id) -> Patient:
    """The patient, if `user` may read it: PermissionDenied for non-staff, 404 for other branches."""
    if not is_staff_member(user):
        raise PermissionDenied
    try:
        return patients_visible_to(user).select_related("branch").get(pk=patient_id)
    except (Patient.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
