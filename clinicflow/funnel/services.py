from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from clinicflow.automation import events
from clinicflow.automation.events import event_emit
from clinicflow.patients.models import Patient

from .models import ACTIVE_STAGES, Case, CaseTransition, IntakeQuestion, LostReason, Source, Stage


class TransitionRefused(ValidationError):
    """A move the funnel does not allow; the message says why, for the person who tried it."""


def mis_is_connected() -> bool:
    return bool(settings.CLINICFLOW_MIS_BASE_URL)


def case_open_for(*, patient: Patient, branch, by=None, source: str = Source.SYSTEM,
                  patient_is_new: bool = False) -> tuple[Case, bool]:
    """The patient's open case at this branch, or a new one at New inquiry. Returns (case, created).

    A contact never moves a case from another branch: anyone can type a known patient's phone into a form,
    and the case (with its visits and notes) would follow them. Moving a case is `case_transfer`.
    `patient_is_new`: the patient was created in the caller's transaction, so no case can exist and no other
    request can open one: no lookup and no savepoint (one of every new-patient inquiry's costs).
    """
    case = None if patient_is_new else patient.cases.filter(stage__in=ACTIVE_STAGES, branch=branch).first()
    if case:
        return case, False
    owner = by if by and by.is_authenticated else None
    try:
        with transaction.atomic(savepoint=not patient_is_new):
            case = Case.objects.create(patient=patient, branch=branch, owner=owner)
            CaseTransition.objects.create(case=case, to_stage=Stage.NEW, by=owner, source=source)
    except IntegrityError:
        # Two inquiries of one patient at the same moment: the other one opened the case.
        return patient.cases.get(stage__in=ACTIVE_STAGES, branch=branch), False
    return case, True


def case_transfer(*, case: Case, to_branch, by, reason: str) -> Case:
    """Hand a case over to another branch: an explicit act, recorded in the case's history."""
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the case moves to another branch.")})
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case.pk)
        if case.branch_id == to_branch.pk:
            raise ValidationError({"branch": _("The case is already at %(branch)s.") % {"branch": to_branch}})
        if case.is_open and case.patient.cases.filter(stage__in=ACTIVE_STAGES, branch=to_branch).exists():
            raise ValidationError({"branch": _("The patient already has an open case at %(branch)s: continue "
                                               "that one.") % {"branch": to_branch}})
        from_branch, case.branch = case.branch, to_branch
        case.save(update_fields=["branch"])
        CaseTransition.objects.create(case=case, from_stage=case.stage, to_stage=case.stage, by=by,
                                      source=Source.PERSON, reason=reason.strip()[:200],
                                      from_branch=from_branch, to_branch=to_branch)
    return case


def refusal_reason(case: Case, to_stage: str, source: str, reason: str, *, lost_reason: LostReason | None = None,
                   has_appointment: bool | None = None) -> str | None:
    """Why this move is not allowed, or None when it is.

    `has_appointment` is asked of the database when not given (a caller building a story in memory knows).
    """
    if to_stage not in Stage.values:
        return _("“%(stage)s” is not a stage. Stages: %(stages)s.") % {
            "stage": to_stage, "stages": ", ".join(Stage.values)}
    if to_stage == case.stage:
        return _("The case is already at %(stage)s.") % {"stage": Stage(to_stage).label}
    if to_stage not in case.next_stages():
        allowed = ", ".join(str(Stage(s).label) for s in case.next_stages()) or _("none, the case is closed")
        return _("A case cannot go from %(from)s to %(to)s. Possible next stages: %(allowed)s.") % {
            "from": Stage(case.stage).label, "to": Stage(to_stage).label, "allowed": allowed}
    if to_stage == Stage.COMPLETED:
        # Appointments live in scheduling, above the funnel: asked through the reverse relation by name.
        if not (case.appointments.exists() if has_appointment is None else has_appointment):
            return _("There is no appointment in this case: book the visit first; it is completed after it took "
                     "place.")
        if source != Source.MIS and mis_is_connected():
            return _("Only the MIS marks an appointment completed: it will appear here after the visit is "
                     "closed in the MIS.")
    if to_stage == Stage.LOST and not reason.strip() and lost_reason is None:
        return _("Say why the case is lost.")
    if case.stage in (Stage.LOST, Stage.CLOSED) and to_stage in ACTIVE_STAGES:
        other = case.patient.cases.filter(stage__in=ACTIVE_STAGES, branch=case.branch_id)
        other = other.exclude(pk=case.pk).first()
        if other:
            return _("The patient already has an open case here (#%(case)s): continue that one.") % {"case": other.pk}
    return None


