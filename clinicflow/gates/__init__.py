"""The read gate: the one rule of who may see and change which patient's data.

Everything that shows or changes a patient, an inquiry, a case, an appointment or a task goes through
here: each app's access.py applies these functions to its own models (a queryset for lists, one
`…_for_user(user, pk, write=…)` for one object), and no other code filters by branch.

The rule:
- Only active staff in a role that works with patients (receptionist, front-office manager, clinic
  admin, or a superuser) read patient data. Marketers and compliance officers never do.
- A clinic admin or a superuser reads and changes every branch.
- Others change the data of the branches they work for. They read those too, and when the clinic shares
  patients between branches (ClinicSettings), every branch's.
- A patient (the person: name, contacts, consents) is readable at every branch that deals with them
  (home branch, inquiries, cases, visits, tasks there); what another branch did stays with that branch
  unless patients are shared.
Single reads of something tied to a patient are written to the access log.
"""

from functools import wraps

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from clinicflow.accounts.decorators import staff_required
from clinicflow.accounts.models import Role, is_staff_member, user_branch_ids, user_roles
from clinicflow.clinic.models import Branch, ClinicSettings
from clinicflow.compliance.models import AccessLogEntry
from clinicflow.compliance.services import access_record
from clinicflow.patients.models import Patient, PatientMerge

PATIENT_ROLES = frozenset({Role.RECEPTIONIST, Role.FRONT_OFFICE_MANAGER, Role.CLINIC_ADMIN})
Action = AccessLogEntry.Action


def reads_patients(user) -> bool:
    """Does this person's role work with patients at all?"""
    return is_staff_member(user) and (user.is_superuser or bool(user_roles(user) & PATIENT_ROLES))


def work_branch_ids(user) -> set[int] | None:
    """The branches whose patients' data the user may change; None means every branch."""
    return user_branch_ids(user)


def read_branch_ids(user) -> set[int] | None:
    """The branches whose patients' data the user may read; None means every branch."""
    if not reads_patients(user):
        return set()
    if not hasattr(user, "_clinicflow_patients_shared"):  # once per request: the user object is per request
        user._clinicflow_patients_shared = ClinicSettings.load().patients_shared
    if user._clinicflow_patients_shared:
        return None
    return work_branch_ids(user)


def _in(branch_ids: set[int] | None, branch_field: str) -> Q:
    return Q() if branch_ids is None else Q(**{f"{branch_field}__in": branch_ids})


def visible(queryset: QuerySet, user, *, branch_field: str = "branch") -> QuerySet:
    """The rows of `queryset` the user may read."""
    if not reads_patients(user):
        return queryset.none()
    return queryset.filter(_in(read_branch_ids(user), branch_field))


def at_work(queryset: QuerySet, user, *, branch_field: str = "branch") -> QuerySet:
    """The rows of the branches the user works for: what the work lists (queue, kanban, tasks) show."""
    if not reads_patients(user):
        return queryset.none()
    return queryset.filter(_in(work_branch_ids(user), branch_field))


