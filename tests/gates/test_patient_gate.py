"""patient_for_user: the one way to a patient's data, with each persona."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import Http404

from clinicflow.gates import patient_for_user, patients_visible_to


def test_a_receptionist_reads_a_patient_of_her_branch(receptionist, ivan):
    assert patient_for_user(receptionist, ivan.pk) == ivan


def test_a_receptionist_of_another_branch_gets_404(outsider, ivan):
    with pytest.raises(Http404):
        patient_for_user(outsider, ivan.pk)


def test_a_manager_reads_the_patients_of_her_branch_only(manager, ivan, nina):
    assert patient_for_user(manager, ivan.pk) == ivan
    with pytest.raises(Http404):
        patient_for_user(manager, nina.pk)


def test_a_clinic_admin_reads_every_branch(clinic_admin, ivan, nina):
    assert patient_for_user(clinic_admin, ivan.pk) == ivan
    assert patient_for_user(clinic_admin, nina.pk) == nina


def test_a_superuser_reads_every_branch(django_user_model, ivan, nina):
    root = django_user_model.objects.create_superuser("root", password="pass-root")
    assert patient_for_user(root, nina.pk) == nina


def test_an_anonymous_visitor_is_refused(ivan):
    with pytest.raises(PermissionDenied):
        patient_for_user(AnonymousUser(), ivan.pk)


def test_a_user_who_is_not_staff_is_refused(plain_user, ivan):
    with pytest.raises(PermissionDenied):
        patient_for_user(plain_user, ivan.pk)


def test_a_deactivated_receptionist_is_refused(receptionist, ivan):
    receptionist.is_active = False
    receptionist.save()
    with pytest.raises(PermissionDenied):
        patient_for_user(receptionist, ivan.pk)


def test_a_receptionist_moved_to_another_branch_loses_access(receptionist, novosibirsk, ivan):
    receptionist.staff.branches.set([novosibirsk])
    receptionist.refresh_from_db()  # a new request loads the user afresh
    with pytest.raises(Http404):
        patient_for_user(receptionist, ivan.pk)


@pytest.mark.parametrize("bad_id", [999999, "abc", None, ""])
def test_an_unknown_or_malformed_id_is_404(receptionist, ivan, bad_id):
    with pytest.raises(Http404):
        patient_for_user(receptionist, bad_id)


def test_patients_visible_to_lists_the_users_branches(receptionist, outsider, clinic_admin, plain_user, ivan, nina):
    assert list(patients_visible_to(receptionist)) == [ivan]
    assert list(patients_visible_to(outsider)) == [nina]
    assert set(patients_visible_to(clinic_admin)) == {ivan, nina}
    assert list(patients_visible_to(plain_user)) == []
    assert list(patients_visible_to(AnonymousUser())) == []