def lost_reason_listed(pk) -> LostReason | None:
    """The clinic's listed reason with this id, while it is offered; None for anything else."""
    return LostReason.objects.filter(active=True, pk=pk).first() if str(pk).isdigit() else None


def lost_reasons_offered() -> list[LostReason]:
    """The clinic's list, as the move forms offer it."""
    return list(LostReason.objects.filter(active=True))


def lost_reason_named(text: str, *, closing_inquiries: bool = False) -> LostReason | None:
    """The listed reason `text` names ("Spam", "spam", "Спам", "Duplicate of #12"), or None.

    A reason typed in a free-text box (the API, closing an inquiry) is linked to the list when it starts
    with a listed name, so reports count it with the others.
    """
    text = " ".join(text.split()).casefold()
    candidates = LostReason.objects.filter(active=True)
    if closing_inquiries:
        candidates = candidates.filter(closes_fresh_case=True)
    for listed in candidates:
        for name in listed.names():
            if text == name or (text.startswith(name) and not text[len(name)].isalnum()):
                return listed
    return None


def _lost_text(lost_reason: LostReason | None, note: str) -> str:
    """The words a lost case shows: the listed reason, then the person's own words when they add something.

    The reason is stored by its stored name, not as the mover's language shows it: each reader sees it in
    their own language (models.lost_words_shown).
    """
    note = note.strip()
    if lost_reason is None or any(note.casefold().startswith(name) for name in lost_reason.names()):
        return note[:200]
    return (f"{lost_reason.name}: {note}" if note else lost_reason.name)[:200]


def case_move(*, case: Case, to_stage: str, by=None, source: str = Source.PERSON, reason: str = "",
              lost_reason: LostReason | None = None) -> Case:
    """Move a case to another stage, or raise TransitionRefused saying why not.

    Lost needs a reason: one of the clinic's list (`lost_reason`), free text (`reason`), or both.
    """
    if to_stage == Stage.LOST and lost_reason is None and reason.strip():
        lost_reason = lost_reason_named(reason)
    try:
        with transaction.atomic():
            # Lock the row so two receptionists moving the same card cannot both pass the check.
            case = Case.objects.select_for_update().get(pk=case.pk)
            why_not = refusal_reason(case, to_stage, source, reason, lost_reason=lost_reason)
            if why_not:
                raise TransitionRefused({"stage": why_not})
            from_stage, now = case.stage, timezone.now()
            lost = to_stage == Stage.LOST
            text = _lost_text(lost_reason, reason) if lost else reason.strip()[:200]
            case.stage, case.stage_changed_at = to_stage, now
            case.lost_reason, case.listed_lost_reason = (text, lost_reason) if lost else ("", None)
            case.save(update_fields=["stage", "stage_changed_at", "lost_reason", "listed_lost_reason"])
            CaseTransition.objects.create(case=case, from_stage=from_stage, to_stage=to_stage, at=now,
                                          by=by if by and by.is_authenticated else None, source=source,
                                          reason=text)
            event_emit(events.STAGE_ENTERED, case_id=case.pk)
    except IntegrityError:
        # Another case of this patient was reopened at the same moment.
        raise TransitionRefused({"stage": _("The patient already has an open case: continue that one.")}) from None
    return case


def case_lose_if_fresh(*, case: Case, inquiry_id: int, lost_reason: LostReason, by, note: str = "") -> bool:
    """Close a case as lost when its only content is one junk inquiry (spam, a duplicate). True if it did.

    Fresh means: still at New inquiry, no other inquiry and no appointment. A case with anything else in it
    is a real patient's journey, which a junk message must not end. Call it inside the caller's transaction.
    """
    case = Case.objects.select_for_update().get(pk=case.pk)
    # Inquiries and appointments live above the funnel: asked through the reverse relations by name.
    if case.stage != Stage.NEW or case.inquiries.exclude(pk=inquiry_id).exists() or case.appointments.exists():
        return False
    case_move(case=case, to_stage=Stage.LOST, by=by, source=Source.PERSON, reason=note, lost_reason=lost_reason)
    return True


def case_record_intake(*, case: Case, answers: dict) -> Case:
    """Store the qualification script's answers; unknown options and missing required answers are refused."""
    errors, clean = {}, dict(case.intake)
    for question in IntakeQuestion.objects.filter(active=True):
        value = str(answers.get(question.key, "") or "").strip()
        options = dict(question.options())
        if not value:
            if question.required:
                errors[question.key] = _("This question needs an answer.")
            clean.pop(question.key, None)
        elif options and value not in options:
            errors[question.key] = _("“%(value)s” is not one of the answers.") % {"value": value}
        else:
            clean[question.key] = value[:500]
    if errors:
        raise ValidationError(errors)
    case.intake = clean
    case.save(update_fields=["intake"])
    return case
