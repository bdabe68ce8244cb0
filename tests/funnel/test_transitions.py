"""The funnel: one table of allowed moves, enforced on every path, with a history of every change."""

import pytest
from django.core.exceptions import ValidationError

from clinicflow.funnel.models import TRANSITIONS, Case, CaseTransition, Source, Stage
from clinicflow.funnel.services import TransitionRefused, case_move, case_open_for, case_record_intake
from clinicflow.patients.services import patient_resolve

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(moscow, receptionist) -> Case:
    patient, _ = patient_resolve(branch=moscow, phone="+79161234567", full_name="Ivan Petrov")
    return case_open_for(patient=patient, branch=moscow, by=receptionist)[0]


def book(case: Case, doctor, days: int = 2):
    """A visit in the case, as booking leaves it (the funnel only counts that there is one)."""
    from datetime import timedelta

    from django.utils import timezone

    from clinicflow.scheduling.models import Appointment

    starts_at = timezone.now() + timedelta(days=days)
    return Appointment.objects.create(patient=case.patient, case=case, doctor=doctor, branch=case.branch,
                                      starts_at=starts_at, ends_at=starts_at + timedelta(minutes=30))


def test_a_new_case_starts_at_new_inquiry_with_a_history_row(case):
    assert case.stage == Stage.NEW
    assert list(case.transitions.values_list("from_stage", "to_stage")) == [("", Stage.NEW)]


def test_a_patient_has_one_open_case(case, moscow):
    again, created = case_open_for(patient=case.patient, branch=moscow)
    assert (again, created) == (case, False)


def test_a_lost_case_does_not_block_a_new_one(case, moscow, receptionist):
    case_move(case=case, to_stage=Stage.LOST, by=receptionist, reason="Too expensive")
    new_case, created = case_open_for(patient=case.patient, branch=moscow)
    assert created and new_case != case


def test_it_records_who_when_from_and_to(case, receptionist):
    case_move(case=case, to_stage=Stage.QUALIFICATION, by=receptionist, reason="called back")
    move = case.transitions.last()
    assert (move.from_stage, move.to_stage, move.by, move.source, move.reason) == (
        Stage.NEW, Stage.QUALIFICATION, receptionist, Source.PERSON, "called back")
    case.refresh_from_db()
    assert case.stage == Stage.QUALIFICATION


def test_it_follows_the_whole_funnel(case, receptionist, doctor):
    book(case, doctor)
    for stage in [Stage.QUALIFICATION, Stage.BOOKING, Stage.REMINDER, Stage.COMPLETED, Stage.REBOOKING,
                  Stage.BOOKING, Stage.REMINDER, Stage.COMPLETED, Stage.REVIEW, Stage.CLOSED]:
        case = case_move(case=case, to_stage=stage, by=receptionist)
    assert case.transitions.count() == 11


@pytest.mark.parametrize("from_stage,to_stage", [
    (s, t) for s in Stage.values for t in Stage.values if t != s and t not in TRANSITIONS[s]])
def test_it_refuses_every_move_outside_the_table(case, from_stage, to_stage, receptionist):
    Case.objects.filter(pk=case.pk).update(stage=from_stage)
    with pytest.raises(TransitionRefused) as refused:
        case_move(case=case, to_stage=to_stage, by=receptionist, reason="x")
    assert "cannot go from" in refused.value.message_dict["stage"][0]
    case.refresh_from_db()
    assert case.stage == from_stage
    assert case.transitions.count() == 1


def test_the_refusal_names_the_possible_next_stages(case):
    with pytest.raises(TransitionRefused) as refused:
        case_move(case=case, to_stage=Stage.REVIEW)
    assert refused.value.message_dict["stage"] == [
        "A case cannot go from New inquiry to Review. Possible next stages: "
        "Qualification, Booking, Lost, Closed."]


def test_it_refuses_an_unknown_stage_naming_the_real_ones(case):
    with pytest.raises(TransitionRefused) as refused:
        case_move(case=case, to_stage="maybe")
    assert "“maybe” is not a stage" in refused.value.message_dict["stage"][0]


