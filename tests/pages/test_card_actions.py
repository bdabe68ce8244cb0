"""Acting from the patient card: edit contacts, add a note, add a task; each behind the gate."""

from datetime import date, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from clinicflow.accounts.models import Role
from clinicflow.compliance.models import AccessLogEntry
from clinicflow.patients.models import PatientNote
from clinicflow.patients.services import patient_resolve
from clinicflow.tasks.models import Task
from tests.conftest import make_staff

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def contacts(**changes) -> dict:
    return {"full_name": "Ivan Petrov", "phones": ["+7 916 123-45-67"], "email": "", "birth_date": "",
            "preferred_channel": "phone", "language": "ru", **changes}


def due_tomorrow() -> str:
    return (timezone.now() + timedelta(days=1)).strftime("%Y-%m-%dT10:00")


class TestEditContacts:
    def test_it_changes_the_contacts_and_notes_the_fields_not_the_values(self, rita_client, ivan):
        response = rita_client.post(f"/patients/{ivan.pk}/contacts/", contacts(
            full_name="Ivan Sergeevich Petrov", email="ivan@example.org", birth_date="1980-05-17",
            preferred_channel="telegram", language="en"), **HTMX)
        assert response.status_code == 200
        assert "Contacts saved." in response.content.decode()
        ivan.refresh_from_db()
        assert (ivan.full_name, ivan.email, ivan.birth_date, ivan.preferred_channel, ivan.language) == (
            "Ivan Sergeevich Petrov", "ivan@example.org", date(1980, 5, 17), "telegram", "en")
        note = PatientNote.objects.get(patient=ivan)
        assert note.body == "Contacts changed: full name, e-mail, birth date, preferred channel, language"
        assert "ivan@example.org" not in note.body and note.branch == ivan.branch

    def test_it_writes_a_write_row_to_the_access_log(self, rita_client, ivan):
        rita_client.post(f"/patients/{ivan.pk}/contacts/", contacts(email="ivan@example.org"))
        entry = AccessLogEntry.objects.order_by("-id").first()
        assert entry.action == AccessLogEntry.Action.WRITE and entry.target == f"patient:{ivan.pk}"

    def test_it_adds_and_removes_phones_in_any_spelling(self, rita_client, ivan):
        rita_client.post(f"/patients/{ivan.pk}/contacts/", contacts(phones=["8 (903) 555-01-01", ""]))
        assert ivan.phones == ["+79035550101"]
        assert PatientNote.objects.get(patient=ivan).body == "Contacts changed: phones"

    def test_saving_unchanged_contacts_writes_no_note(self, rita_client, ivan):
        rita_client.post(f"/patients/{ivan.pk}/contacts/", contacts())
        assert not PatientNote.objects.exists()

    def test_a_bad_phone_is_refused_and_nothing_changes(self, rita_client, ivan):
        response = rita_client.post(f"/patients/{ivan.pk}/contacts/", contacts(full_name="Changed",
                                                                               phones=["12345"]), **HTMX)
        assert "is not a valid phone number" in response.content.decode()
        ivan.refresh_from_db()
        assert ivan.full_name == "Ivan Petrov" and ivan.phones == ["+79161234567"]

    def test_the_phone_of_another_patient_is_a_clear_error(self, rita_client, ivan, moscow):
        other, _created = patient_resolve(branch=moscow, phone="+7 903 555-02-02", full_name="Olga Ivanova")
        response = rita_client.post(f"/patients/{ivan.pk}/contacts/", contacts(
            phones=["+7 916 123-45-67", "8 903 555 02 02"]), **HTMX)
        content = response.content.decode()
        assert "belongs to another patient" in content and "Olga" not in content
        assert ivan.phones == ["+79161234567"] and other.phones == ["+79035550202"]

    def test_a_card_keeps_at_least_one_phone(self, rita_client, ivan):
        response = rita_client.post(f"/patients/{ivan.pk}/contacts/", contacts(phones=[""]), **HTMX)
        assert "Keep at least one phone" in response.content.decode()
        assert ivan.phones == ["+79161234567"]

    def test_a_bad_email_and_a_future_birth_date_are_refused(self, rita_client, ivan):
        content = rita_client.post(f"/patients/{ivan.pk}/contacts/", contacts(email="not-an-address"),
                                   **HTMX).content.decode()
        assert "Enter a valid email address." in content
        future = (timezone.localdate() + timedelta(days=3)).isoformat()
        content = rita_client.post(f"/patients/{ivan.pk}/contacts/", contacts(birth_date=future),
                                   **HTMX).content.decode()
        assert "cannot be in the future" in content
        ivan.refresh_from_db()
        assert ivan.email == "" and ivan.birth_date is None

    def test_without_htmx_it_returns_to_the_card_with_the_error(self, rita_client, ivan):
        response = rita_client.post(f"/patients/{ivan.pk}/contacts/", contacts(phones=["12345"]), follow=True)
        assert response.redirect_chain == [(f"/patients/{ivan.pk}/", 302)]
        assert "is not a valid phone number" in response.content.decode()

    def test_another_branch_gets_404(self, outsider, ivan):
        response = logged_in(outsider).post(f"/patients/{ivan.pk}/contacts/", contacts(full_name="Changed"))
        assert response.status_code == 404
        ivan.refresh_from_db()
        assert ivan.full_name == "Ivan Petrov"

    def test_a_marketer_gets_403(self, moscow, ivan):
        marketer = make_staff("mark", Role.MARKETER, [moscow])
        assert logged_in(marketer).post(f"/patients/{ivan.pk}/contacts/", contacts()).status_code == 403


