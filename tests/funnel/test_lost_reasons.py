"""Why cases are lost: the clinic's own list plus free text, on every path; Completed needs a visit."""

import pytest
from django.utils import translation

from clinicflow.funnel.models import Case, LostReason, Source, Stage
from clinicflow.funnel.services import TransitionRefused, case_move, case_open_for, lost_reason_named
from clinicflow.patients.services import patient_resolve
from tests.funnel.test_transitions import book

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(moscow, receptionist) -> Case:
    patient, _ = patient_resolve(branch=moscow, phone="+79161234567", full_name="Ivan Petrov")
    return case_open_for(patient=patient, branch=moscow, by=receptionist)[0]


def test_a_new_clinic_starts_with_a_sensible_list():
    assert list(LostReason.objects.values_list("name", "closes_fresh_case")) == [
        ("Too expensive", False), ("No answer", False), ("Chose another clinic", False),
        ("No convenient time", False), ("Changed their mind", False), ("Spam", True), ("Duplicate", True)]


def test_a_listed_reason_is_shown_in_the_users_language_and_a_clinics_own_as_typed():
    own = LostReason.objects.create(name="Переехал в другой город")
    listed = LostReason.objects.get(name="Too expensive")
    with translation.override("en"):
        assert (listed.label, own.label) == ("Too expensive", "Переехал в другой город")


class TestMovingToLost:
    def test_it_needs_a_listed_reason_or_free_text(self, case):
        with pytest.raises(TransitionRefused, match="Say why the case is lost"):
            case_move(case=case, to_stage=Stage.LOST, reason="   ")
        case.refresh_from_db()
        assert case.stage == Stage.NEW

    def test_a_listed_reason_alone(self, case):
        reason = LostReason.objects.get(name="No answer")
        case = case_move(case=case, to_stage=Stage.LOST, lost_reason=reason)
        assert (case.listed_lost_reason, case.lost_reason, case.transitions.last().reason) == (
            reason, "No answer", "No answer")

    def test_free_text_alone_is_kept_as_typed(self, case):
        case = case_move(case=case, to_stage=Stage.LOST, reason="Moved to Kazan")
        assert (case.listed_lost_reason, case.lost_reason) == (None, "Moved to Kazan")

    def test_free_text_naming_a_listed_reason_is_linked_to_it(self, case):
        case = case_move(case=case, to_stage=Stage.LOST, reason="too expensive, will think")
        assert case.listed_lost_reason == LostReason.objects.get(name="Too expensive")
        assert case.lost_reason == "too expensive, will think"

    def test_a_reopened_case_forgets_its_lost_reason(self, case):
        case = case_move(case=case, to_stage=Stage.LOST, lost_reason=LostReason.objects.get(name="No answer"))
        case = case_move(case=case, to_stage=Stage.QUALIFICATION)
        assert (case.listed_lost_reason, case.lost_reason) == (None, "")

    def test_through_the_api_with_an_id_from_the_list(self, case, client, auth):
        reason = LostReason.objects.get(name="Chose another clinic")
        response = client.post(f"/api/v1/cases/{case.pk}/moves", {"stage": "lost", "lost_reason_id": reason.pk,
                                                                  "reason": "closer to home"},
                               content_type="application/json", **auth)
        assert response.status_code == 200, response.content
        assert (response.json()["lost_reason_id"], response.json()["lost_reason"]) == (
            reason.pk, "Chose another clinic: closer to home")

    def test_through_the_api_without_any_reason_is_refused(self, case, client, auth):
        response = client.post(f"/api/v1/cases/{case.pk}/moves", {"stage": "lost"}, content_type="application/json",
                               **auth)
        assert response.status_code == 422
        assert "Say why the case is lost" in response.json()["detail"][0]["msg"]

    def test_through_the_api_an_unknown_reason_id_is_refused(self, case, client, auth):
        response = client.post(f"/api/v1/cases/{case.pk}/moves", {"stage": "lost", "lost_reason_id": 999999},
                               content_type="application/json", **auth)
        assert response.status_code == 422
        case.refresh_from_db()
        assert case.stage == Stage.NEW


class TestTheListNamesAReason:
    @pytest.mark.parametrize("text", ["Spam", "spam", "  SPAM ", "Spam: a bot", "Duplicate of #12"])
    def test_by_its_name_at_the_start(self, text):
        assert lost_reason_named(text, closing_inquiries=True) is not None

    @pytest.mark.parametrize("text", ["Spammy", "not spam", "Wrong number", ""])
    def test_not_by_a_longer_word_or_elsewhere(self, text):
        assert lost_reason_named(text, closing_inquiries=True) is None

    def test_closing_inquiries_only_counts_junk_reasons(self):
        assert lost_reason_named("No answer") is not None
        assert lost_reason_named("No answer", closing_inquiries=True) is None

    def test_a_switched_off_reason_names_nothing(self):
        LostReason.objects.filter(name="Spam").update(active=False)
        assert lost_reason_named("Spam") is None


class TestAppointmentCompletedNeedsAnAppointment:
    @pytest.fixture
    def reminder(self, case):
        Case.objects.filter(pk=case.pk).update(stage=Stage.REMINDER)
        case.refresh_from_db()
        return case

    @pytest.mark.parametrize("mis_url", ["", "http://mis.local/fhir"])
    @pytest.mark.parametrize("source", [Source.PERSON, Source.API, Source.MIS])
    def test_refused_without_any_appointment_mis_or_not(self, reminder, settings, mis_url, source):
        settings.CLINICFLOW_MIS_BASE_URL = mis_url
        with pytest.raises(TransitionRefused, match="There is no appointment in this case"):
            case_move(case=reminder, to_stage=Stage.COMPLETED, source=source)
        reminder.refresh_from_db()
        assert reminder.stage == Stage.REMINDER

    def test_an_appointment_of_another_case_does_not_count(self, reminder, doctor, moscow):
        other_patient, _ = patient_resolve(branch=moscow, phone="+79160000000", full_name="Other")
        book(case_open_for(patient=other_patient, branch=moscow)[0], doctor)
        with pytest.raises(TransitionRefused, match="no appointment"):
            case_move(case=reminder, to_stage=Stage.COMPLETED)

    def test_allowed_once_a_visit_was_booked(self, reminder, doctor, settings):
        settings.CLINICFLOW_MIS_BASE_URL = ""
        book(reminder, doctor)
        assert case_move(case=reminder, to_stage=Stage.COMPLETED).stage == Stage.COMPLETED

    def test_the_page_explains_it(self, reminder, rita_client):
        page = rita_client.post(f"/cases/{reminder.pk}/move/", {"stage": "completed"}).content.decode()
        assert "There is no appointment in this case" in page
