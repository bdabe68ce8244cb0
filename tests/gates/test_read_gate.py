"""The read gate: who reads and who changes which branch's patient data, in both sharing modes."""

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from clinicflow import gates
from clinicflow.accounts.models import Role
from clinicflow.clinic.models import ClinicSettings
from clinicflow.inbox.access import inquiries_at_work, inquiries_visible_to, inquiry_for_user
from clinicflow.inbox.services import InquiryDraft, inquiry_receive
from tests.conftest import make_staff


@pytest.fixture
def shared(db):
    settings = ClinicSettings.load()
    settings.patient_sharing = ClinicSettings.Sharing.SHARED
    settings.save()


def receive(branch, phone, text=""):
    return inquiry_receive(draft=InquiryDraft(channel="web", phone=phone, consent=True, branch_id=branch.pk,
                                              text=text))[0]


@pytest.fixture
def moscow_inquiry(moscow):
    return receive(moscow, "+79161234567", "Moscow asks")


@pytest.fixture
def nsk_inquiry(novosibirsk):
    return receive(novosibirsk, "+79237654321", "Novosibirsk asks")


@pytest.fixture
def marketer(moscow):
    return make_staff("mark", Role.MARKETER, [moscow])


@pytest.fixture
def officer(moscow):
    return make_staff("olga", Role.COMPLIANCE_OFFICER, [moscow])


class TestEachBranchSeesItsOwn:
    """The default: branches that are separate operators of personal data."""

    def test_a_receptionist_reads_and_changes_her_branch(self, receptionist, moscow_inquiry):
        assert inquiry_for_user(receptionist, moscow_inquiry.pk, write=True) == moscow_inquiry

    def test_another_branch_is_a_404_so_ids_reveal_nothing(self, receptionist, nsk_inquiry):
        with pytest.raises(Http404):
            inquiry_for_user(receptionist, nsk_inquiry.pk)

    def test_lists_show_only_her_branch(self, receptionist, moscow_inquiry, nsk_inquiry):
        assert list(inquiries_visible_to(receptionist)) == [moscow_inquiry]
        assert list(inquiries_at_work(receptionist)) == [moscow_inquiry]

    def test_a_clinic_admin_reads_and_changes_every_branch(self, clinic_admin, nsk_inquiry):
        assert inquiry_for_user(clinic_admin, nsk_inquiry.pk, write=True) == nsk_inquiry

    def test_the_mode_is_the_default(self, db):
        assert ClinicSettings.load().patient_sharing == ClinicSettings.Sharing.BRANCH


class TestPatientsSharedByAllBranches:
    def test_a_receptionist_reads_another_branchs_inquiry(self, shared, receptionist, nsk_inquiry):
        assert inquiry_for_user(receptionist, nsk_inquiry.pk) == nsk_inquiry
        assert gates.patient_for_user(receptionist, nsk_inquiry.patient_id) == nsk_inquiry.patient

    def test_but_changes_only_her_own_branchs(self, shared, receptionist, nsk_inquiry):
        with pytest.raises(PermissionDenied):
            inquiry_for_user(receptionist, nsk_inquiry.pk, write=True)

    def test_her_work_lists_stay_with_her_branch(self, shared, receptionist, moscow_inquiry, nsk_inquiry):
        assert set(inquiries_visible_to(receptionist)) == {moscow_inquiry, nsk_inquiry}
        assert list(inquiries_at_work(receptionist)) == [moscow_inquiry]


class TestRolesThatNeverSeePatients:
    @pytest.mark.parametrize("persona", ["marketer", "officer"])
    def test_they_read_no_patient_data_in_either_mode(self, request, persona, moscow_inquiry, shared):
        user = request.getfixturevalue(persona)
        assert not gates.reads_patients(user)
        assert not inquiries_visible_to(user).exists()
        assert not gates.patients_visible_to(user).exists()
        with pytest.raises(PermissionDenied):
            inquiry_for_user(user, moscow_inquiry.pk)
        with pytest.raises(PermissionDenied):
            gates.patient_for_user(user, moscow_inquiry.patient_id)

    @pytest.mark.parametrize("url", ["/queue/", "/cases/", "/tasks/", "/patients/", "/inquiries/new/"])
    def test_patient_pages_answer_403(self, client, marketer, moscow_inquiry, url):
        client.force_login(marketer)
        assert client.get(url).status_code == 403

    def test_the_marketer_lands_on_reports_and_the_officer_on_the_access_log(self, client, marketer, officer):
        client.force_login(marketer)
        assert client.get("/").url == "/reports/"
        client.force_login(officer)
        assert client.get("/").url == "/compliance/access-log/"

    def test_the_marketer_sees_counts_without_names(self, client, marketer, moscow_inquiry):
        client.force_login(marketer)
        response = client.get("/reports/")
        assert response.status_code == 200 and response.context["total"] == 1
        assert "Moscow asks" not in response.content.decode() and "+7 916" not in response.content.decode()

    def test_a_receptionist_may_not_open_reports_or_the_access_log(self, rita_client):
        assert rita_client.get("/reports/").status_code == 403
        assert rita_client.get("/compliance/access-log/").status_code == 403