class TestNotes:
    def test_a_note_is_added_at_the_writers_branch(self, rita_client, receptionist, ivan):
        response = rita_client.post(f"/patients/{ivan.pk}/notes/", {"body": "Prefers calls after 18:00"}, **HTMX)
        assert "Prefers calls after 18:00" in response.content.decode()
        note = PatientNote.objects.get()
        assert (note.author, note.branch, note.patient) == (receptionist, ivan.branch, ivan)
        assert "Prefers calls after 18:00" in rita_client.get(f"/patients/{ivan.pk}/").content.decode()

    def test_an_empty_note_is_refused(self, rita_client, ivan):
        response = rita_client.post(f"/patients/{ivan.pk}/notes/", {"body": "   "}, **HTMX)
        assert "Write the note first." in response.content.decode()
        assert not PatientNote.objects.exists()

    def test_another_branch_never_reads_a_note(self, rita_client, ivan, novosibirsk):
        rita_client.post(f"/patients/{ivan.pk}/notes/", {"body": "Moscow's own remark"})
        # Ivan also deals with Novosibirsk now, so its receptionist opens his card, but not Moscow's note.
        oleg = make_staff("oleg", Role.RECEPTIONIST, [novosibirsk])
        Task.objects.create(title="Call back", branch=novosibirsk, patient=ivan, role=Role.RECEPTIONIST,
                            due_at=timezone.now())
        response = logged_in(oleg).get(f"/patients/{ivan.pk}/")
        assert response.status_code == 200 and "Moscow's own remark" not in response.content.decode()

    def test_another_branch_gets_404(self, outsider, ivan):
        assert logged_in(outsider).post(f"/patients/{ivan.pk}/notes/", {"body": "x"}).status_code == 404
        assert not PatientNote.objects.exists()

    def test_a_marketer_gets_403(self, moscow, ivan):
        marketer = make_staff("mark", Role.MARKETER, [moscow])
        assert logged_in(marketer).post(f"/patients/{ivan.pk}/notes/", {"body": "x"}).status_code == 403


class TestTasksFromTheCard:
    def test_a_call_back_is_created_for_me_at_the_branchs_local_time(self, rita_client, receptionist, ivan):
        response = rita_client.post(f"/patients/{ivan.pk}/tasks/", {
            "title": "Call back", "kind": "callback", "due_at": "2030-03-01T10:00", "owner": "me"}, **HTMX)
        assert response.status_code == 200
        task = Task.objects.get()
        assert (task.patient, task.assignee, task.branch, task.kind) == (ivan, receptionist, ivan.branch, "callback")
        assert task.due_at.isoformat() == "2030-03-01T07:00:00+00:00"  # 10:00 in Moscow

    def test_a_task_goes_to_a_colleague_or_a_role(self, rita_client, manager, ivan):
        rita_client.post(f"/patients/{ivan.pk}/tasks/", {"title": "Follow up", "due_at": due_tomorrow(),
                                                         "owner": f"user:{manager.pk}"})
        rita_client.post(f"/patients/{ivan.pk}/tasks/", {"title": "Confirm", "due_at": due_tomorrow(),
                                                         "owner": "role:front_office_manager"})
        assert {(t.title, t.assignee, t.role) for t in Task.objects.all()} == {
            ("Follow up", manager, ""), ("Confirm", None, Role.FRONT_OFFICE_MANAGER)}

    def test_a_colleague_of_another_branch_is_refused(self, rita_client, outsider, ivan):
        response = rita_client.post(f"/patients/{ivan.pk}/tasks/", {
            "title": "Call back", "due_at": due_tomorrow(), "owner": f"user:{outsider.pk}"}, **HTMX)
        assert "does not work with patients at" in response.content.decode()
        assert not Task.objects.exists()

    def test_a_task_needs_a_due_time_and_a_title(self, rita_client, ivan):
        content = rita_client.post(f"/patients/{ivan.pk}/tasks/", {"title": "Call back", "owner": "me"},
                                   **HTMX).content.decode()
        assert "Give the date and time the task is due." in content
        content = rita_client.post(f"/patients/{ivan.pk}/tasks/", {"title": " ", "owner": "me",
                                                                   "due_at": due_tomorrow()}, **HTMX).content.decode()
        assert "This field cannot be blank." in content
        assert not Task.objects.exists()

    def test_another_branch_gets_404(self, outsider, ivan):
        response = logged_in(outsider).post(f"/patients/{ivan.pk}/tasks/", {
            "title": "x", "due_at": due_tomorrow(), "owner": "me"})
        assert response.status_code == 404 and not Task.objects.exists()


