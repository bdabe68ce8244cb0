"""The funnel's part in merging two patient cards: one open case per patient and branch.

When both cards have an open case at one branch, the older case stays open and takes the other's inquiries
and appointments; the emptied one is closed as lost ("merged"). Undoing the merge puts them back and
reopens it at the stage it had. Registered with patients.merging in FunnelConfig.ready().
"""

from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from clinicflow.patients.merging import MergeStep, merge_step
from clinicflow.patients.models import Patient

from .models import ACTIVE_STAGES, Case, CaseTransition, Source, Stage


def _prepare(keep: Patient, merge: Patient, by) -> dict:
    closed = []
    for case in Case.objects.select_for_update().filter(patient=merge, stage__in=ACTIVE_STAGES).order_by("pk"):
        other = Case.objects.select_for_update().filter(patient=keep, branch=case.branch_id,
                                                        stage__in=ACTIVE_STAGES).first()
        if other is None:
            continue
        stays, emptied = sorted([case, other], key=lambda c: (c.created_at, c.pk))
        closed.append(_close_into(emptied, stays, by))
    return {"closed": closed}


def _close_into(emptied: Case, stays: Case, by) -> dict:
    """Move the emptied case's inquiries and appointments into the case that stays, and close it as lost.

    Straight to Lost, past the funnel's table: a case after the visit (Completed) may not go to Lost by hand,
    but a duplicate journey of one person must end whatever its stage.
    """
    # Inquiries and appointments live above the funnel: reached through the reverse relations by name.
    inquiry_ids = sorted(emptied.inquiries.values_list("pk", flat=True))
    appointment_ids = sorted(emptied.appointments.values_list("pk", flat=True))
    emptied.inquiries.update(case=stays)
    emptied.appointments.update(case=stays)
    done = {"case": emptied.pk, "into": stays.pk, "stage": emptied.stage,
            "stage_changed_at": emptied.stage_changed_at.isoformat(), "inquiries": inquiry_ids,
            "appointments": appointment_ids}
    now, reason = timezone.now(), _("merged")
    Case.objects.filter(pk=emptied.pk).update(stage=Stage.LOST, stage_changed_at=now, lost_reason=reason,
                                              listed_lost_reason=None)
    move = CaseTransition.objects.create(case=emptied, from_stage=emptied.stage, to_stage=Stage.LOST, at=now, by=by,
                                         source=Source.PERSON if by else Source.SYSTEM, reason=reason)
    done["transition"] = move.pk
    return done


def _blocker(data: dict) -> str | None:
    for done in data.get("closed", []):
        case = Case.objects.filter(pk=done["case"]).first()
        if case is None:
            return _("Case #%(case)s, closed by the merge, was deleted since.") % {"case": done["case"]}
        if case.stage != Stage.LOST or case.transitions.filter(pk__gt=done["transition"]).exists():
            return _("Case #%(case)s, closed by the merge, was moved since: the merge cannot be undone.") % {
                "case": done["case"]}
    return None


def _undo(data: dict, by) -> None:
    for done in data.get("closed", []):
        case = Case.objects.get(pk=done["case"])
        # Only what still sits in the case that stayed goes back; a row moved on since stays where it is.
        stays = Case.objects.get(pk=done["into"])
        stays.inquiries.filter(pk__in=done["inquiries"]).update(case=case)
        stays.appointments.filter(pk__in=done["appointments"]).update(case=case)
        Case.objects.filter(pk=case.pk).update(stage=done["stage"], lost_reason="",
                                               stage_changed_at=datetime.fromisoformat(done["stage_changed_at"]))
        CaseTransition.objects.create(case=case, from_stage=Stage.LOST, to_stage=done["stage"],
                                      by=by, source=Source.PERSON if by else Source.SYSTEM,
                                      reason=_("merge undone"))


merge_step(MergeStep(name="funnel.open_cases", prepare=_prepare, undo=_undo, blocker=_blocker))
