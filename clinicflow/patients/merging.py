"""Two cards of one person made one, and the merge undone.

Everything of the merged card moves to the kept one: every row that points at a patient (identities,
inquiries, cases, appointments, tasks, notes, consents, and whatever a later app adds) and the jobs planned
for it. The rows are found through the model graph rather than listed here: patients sits below the apps
that own those rows (the import-linter layers), and a table added later is then moved too instead of being
left on an emptied card. What an app must do beyond moving its rows (the funnel: two open cases at one
branch) it registers as a `MergeStep` in its AppConfig.ready(), as the job engine's handlers are registered.

The access log is not touched (append-only: its rows keep the ids they were written with). Who may merge
or undo is the caller's gate (`gates.patients_to_merge`, `gates.merge_for_user`), which also logs both cards.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext as _

from clinicflow.automation.models import Job

from .models import Patient, PatientMerge, PatientNote

# The kept card's blanks the merged card may fill; a value the kept card has is never overwritten.
FILLABLE = ("full_name", "email", "birth_date")
BLANK = {"full_name": "", "email": "", "birth_date": None}


@dataclass(frozen=True)
class MergeStep:
    """What an app above patients does when two cards merge, beyond its rows moving to the kept card.

    `prepare(keep, merge, by)` runs first, inside the merge's transaction, and returns what `undo(data)` needs
    to put it back; `blocker(data)` says why it can no longer be put back (None when it can). `undo(data, by)`
    runs after the moved rows went back to the merged card.
    """

    name: str
    prepare: Callable[[Patient, Patient, object], dict]
    undo: Callable[[dict, object], None]
    blocker: Callable[[dict], str | None]


merge_steps: dict[str, MergeStep] = {}


def merge_step(step: MergeStep) -> MergeStep:
    merge_steps[step.name] = step
    return step


def _links() -> list[tuple[str, type[Model], str]]:
    """(key, model, column) of every column that names a patient and moves with the person."""
    links = []
    for relation in Patient._meta.related_objects:
        model = relation.related_model
        if relation.many_to_many or model in (Patient, PatientMerge):
            continue  # merged_into and the merge records themselves describe merges: they stay as they are
        links.append((f"{model._meta.label_lower}:{relation.field.name}", model, relation.field.attname))
    # A job names its patient by a plain id: the engine knows no patients.
    links.append(("automation.job:patient_id", Job, "patient_id"))
    return links


def _model_of(key: str) -> tuple[type[Model], str]:
    for link_key, model, column in _links():
        if link_key == key:
            return model, column
    raise LookupError(key)


def _rows(model: type[Model], column: str, patient: Patient):
    return model.objects.filter(**{column: patient.pk})


def patient_merge_preview(*, merge: Patient) -> list[tuple[str, int]]:
    """What a merge would move off `merge`: (kind, count) for each kind it has, for the confirmation page."""
    counts = []
    for _key, model, column in _links():
        count = _rows(model, column, merge).count()
        if count:
            counts.append((str(model._meta.verbose_name_plural), count))
    return counts


def patient_merge(*, keep: Patient, merge: Patient, by, reason: str) -> PatientMerge:
    """Move everything of `merge` onto `keep` in one transaction; `merge` stays, emptied, marked as merged.

    Blanks of `keep` (name, e-mail, birth date) are filled from `merge`, never overwritten. Consents move as
    they are: a merge never creates or confirms one. Returns the record `patient_unmerge` undoes.
    """
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Say why these two cards are one person.")})
    if keep.pk == merge.pk:
        raise ValidationError({"merge_id": _("A card cannot be merged with itself.")})
    try:
        with transaction.atomic():
            record = _merge(*_locked(keep, merge), by=_person(by), reason=reason[:200])
    except IntegrityError:
        # A parallel merge of the same card, or rows a card may hold only once (unique per patient).
        raise ValidationError({"merge_id": _("The cards could not be merged: one of them changed at the same "
                                             "moment, or both hold something a card may hold only once.")}) from None
    merge.refresh_from_db()
    keep.refresh_from_db()
    return record


def _merge(keep: Patient, merge: Patient, *, by, reason: str) -> PatientMerge:
    record = PatientMerge(kept=keep, merged=merge, by=by, reason=reason)
    record.steps = {name: step.prepare(keep, merge, by) for name, step in merge_steps.items()}
    record.moved = _move(merge, keep)
    record.filled = _fill_blanks(keep, merge)
    Patient.objects.filter(pk=merge.pk).update(merged_into=keep, merged_at=record.at)
    record.save()
    PatientNote.objects.create(patient=keep, branch=keep.branch, author=by, body=_(
        "Card #%(card)s merged into this one: %(reason)s") % {"card": merge.pk, "reason": reason})
    return record


def _person(by):
    return by if by is not None and by.is_authenticated else None


def _locked(keep: Patient, merge: Patient) -> tuple[Patient, Patient]:
    """Both cards locked (in id order, so two merges of one pair cannot deadlock) and read afresh."""
    rows = {p.pk: p for p in Patient.objects.select_for_update().filter(pk__in=[keep.pk, merge.pk]).order_by("pk")}
    keep, merge = rows[keep.pk], rows[merge.pk]
    for card in (keep, merge):
        if card.merged_into_id:
            raise ValidationError({"merge_id": _("Card #%(card)s was already merged into card #%(kept)s.") % {
                "card": card.pk, "kept": card.merged_into_id}})
    return keep, merge


def _move(source: Patient, target: Patient) -> dict[str, list[int]]:
    moved = {}
    for key, model, column in _links():
        rows = _rows(model, column, source)
        ids = sorted(rows.values_list("pk", flat=True))
        if ids:
            rows.update(**{column: target.pk})
            moved[key] = ids
    return moved


def _fill_blanks(keep: Patient, merge: Patient) -> list[str]:
    filled = [name for name in FILLABLE if getattr(keep, name) in ("", None) and getattr(merge, name) not in ("", None)]
    if filled:
        Patient.objects.filter(pk=keep.pk).update(**{name: getattr(merge, name) for name in filled})
    return filled


def patient_unmerge_blocker(record: PatientMerge) -> str | None:
    """Why this merge can no longer be undone, in words for the person who tries; None when it can."""
    if record.is_undone:
        return _("This merge was undone already.")
    kept = Patient.objects.get(pk=record.kept_id)
    if kept.merged_into_id:
        return _("The kept card was merged into card #%(card)s since: undo that merge first.") % {
            "card": kept.merged_into_id}
    for key, ids in record.moved.items():
        try:
            model, column = _model_of(key)
        except LookupError:
            return _("The merge moved rows of a table that no longer exists (%(table)s).") % {"table": key}
        still = _rows(model, column, kept).filter(pk__in=ids).count()
        if still != len(ids):
            return _("%(count)s of the %(what)s the merge moved were deleted or moved to another card since: "
                     "the merge cannot be undone.") % {"count": len(ids) - still,
                                                       "what": model._meta.verbose_name_plural}
    for name, data in record.steps.items():
        step = merge_steps.get(name)
        why = step.blocker(data) if step else None
        if why:
            return why
    return None


def patient_unmerge(*, merge_record: PatientMerge, by) -> PatientMerge:
    """Put back exactly what the merge moved; the merged card is a card of its own again.

    Refused (ValidationError naming what blocks it) when something changed that makes it impossible, e.g. a
    moved phone was deleted since. What was added to the kept card after the merge stays there. Who may undo
    (a front-office manager or a clinic admin) is the caller's gate.
    """
    try:
        with transaction.atomic():
            _unmerge(merge_record, _person(by))
    except IntegrityError:
        # Reopening a case the merge closed, while the card opened another one at that branch since.
        raise ValidationError({"merge": _("The merge cannot be undone: a case it closed would be open twice at "
                                          "one branch. Close one of them first.")}) from None
    merge_record.refresh_from_db()
    return merge_record


def _unmerge(merge_record: PatientMerge, by) -> None:
    record = PatientMerge.objects.select_for_update().get(pk=merge_record.pk)
    kept, merged = _locked_for_undo(record)
    why = patient_unmerge_blocker(record)
    if why:
        raise ValidationError({"merge": why})
    for key, ids in record.moved.items():
        model, column = _model_of(key)
        model.objects.filter(pk__in=ids).update(**{column: merged.pk})
    for name, data in record.steps.items():
        merge_steps[name].undo(data, by)
    _empty_filled(kept, merged, record.filled)
    Patient.objects.filter(pk=merged.pk).update(merged_into=None, merged_at=None)
    record.undone_at, record.undone_by = timezone.now(), by
    record.save(update_fields=["undone_at", "undone_by"])
    for card, other, text in ((kept, merged, _("Merge with card #%(card)s undone.")),
                              (merged, kept, _("Split again from card #%(card)s: the merge was undone."))):
        PatientNote.objects.create(patient=card, branch=card.branch, author=by, body=text % {"card": other.pk})


def _locked_for_undo(record: PatientMerge) -> tuple[Patient, Patient]:
    rows = {p.pk: p for p in Patient.objects.select_for_update().filter(
        pk__in=[record.kept_id, record.merged_id]).order_by("pk")}
    return rows[record.kept_id], rows[record.merged_id]


def _empty_filled(kept: Patient, merged: Patient, filled: list[str]) -> None:
    """The kept card's blanks that the merge filled are blank again, unless someone has changed them since."""
    unchanged = [name for name in filled if getattr(kept, name) == getattr(merged, name)]
    if unchanged:
        Patient.objects.filter(pk=kept.pk).update(**{name: BLANK[name] for name in unchanged})
