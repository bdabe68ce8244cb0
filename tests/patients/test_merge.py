"""patient_merge and patient_unmerge: two cards of one person made one, everything moved, and undone exactly."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from clinicflow.accounts.models import Role
from clinicflow.automation.models import Job
from clinicflow.compliance.models import AccessLogEntry, Consent
from clinicflow.compliance.services import access_record, consent_record
from clinicflow.funnel.models import Case, Stage
from clinicflow.funnel.services import case_move
from clinicflow.inbox.models import Inquiry
from clinicflow.inbox.services import InquiryDraft, inquiry_receive
from clinicflow.patients.merging import _links, patient_merge, patient_merge_preview, patient_unmerge
from clinicflow.patients.models import Channel, Patient, PatientIdentity, PatientNote
from clinicflow.patients.services import patient_current, patient_note_add, patient_resolve
from clinicflow.scheduling.services import appointment_book
from clinicflow.tasks.services import task_create

pytestmark = pytest.mark.django_db


def give_everything(patient, branch, staff, doctor, *, days: int, phone: str):
    """An inquiry (with its case and escalation job), a visit, a task, a note and consents, as the desk makes them."""
    inquiry, _received = inquiry_receive(draft=InquiryDraft(channel=Channel.PHONE, phone=phone, consent=True,
                                                            text="Wants a visit", branch_id=branch.pk),
                                         created_by=staff)
    appointment = appointment_book(patient=patient, doctor=doctor, branch=branch, case=inquiry.case, by=staff,
                                   starts_at=(timezone.now() + timedelta(days=days)).replace(microsecond=0))
    task_create(title="Call back", branch=branch, due_at=timezone.now() + timedelta(days=1),
                role=Role.RECEPTIONIST, patient=patient, created_by=staff)
    patient_note_add(patient=patient, branch=branch, by=staff, body="Prefers mornings")
    return inquiry, appointment


@pytest.fixture
def twin(moscow) -> Patient:
    """Ivan again, on a second card made from another number: no name, an e-mail and a birth date."""
    patient, _created = patient_resolve(branch=moscow, phone="+7 903 000-11-22", email="ivan@example.org")
    Patient.objects.filter(pk=patient.pk).update(birth_date=date(1980, 5, 17))
    patient.refresh_from_db()
    return patient


def owners(*patients) -> dict:
    """Every row that names one of these patients, with its owner and (where it has one) its case."""
    ids = [p.pk for p in patients]
    found = {}
    for key, model, column in _links():
        for row in model.objects.filter(**{f"{column}__in": ids}).values():
            found[(key, row["id"])] = (row[column], row.get("case_id"))
    return found


def card_fields(patient) -> tuple:
    patient.refresh_from_db()
    return (patient.full_name, patient.email, patient.birth_date, patient.merged_into_id, patient.merged_at)


def cases_state() -> list:
    return list(Case.objects.order_by("pk").values_list("pk", "patient_id", "stage", "lost_reason"))


def test_a_merge_moves_everything_of_the_other_card(ivan, twin, moscow, receptionist, doctor):
    give_everything(twin, moscow, receptionist, doctor, days=3, phone="+79030001122")
    before = owners(twin)
    assert {key.split(":")[0] for key, _pk in before} >= {
        "patients.patientidentity", "inbox.inquiry", "funnel.case", "scheduling.appointment", "tasks.task",
        "patients.patientnote", "compliance.consent", "automation.job"}

    record = patient_merge(keep=ivan, merge=twin, by=receptionist, reason="Same person, second number")

    assert owners(twin) == {}
    assert all(owners(ivan)[row][0] == ivan.pk for row in before)
    assert sorted(ivan.phones) == ["+79030001122", "+79161234567"]
    assert (twin.merged_into, record.kept, record.merged, record.by) == (ivan, ivan, twin, receptionist)
    assert record.moved_count() == len(before)
    assert Job.objects.filter(patient_id=ivan.pk).exists()


def test_the_kept_cards_blanks_are_filled_and_nothing_is_overwritten(ivan, twin, receptionist):
    record = patient_merge(keep=ivan, merge=twin, by=receptionist, reason="same")
    assert (ivan.full_name, ivan.email, ivan.birth_date) == ("Ivan Petrov", "ivan@example.org", date(1980, 5, 17))
    assert sorted(record.filled) == ["birth_date", "email"]


def test_consents_move_as_they_are_and_none_is_created_or_confirmed(ivan, twin, receptionist):
    pending = consent_record(patient=twin, purpose=Consent.Purpose.MARKETING, source="web", confirmed=False)
    counts = Consent.objects.count()
    patient_merge(keep=ivan, merge=twin, by=receptionist, reason="same")
    pending.refresh_from_db()
    assert (pending.patient, pending.confirmed_at, Consent.objects.count()) == (ivan, None, counts)


def test_the_merged_card_stays_and_leaves_search(ivan, twin, receptionist):
    patient_merge(keep=ivan, merge=twin, by=receptionist, reason="same")
    assert Patient.objects.filter(pk=twin.pk).exists()
    assert list(Patient.objects.current().search("ivan@example.org")) == [ivan]


def test_undo_puts_back_exactly_what_moved(ivan, twin, moscow, receptionist, manager, doctor):
    give_everything(ivan, moscow, receptionist, doctor, days=3, phone="+79161234567")
    give_everything(twin, moscow, receptionist, doctor, days=4, phone="+79030001122")
    rows, fields, cases = owners(ivan, twin), [card_fields(ivan), card_fields(twin)], cases_state()

    record = patient_merge(keep=ivan, merge=twin, by=receptionist, reason="same")
    patient_unmerge(merge_record=record, by=manager)

    notes = {row for row in owners(ivan, twin) if row[0] == "patients.patientnote:patient"}
    assert {row: owner for row, owner in owners(ivan, twin).items() if row not in notes or row in rows} == rows
    assert [card_fields(ivan), card_fields(twin)] == fields
    assert cases_state() == cases
    record.refresh_from_db()
    assert (record.undone_by, record.is_undone) == (manager, True)


def test_what_the_kept_card_got_after_the_merge_stays_with_it(ivan, twin, moscow, receptionist, manager):
    record = patient_merge(keep=ivan, merge=twin, by=receptionist, reason="same")
    later = patient_note_add(patient=ivan, branch=moscow, by=receptionist, body="Called after the merge")
    patient_unmerge(merge_record=record, by=manager)
    later.refresh_from_db()
    assert later.patient == ivan


def test_two_open_cases_at_one_branch_become_one_the_older(ivan, twin, moscow, receptionist, manager, doctor):
    older, _a = give_everything(ivan, moscow, receptionist, doctor, days=3, phone="+79161234567")
    newer, visit = give_everything(twin, moscow, receptionist, doctor, days=4, phone="+79030001122")
    stage_before = Case.objects.get(pk=newer.case_id).stage

    record = patient_merge(keep=ivan, merge=twin, by=receptionist, reason="same")

    newer.refresh_from_db()
    visit.refresh_from_db()
    emptied = Case.objects.get(pk=record.steps["funnel.open_cases"]["closed"][0]["case"])
    assert (newer.case_id, visit.case_id) == (older.case_id, older.case_id)
    assert (emptied.stage, emptied.lost_reason, emptied.patient) == (Stage.LOST, "merged", ivan)
    assert list(emptied.inquiries.all()) == [] and list(emptied.appointments.all()) == []
    assert Case.objects.filter(patient=ivan, stage__in=["new", "qualification", "booking", "reminder"]).count() == 1

    patient_unmerge(merge_record=record, by=manager)
    emptied.refresh_from_db()
    newer.refresh_from_db()
    assert (emptied.stage, emptied.patient, newer.case_id) == (stage_before, twin, emptied.pk)


def test_a_case_closed_by_the_merge_and_moved_since_blocks_the_undo(ivan, twin, moscow, receptionist, manager,
                                                                    doctor):
    give_everything(ivan, moscow, receptionist, doctor, days=3, phone="+79161234567")
    give_everything(twin, moscow, receptionist, doctor, days=4, phone="+79030001122")
    record = patient_merge(keep=ivan, merge=twin, by=receptionist, reason="same")
    closed = Case.objects.get(pk=record.steps["funnel.open_cases"]["closed"][0]["case"])
    case_move(case=closed, to_stage=Stage.CLOSED, by=manager)
    with pytest.raises(ValidationError, match=f"Case #{closed.pk}, closed by the merge, was moved since"):
        patient_unmerge(merge_record=record, by=manager)


def test_undo_says_what_blocks_it_when_a_moved_phone_was_deleted(ivan, twin, receptionist, manager):
    record = patient_merge(keep=ivan, merge=twin, by=receptionist, reason="same")
    PatientIdentity.objects.filter(address="+79030001122").delete()
    with pytest.raises(ValidationError, match="1 of the patient identities the merge moved were deleted"):
        patient_unmerge(merge_record=record, by=manager)
    twin.refresh_from_db()
    assert twin.merged_into == ivan  # nothing half undone


def test_undo_is_refused_twice_and_after_the_kept_card_was_merged_on(ivan, twin, moscow, receptionist, manager):
    third, _created = patient_resolve(branch=moscow, phone="+7 903 000-33-44")
    record = patient_merge(keep=ivan, merge=twin, by=receptionist, reason="same")
    patient_merge(keep=third, merge=ivan, by=receptionist, reason="same again")
    with pytest.raises(ValidationError, match=f"merged into card #{third.pk} since"):
        patient_unmerge(merge_record=record, by=manager)
    ivan.refresh_from_db()
    patient_unmerge(merge_record=ivan.merges_given.get(), by=manager)
    patient_unmerge(merge_record=record, by=manager)
    with pytest.raises(ValidationError, match="undone already"):
        patient_unmerge(merge_record=record, by=manager)


@pytest.mark.parametrize("case", ["itself", "already merged", "no reason"])
def test_a_merge_is_refused_with_a_clear_error(case, ivan, twin, moscow, receptionist):
    if case == "already merged":
        third, _created = patient_resolve(branch=moscow, phone="+7 903 000-33-44")
        patient_merge(keep=third, merge=twin, by=receptionist, reason="same")
    keep = ivan if case != "itself" else twin
    field = "reason" if case == "no reason" else "merge_id"
    with pytest.raises(ValidationError) as refused:
        patient_merge(keep=keep, merge=twin, by=receptionist, reason="" if case == "no reason" else "same")
    assert field in refused.value.message_dict


def test_the_preview_counts_what_will_move(twin, moscow, receptionist, doctor):
    give_everything(twin, moscow, receptionist, doctor, days=3, phone="+79030001122")
    preview = dict(patient_merge_preview(merge=twin))
    assert preview["inquiries"] == 1 and preview["appointments"] == 1 and preview["patient identities"] == 1


def test_the_access_log_is_not_rewritten(ivan, twin, receptionist):
    access_record(user=receptionist, action=AccessLogEntry.Action.READ, patient_ids=[twin.pk], target="probe")
    rows = list(AccessLogEntry.objects.values_list("seq", "patient_id", "hash"))
    patient_merge(keep=ivan, merge=twin, by=receptionist, reason="same")
    assert list(AccessLogEntry.objects.values_list("seq", "patient_id", "hash")) == rows


def test_a_delivery_that_found_the_card_just_before_the_merge_lands_on_the_kept_card(ivan, twin, receptionist,
                                                                                      monkeypatch):
    """The race: the delivery resolved the twin's number, then the merge committed before it wrote."""
    patient_merge(keep=ivan, merge=twin, by=receptionist, reason="same")
    monkeypatch.setattr("clinicflow.inbox.services.patient_resolve", lambda **kwargs: (twin, False))
    inquiry, _received = inquiry_receive(draft=InquiryDraft(channel=Channel.SMS, phone="+79030001122",
                                                            number_verified=True, text="Hello"))
    assert inquiry.patient == ivan
    assert not Inquiry.objects.filter(patient=twin).exists()


def test_the_current_card_follows_a_chain_of_merges(ivan, twin, moscow, receptionist):
    third, _created = patient_resolve(branch=moscow, phone="+7 903 000-33-44")
    patient_merge(keep=ivan, merge=twin, by=receptionist, reason="same")
    patient_merge(keep=third, merge=ivan, by=receptionist, reason="same")
    with transaction.atomic():
        assert patient_current(twin) == third
    assert patient_resolve(branch=moscow, phone="+79030001122")[0] == third
    assert not PatientNote.objects.filter(patient=twin).exists()
