"""Merging two cards from the card and through the API: who may, what the pages show, what is logged."""

import json

import pytest
from django.test import Client

from clinicflow.clinic.models import ClinicSettings
from clinicflow.compliance.models import AccessLogEntry
from clinicflow.patients.merging import patient_merge
from clinicflow.patients.models import Patient, PatientMerge
from clinicflow.patients.services import patient_resolve

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def twin(moscow) -> Patient:
    patient, _created = patient_resolve(branch=moscow, phone="+7 903 000-11-22", full_name="Vanya Petrov")
    return patient


def share_patients() -> None:
    ClinicSettings.objects.update_or_create(pk=1, defaults={"patient_sharing": ClinicSettings.Sharing.SHARED})


def api_post(client, path, body, headers) -> object:
    return client.post(path, json.dumps(body), content_type="application/json", **headers)


class TestMergeOnTheCard:
    def test_the_card_offers_the_merge_to_who_may_change_it(self, rita_client, outsider, ivan, moscow):
        assert "Merge with another card" in rita_client.get(f"/patients/{ivan.pk}/").content.decode()
        share_patients()
        page = logged_in(outsider).get(f"/patients/{ivan.pk}/")
        assert page.status_code == 200 and "Merge with another card" not in page.content.decode()

    def test_the_search_as_one_types_lists_other_cards_not_this_one(self, rita_client, ivan, twin):
        response = rita_client.get(f"/patients/{ivan.pk}/merge/", {"q": "petrov"}, **HTMX)
        text = response.content.decode()
        assert f"/patients/{ivan.pk}/merge/{twin.pk}/" in text and f"/merge/{ivan.pk}/" not in text
        assert "<html" not in text  # only the list

    def test_the_confirmation_names_both_cards_and_counts_what_moves(self, rita_client, ivan, twin):
        text = rita_client.get(f"/patients/{ivan.pk}/merge/{twin.pk}/").content.decode()
        assert "Ivan Petrov" in text and "Vanya Petrov" in text
        assert "Patient identities: 1" in text and "Consents" not in text

    def test_a_receptionist_merges_and_lands_on_the_kept_card(self, rita_client, ivan, twin, receptionist):
        response = rita_client.post(f"/patients/{ivan.pk}/merge/{twin.pk}/", {"reason": "Same person"})
        assert response.status_code == 302 and response.url == f"/patients/{ivan.pk}/"
        record = PatientMerge.objects.get()
        assert (record.kept, record.merged, record.by, record.reason) == (ivan, twin, receptionist, "Same person")
        card = rita_client.get(f"/patients/{ivan.pk}/").content.decode()
        assert f"Card #{twin.pk} merged into this one: Same person" in card
        assert "Undo merge" not in card  # a receptionist does not undo

    def test_a_merge_without_a_reason_is_refused_naming_it(self, rita_client, ivan, twin):
        response = rita_client.post(f"/patients/{ivan.pk}/merge/{twin.pk}/", {"reason": " "})
        assert response.status_code == 422 and "Say why these two cards are one person" in response.content.decode()
        assert not PatientMerge.objects.exists()

    def test_both_cards_are_logged_as_written(self, rita_client, ivan, twin, receptionist):
        rita_client.post(f"/patients/{ivan.pk}/merge/{twin.pk}/", {"reason": "Same person"})
        written = set(AccessLogEntry.objects.filter(action="write", user_id=receptionist.pk)
                      .values_list("patient_id", flat=True))
        assert written == {ivan.pk, twin.pk}

    def test_the_merged_card_opens_the_kept_one_and_leaves_search(self, rita_client, ivan, twin, receptionist):
        patient_merge(keep=ivan, merge=twin, by=receptionist, reason="same")
        response = rita_client.get(f"/patients/{twin.pk}/")
        assert response.status_code == 302 and response.url == f"/patients/{ivan.pk}/"
        found = rita_client.get("/patients/", {"q": "Vanya"}).content.decode()
        assert f"/patients/{twin.pk}/" not in found

    def test_cards_of_two_branches_are_refused_when_each_branch_keeps_its_own(self, ivan, nina, clinic_admin):
        response = logged_in(clinic_admin).post(f"/patients/{ivan.pk}/merge/{nina.pk}/", {"reason": "same"})
        assert response.status_code == 422 and "each branch keeps its own patients" in response.content.decode()
        share_patients()
        assert logged_in(clinic_admin).post(f"/patients/{ivan.pk}/merge/{nina.pk}/",
                                            {"reason": "same"}).status_code == 302

    def test_staff_who_only_read_the_other_card_may_not_merge_it(self, rita_client, ivan, nina):
        share_patients()
        assert rita_client.post(f"/patients/{ivan.pk}/merge/{nina.pk}/", {"reason": "same"}).status_code == 403
        assert not PatientMerge.objects.exists()