def test_lost_needs_a_reason(case):
    with pytest.raises(TransitionRefused, match="Say why the case is lost"):
        case_move(case=case, to_stage=Stage.LOST, reason="  ")
    case_move(case=case, to_stage=Stage.LOST, reason="Chose another clinic")
    case.refresh_from_db()
    assert case.lost_reason == "Chose another clinic"


def test_a_closed_case_goes_nowhere(case):
    case = case_move(case=case, to_stage=Stage.CLOSED)
    with pytest.raises(TransitionRefused, match="none, the case is closed"):
        case_move(case=case, to_stage=Stage.QUALIFICATION)


class TestAppointmentCompletedComesOnlyFromTheMis:
    @pytest.fixture
    def waiting_for_visit(self, case, doctor):
        book(case, doctor)
        Case.objects.filter(pk=case.pk).update(stage=Stage.REMINDER)
        case.refresh_from_db()
        return case

    def test_a_person_may_not_set_it_when_an_mis_is_connected(self, waiting_for_visit, receptionist, settings):
        settings.CLINICFLOW_MIS_BASE_URL = "http://mis.local/fhir"
        for source in (Source.PERSON, Source.API, Source.ROBOT):
            with pytest.raises(TransitionRefused, match="Only the MIS"):
                case_move(case=waiting_for_visit, to_stage=Stage.COMPLETED, by=receptionist, source=source)
        waiting_for_visit.refresh_from_db()
        assert waiting_for_visit.stage == Stage.REMINDER

    def test_the_mis_sync_may(self, waiting_for_visit, settings):
        settings.CLINICFLOW_MIS_BASE_URL = "http://mis.local/fhir"
        case = case_move(case=waiting_for_visit, to_stage=Stage.COMPLETED, source=Source.MIS)
        assert case.stage == Stage.COMPLETED
        assert case.transitions.last().source == Source.MIS

    def test_without_an_mis_a_person_records_it(self, waiting_for_visit, receptionist, settings):
        settings.CLINICFLOW_MIS_BASE_URL = ""
        assert case_move(case=waiting_for_visit, to_stage=Stage.COMPLETED, by=receptionist).stage == Stage.COMPLETED


class TestIntakeScript:
    def test_the_default_script_asks_specialty_doctor_time_and_visit_type(self):
        from clinicflow.funnel.models import IntakeQuestion

        assert list(IntakeQuestion.objects.values_list("key", flat=True)) == [
            "specialty", "doctor", "time_window", "visit_type"]

    def test_it_stores_answers_on_the_case(self, case, cardiology, doctor):
        case_record_intake(case=case, answers={"specialty": str(cardiology.pk), "doctor": str(doctor.pk),
                                               "time_window": "Tuesday morning", "visit_type": "New"})
        case.refresh_from_db()
        assert case.intake == {"specialty": str(cardiology.pk), "doctor": str(doctor.pk),
                               "time_window": "Tuesday morning", "visit_type": "New"}

    def test_it_refuses_missing_required_answers_and_unknown_options(self, case):
        with pytest.raises(ValidationError) as refused:
            case_record_intake(case=case, answers={"specialty": "", "visit_type": "Maybe"})
        assert set(refused.value.message_dict) == {"specialty", "visit_type"}
        case.refresh_from_db()
        assert case.intake == {}


def test_moves_through_the_api_follow_the_same_rules(case, client, auth):
    response = client.post(f"/api/v1/cases/{case.pk}/moves", {"stage": "review"}, content_type="application/json",
                           **auth)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "stage"]
    assert "cannot go from New inquiry to Review" in response.json()["detail"][0]["msg"]
    response = client.post(f"/api/v1/cases/{case.pk}/moves", {"stage": "qualification"},
                           content_type="application/json", **auth)
    assert response.status_code == 200
    assert response.json()["stage"] == "qualification"
    assert CaseTransition.objects.filter(case=case).last().source == Source.API


def test_moves_through_the_page_explain_a_refusal(case, rita_client):
    response = rita_client.post(f"/cases/{case.pk}/move/", {"stage": "lost", "reason": ""})
    assert b"Say why the case is lost" in response.content
    response = rita_client.post(f"/cases/{case.pk}/move/", {"stage": "closed", "view": "board"})
    assert b'id="board"' in response.content
    case.refresh_from_db()
    assert case.stage == Stage.CLOSED