def one_for_user(queryset: QuerySet, user, pk, *, write: bool = False, branch_field: str = "branch",
                 log_as: str = ""):
    """One object the user may read (or, with write, change); logged when it belongs to a patient.

    PermissionDenied for people who may not see patient data at all or for a write to a branch they only
    read; 404 for anything they may not read, so ids of other branches reveal nothing.
    """
    if not reads_patients(user):
        raise PermissionDenied
    try:
        obj = visible(queryset, user, branch_field=branch_field).get(pk=pk)
    except (queryset.model.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if write and not _may_change(user, _branch_id(obj, branch_field)):
        raise PermissionDenied
    patient_id = obj.pk if isinstance(obj, Patient) else getattr(obj, "patient_id", None)
    if patient_id is not None:
        access_record(user=user, action=Action.WRITE if write else Action.READ, patient_ids=[patient_id],
                      target=log_as or f"{queryset.model._meta.model_name}:{obj.pk}")
    return obj


def _branch_id(obj, branch_field: str):
    value = obj
    for part in branch_field.split("__"):
        value = getattr(value, part)
    return getattr(value, "pk", value)


def _may_change(user, branch_id) -> bool:
    branch_ids = work_branch_ids(user)
    return branch_ids is None or branch_id in branch_ids


def branches_at_work(user) -> QuerySet:
    """The branches a user may file inquiries, tasks and bookings for."""
    return at_work(Branch.objects.all(), user, branch_field="pk")


def branch_for_user(user, branch_id) -> Branch | None:
    return branches_at_work(user).filter(pk=branch_id).first()


# --- patients ----------------------------------------------------------------------------------


def patients_visible_to(user, *, merged: bool = False) -> QuerySet:
    """Patients the user may read: every one when shared; else those any of the user's branches deals with.

    Cards merged into another are left out (their data is on the kept card) unless `merged` asks for them.
    """
    if not reads_patients(user):
        return Patient.objects.none()
    patients = Patient.objects.all() if merged else Patient.objects.current()
    branch_ids = read_branch_ids(user)
    if branch_ids is None:
        return patients
    dealt_with = (Q(branch__in=branch_ids) | Q(inquiries__branch__in=branch_ids) | Q(cases__branch__in=branch_ids)
                  | Q(appointments__branch__in=branch_ids) | Q(tasks__branch__in=branch_ids))
    return patients.filter(pk__in=Patient.objects.filter(dealt_with).values("pk"))


def patient_for_user(user, patient_id, *, write: bool = False) -> Patient:
    """The patient, if `user` may read it (PermissionDenied for non-staff, 404 otherwise); logged.

    With `write`, the person's own data (contacts, consents given) is changed: only by staff of the patient's
    home branch (or every branch's). A branch that only deals with the patient reads it, and keeps its own
    notes, tasks and visits of them; otherwise one inquiry naming a known phone would let it rewrite them.
    """
    if not reads_patients(user):
        raise PermissionDenied
    try:
        patient = patients_visible_to(user).select_related("branch").get(pk=patient_id)
    except (Patient.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if write and not _may_change(user, patient.branch_id):
        raise PermissionDenied
    access_record(user=user, action=Action.WRITE if write else Action.READ, patient_ids=[patient.pk],
                  target=f"patient:{patient.pk}")
    return patient


def merged_card_for_user(user, patient_id) -> int | None:
    """For a card merged into another: the id of the card that holds its data now, if the user may read it."""
    card = Patient.objects.filter(pk=patient_id, merged_into__isnull=False).first() if str(patient_id).isdigit() \
        else None
    while card is not None and card.merged_into_id is not None:
        card = Patient.objects.get(pk=card.merged_into_id)
    return card.pk if card is not None and patients_visible_to(user).filter(pk=card.pk).exists() else None


def patients_to_merge(user, keep_id, merge_id) -> tuple[Patient, Patient]:
    """The two cards of a merge, each opened for change through the gate (so each is a logged write).

    Anyone who works with patients may merge two cards of branches they change. In a clinic whose branches
    keep their own patients, two cards of different home branches are two branches' records: refused.
    """
    keep = patient_for_user(user, keep_id, write=True)
    merge = patient_for_user(user, merge_id, write=True)
    if keep.branch_id != merge.branch_id and not ClinicSettings.load().patients_shared:
        raise ValidationError({"merge_id": _(
            "These cards belong to different branches, and each branch keeps its own patients: they cannot be "
            "merged.")})
    return keep, merge


def may_undo_merges(user) -> bool:
    """Undoing a merge is a manager's decision: front-office managers, clinic admins and superusers."""
    return reads_patients(user) and (user.is_superuser or bool(
        user_roles(user) & {Role.FRONT_OFFICE_MANAGER, Role.CLINIC_ADMIN}))


def merge_for_user(user, merge_id) -> PatientMerge:
    """A merge the user may undo: 404 unless the user reads its kept card, 403 unless a manager who changes
    both cards' branches. Both cards are logged as written."""
    if not reads_patients(user):
        raise PermissionDenied
    record = PatientMerge.objects.select_related("kept", "merged").filter(pk=merge_id).first() \
        if str(merge_id).isdigit() else None
    if record is None or not patients_visible_to(user, merged=True).filter(pk=record.kept_id).exists():
        raise Http404
    if not may_undo_merges(user) or not all(_may_change(user, card.branch_id) for card in (record.kept, record.merged)):
        raise PermissionDenied
    access_record(user=user, action=Action.WRITE, patient_ids=[record.kept_id, record.merged_id],
                  target=f"merge:{record.pk}")
    return record


def patients_changeable_by(user) -> QuerySet:
    """Patients whose own data (contacts, consents) the user may change: those of the user's home branches."""
    return patients_visible_to(user).filter(_in(work_branch_ids(user), "branch"))


def may_change_patient(user, patient: Patient) -> bool:
    return reads_patients(user) and _may_change(user, patient.branch_id)


def patients_found(user, patients: list[Patient]) -> list[Patient]:
    """Search results: each patient shown is a read of that patient's data, logged in one go."""
    if patients:
        access_record(user=user, action=Action.SEARCH, patient_ids=[p.pk for p in patients], target="search")
    return patients


def list_opened(user, name: str) -> None:
    """A work list (queue, kanban, tasks) was opened: one row, not one per patient on it (decision 0002)."""
    access_record(user=user, action=Action.LIST, target=f"list:{name}")


def require_patient_reader(user) -> None:
    if not reads_patients(user):
        raise PermissionDenied


def patient_reader_required(view):
    """Pages with patient data: log-in for visitors, 403 for staff whose role never sees patients."""

    @staff_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        require_patient_reader(request.user)
        return view(request, *args, **kwargs)

    return wrapper