class TestUndoOnTheCard:
    def test_a_manager_sees_undo_and_splits_the_cards_again(self, manager, ivan, twin, receptionist):
        record = patient_merge(keep=ivan, merge=twin, by=receptionist, reason="same")
        client = logged_in(manager)
        assert f"/patient-merges/{record.pk}/undo/" in client.get(f"/patients/{ivan.pk}/").content.decode()
        response = client.post(f"/patient-merges/{record.pk}/undo/")
        assert response.status_code == 302
        twin.refresh_from_db()
        assert twin.merged_into is None and twin.phones == ["+79030001122"]
        assert set(AccessLogEntry.objects.filter(target=f"merge:{record.pk}").values_list("patient_id", flat=True)) \
            == {ivan.pk, twin.pk}

    def test_a_receptionist_may_not_undo(self, rita_client, ivan, twin, receptionist):
        record = patient_merge(keep=ivan, merge=twin, by=receptionist, reason="same")
        assert rita_client.post(f"/patient-merges/{record.pk}/undo/").status_code == 403
        twin.refresh_from_db()
        assert twin.merged_into == ivan

    def test_a_blocked_undo_says_why(self, manager, ivan, twin, receptionist):
        record = patient_merge(keep=ivan, merge=twin, by=receptionist, reason="same")
        ivan.identities.filter(address="+79030001122").delete()
        response = logged_in(manager).post(f"/patient-merges/{record.pk}/undo/", follow=True)
        assert "were deleted or moved to another card since" in response.content.decode()


class TestMergeApi:
    def test_a_receptionists_token_merges(self, client, auth, ivan, twin):
        response = api_post(client, f"/api/v1/patients/{ivan.pk}/merge", {"merge_id": twin.pk, "reason": "same"},
                            auth)
        assert response.status_code == 201
        body = response.json()
        assert (body["kept_id"], body["merged_id"], body["undone_at"]) == (ivan.pk, twin.pk, None)
        assert body["moved"]["patients.patientidentity:patient"] == [twin.identities.model.objects.get(
            address="+79030001122").pk]

    def test_bad_input_names_the_field(self, client, auth, ivan, twin):
        response = api_post(client, f"/api/v1/patients/{ivan.pk}/merge", {"merge_id": ivan.pk, "reason": "x"}, auth)
        assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body", "merge_id"]
        response = api_post(client, f"/api/v1/patients/{ivan.pk}/merge", {"merge_id": twin.pk}, auth)
        assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body", "reason"]

    def test_only_a_manager_undoes(self, client, auth, bearer, manager, ivan, twin, receptionist):
        record = patient_merge(keep=ivan, merge=twin, by=receptionist, reason="same")
        assert api_post(client, f"/api/v1/patient-merges/{record.pk}/undo", {}, auth).status_code == 403
        response = api_post(client, f"/api/v1/patient-merges/{record.pk}/undo", {}, bearer(manager))
        assert response.status_code == 200 and response.json()["undone_at"]
        again = api_post(client, f"/api/v1/patient-merges/{record.pk}/undo", {}, bearer(manager))
        assert again.status_code == 422 and "undone already" in again.json()["detail"][0]["msg"]

    def test_undo_needs_the_patients_write_scope(self, client, manager, ivan, twin, receptionist):
        from clinicflow.accounts.models import ApiToken

        record = patient_merge(keep=ivan, merge=twin, by=receptionist, reason="same")
        _token, key = ApiToken.issue(user=manager, name="reader", scopes=["patients:read"])
        response = client.post(f"/api/v1/patient-merges/{record.pk}/undo", "{}", content_type="application/json",
                               HTTP_AUTHORIZATION=f"Bearer {key}")
        assert response.status_code == 403 and "patients:write" in response.json()["detail"]