class TestCardLinks:
    def test_it_links_the_waiting_inquiry_the_open_case_and_booking(self, rita_client, ivan, moscow):
        from clinicflow.inbox.services import InquiryDraft, inquiry_receive

        inquiry, _created = inquiry_receive(draft=InquiryDraft(channel="web", phone="+79161234567", consent=True,
                                                               branch_id=moscow.pk, text="Need a cardiologist"))
        content = rita_client.get(f"/patients/{ivan.pk}/").content.decode()
        assert f'href="/inquiries/{inquiry.pk}/"' in content
        assert f"Open case #{inquiry.case_id}" in content and "Waiting inquiry via Website" in content
        assert f'href="/schedule/?patient={ivan.pk}&amp;case={inquiry.case_id}"' in content

    def test_a_reader_who_works_at_no_branch_sees_no_forms_and_cannot_write(self, ivan, db):
        roving = make_staff("rover", Role.RECEPTIONIST, [])
        from clinicflow.clinic.models import ClinicSettings

        settings = ClinicSettings.load()
        settings.patient_sharing = ClinicSettings.Sharing.SHARED
        settings.save()
        client = logged_in(roving)
        assert 'id="card-note-form"' not in client.get(f"/patients/{ivan.pk}/").content.decode()
        assert client.post(f"/patients/{ivan.pk}/notes/", {"body": "x"}).status_code == 403


class TestAnotherBranchThatOnlyReadsThePatient:
    """Review finding: a branch that reads a patient (shared mode, or an inquiry there) must not rewrite the
    person's contacts or consents; it keeps its own notes and tasks and may record a withdrawal."""

    @pytest.fixture
    def oleg(self, outsider, nina, moscow):
        from clinicflow.clinic.models import ClinicSettings

        settings = ClinicSettings.load()
        settings.patient_sharing = ClinicSettings.Sharing.SHARED
        settings.save()
        return logged_in(outsider)

    @pytest.fixture
    def ivans_card(self, ivan):
        return f"/patients/{ivan.pk}"

    def test_it_reads_the_card(self, oleg, ivans_card):
        assert oleg.get(f"{ivans_card}/").status_code == 200

    def test_it_may_not_change_the_contacts(self, oleg, ivan, ivans_card):
        response = oleg.post(f"{ivans_card}/contacts/", contacts(full_name="Changed", phones=["+7 999 000-00-01"]))
        assert response.status_code == 403
        ivan.refresh_from_db()
        assert (ivan.full_name, ivan.phones) == ("Ivan Petrov", ["+79161234567"])

    def test_it_may_not_give_or_confirm_consents_but_records_a_withdrawal(self, oleg, ivan, ivans_card):
        from clinicflow.compliance.services import consent_record

        assert oleg.post(f"{ivans_card}/consents/", {"purpose": "marketing", "action": "give"}).status_code == 403
        assert not ivan.consents.filter(purpose="marketing").exists()
        consent_record(patient=ivan, purpose="marketing", source="phone")
        assert oleg.post(f"{ivans_card}/consents/", {"purpose": "marketing", "action": "withdraw"}).status_code == 302
        assert ivan.consents.get(purpose="marketing").withdrawn_at is not None

    def test_it_keeps_its_own_notes_about_the_patient(self, oleg, ivan, ivans_card, novosibirsk):
        oleg.post(f"{ivans_card}/notes/", {"body": "Called from Novosibirsk"}, **HTMX)
        assert PatientNote.objects.get(patient=ivan).branch == novosibirsk