def test_another_branch_cannot_move_the_case(case, outsider, client):
    client.force_login(outsider)
    assert client.post(f"/cases/{case.pk}/move/", {"stage": "qualification"}).status_code == 404


def test_a_lost_case_cannot_reopen_while_another_is_open(case, moscow, receptionist):
    case_move(case=case, to_stage=Stage.LOST, by=receptionist, reason="No answer")
    newer, _ = case_open_for(patient=case.patient, branch=moscow)
    with pytest.raises(TransitionRefused, match=f"already has an open case here \\(#{newer.pk}\\)"):
        case_move(case=case, to_stage=Stage.QUALIFICATION, by=receptionist)


def test_the_database_holds_one_open_case_per_patient_and_branch(case, moscow):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Case.objects.create(patient=case.patient, branch=moscow)


class TestAPatientWhoContactsAnotherBranch:
    """First seen in Moscow, then phones Novosibirsk: Novosibirsk's desk works with them in a case of its own,
    and Moscow's case (with its visits and notes) stays in Moscow."""

    @pytest.fixture
    def second_inquiry(self, case, novosibirsk, outsider):
        from clinicflow.inbox.services import InquiryDraft, inquiry_receive

        return inquiry_receive(draft=InquiryDraft(channel="phone", phone="8 916 123-45-67", consent=True,
                                                  branch_id=novosibirsk.pk), created_by=outsider)[0]

    def test_the_open_case_stays_at_its_branch_and_the_new_desk_gets_its_own(self, case, second_inquiry, moscow,
                                                                            novosibirsk):
        case.refresh_from_db()
        assert case.branch == moscow
        assert second_inquiry.case != case and second_inquiry.case.branch == novosibirsk

    def test_their_desk_reads_the_patient_and_moves_its_own_case(self, case, second_inquiry, outsider, client):
        client.force_login(outsider)
        assert client.get(f"/inquiries/{second_inquiry.pk}/").status_code == 200
        assert client.get(f"/patients/{case.patient_id}/").status_code == 200
        own = second_inquiry.case
        client.post(f"/cases/{own.pk}/move/", {"stage": "qualification"})
        own.refresh_from_db()
        assert own.stage == Stage.QUALIFICATION

    def test_their_desk_cannot_touch_the_first_branchs_case(self, case, second_inquiry, outsider, client):
        client.force_login(outsider)
        assert client.post(f"/cases/{case.pk}/move/", {"stage": "qualification"}).status_code == 404
        assert list(client.get(f"/patients/{case.patient_id}/").context["cases"]) == [second_inquiry.case]

    def test_the_first_branch_still_reads_its_patient(self, case, second_inquiry, rita_client):
        assert rita_client.get(f"/patients/{case.patient_id}/").status_code == 200

    def test_a_third_branch_does_not(self, case, second_inquiry, client):
        from clinicflow.clinic.models import Branch
        from tests.conftest import make_staff

        kazan = Branch.objects.create(name="Kazan", time_zone="Europe/Moscow")
        client.force_login(make_staff("karim", "receptionist", [kazan]))
        assert client.get(f"/patients/{case.patient_id}/").status_code == 404


def test_the_intake_api_stores_answers_from_a_json_body(case, client, auth, cardiology):
    response = client.put(f"/api/v1/cases/{case.pk}/intake", {"specialty": str(cardiology.pk), "visit_type": "New"},
                          content_type="application/json", **auth)
    assert response.status_code == 200, response.content
    assert response.json()["intake"] == {"specialty": str(cardiology.pk), "visit_type": "New"}
    refused = client.put(f"/api/v1/cases/{case.pk}/intake", {"visit_type": "Maybe"},
                         content_type="application/json", **auth)
    assert refused.status_code == 422
    assert {e["loc"][-1] for e in refused.json()["detail"]} == {"specialty", "visit_type"}


def test_a_lost_reason_longer_than_the_column_is_refused_by_the_api(case, client, auth):
    response = client.post(f"/api/v1/cases/{case.pk}/moves", {"stage": "lost", "reason": "x" * 5000},
                           content_type="application/json", **auth)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "reason"]
