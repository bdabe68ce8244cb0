"""The access log: every read of a patient's data by a person or a token is a row, and the rows are chained."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from clinicflow.compliance.models import AccessLogEntry, AccessLogHead
from clinicflow.compliance.services import access_log_verify, access_record
from clinicflow.inbox.services import InquiryDraft, inquiry_receive
from tests.conftest import make_staff


@pytest.fixture
def officer(moscow):
    return make_staff("olga", "compliance_officer", [moscow])


@pytest.fixture
def receive(moscow):
    def receive(phone="+79161234567"):
        return inquiry_receive(draft=InquiryDraft(channel="web", phone=phone, consent=True, branch_id=moscow.pk))[0]

    return receive


def rows(**filters):
    return list(AccessLogEntry.objects.filter(**filters).order_by("seq"))


class TestWhatIsLogged:
    def test_opening_a_card_writes_who_what_when_and_from_where(self, rita_client, receptionist, ivan):
        rita_client.get(f"/patients/{ivan.pk}/", HTTP_USER_AGENT="Firefox/140", REMOTE_ADDR="192.0.2.5")
        [entry] = rows(patient_id=ivan.pk)
        assert (entry.user_id, entry.username, entry.roles, entry.action, entry.target) == (
            receptionist.pk, "rita", "receptionist", "read", f"patient:{ivan.pk}")
        assert (entry.ip_address, entry.user_agent, entry.token_id) == ("192.0.2.5", "Firefox/140", None)

    def test_an_api_read_names_the_token(self, client, auth, ivan):
        client.get(f"/api/v1/patients/{ivan.pk}", **auth)
        [entry] = rows(patient_id=ivan.pk)
        assert entry.token_id is not None and entry.username == "rita"

    def test_each_search_hit_is_a_row(self, rita_client, ivan, moscow):
        from clinicflow.patients.services import patient_resolve

        olga = patient_resolve(branch=moscow, phone="+79160000001", full_name="Olga Petrova")[0]
        rita_client.get("/patients/", {"q": "petrov"})
        assert {e.patient_id for e in rows(action="search")} == {ivan.pk, olga.pk}

    def test_opening_an_inquiry_or_changing_it_is_logged(self, rita_client, receive):
        inquiry = receive()
        rita_client.get(f"/inquiries/{inquiry.pk}/")
        rita_client.post(f"/inquiries/{inquiry.pk}/take/")
        assert [(e.action, e.target) for e in rows(patient_id=inquiry.patient_id)] == [
            ("read", f"inquiry:{inquiry.pk}"), ("write", f"inquiry:{inquiry.pk}")]

    def test_the_queue_logs_one_row_per_visit_and_nothing_per_refresh(self, rita_client, receive):
        receive()
        receive(phone="+79160000002")
        rita_client.get("/queue/")
        for _ in range(5):
            rita_client.get("/queue/", HTTP_HX_REQUEST="true")
        assert [(e.action, e.target, e.patient_id) for e in rows()] == [("list", "list:queue", None)]

    def test_a_refused_read_writes_nothing(self, client, outsider, ivan):
        client.force_login(outsider)
        assert client.get(f"/patients/{ivan.pk}/").status_code == 404
        assert rows() == []


class TestTheChain:
    @pytest.fixture
    def log(self, receptionist, ivan):
        for _ in range(5):
            access_record(user=receptionist, action="read", patient_ids=[ivan.pk], target="test")

    def test_an_intact_log_verifies(self, log):
        assert access_log_verify() == []
        call_command("audit_verify")

    def test_rows_cannot_be_changed_or_deleted_through_the_application(self, log):
        entry = AccessLogEntry.objects.get(seq=2)
        entry.target = "nothing to see"
        with pytest.raises(ValidationError):
            entry.save()
        with pytest.raises(ValidationError):
            entry.delete()

    def test_an_edited_row_is_found(self, log):
        AccessLogEntry.objects.filter(seq=3).update(username="someone else")
        assert access_log_verify() == ["row #3 was edited after it was written"]
        with pytest.raises(CommandError, match="tampered"):
            call_command("audit_verify")

    def test_an_edited_row_with_a_recomputed_hash_breaks_the_next_link(self, log):
        entry = AccessLogEntry.objects.get(seq=3)
        entry.username = "someone else"
        AccessLogEntry.objects.filter(seq=3).update(username=entry.username, hash=entry.compute_hash())
        assert access_log_verify() == ["row #4 does not follow the row before it (a row before it was edited or "
                                       "deleted)"]

    def test_a_deleted_row_is_found(self, log):
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {AccessLogEntry._meta.db_table} WHERE seq = 2")
        problems = access_log_verify()
        assert "rows #2–#2 are missing (deleted)" in problems

    def test_rows_cut_off_the_end_are_found(self, log):
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {AccessLogEntry._meta.db_table} WHERE seq >= 4")
        assert access_log_verify() == ["the log ends at #3 but #5 was written: rows were cut off the end (or the "
                                       "head was edited)"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_readers_keep_one_unbroken_chain(receptionist, ivan):
    if connection.vendor != "postgresql":
        pytest.skip("needs DATABASE_URL=postgresql://…: SQLite serialises writers anyway")
    AccessLogHead.objects.get_or_create(pk=1)

    def read_many():
        for _ in range(25):
            access_record(user=receptionist, action="read", patient_ids=[ivan.pk, ivan.pk], target="thread")
        connection.close()

    threads = [threading.Thread(target=read_many) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert AccessLogEntry.objects.count() == 200
    assert access_log_verify() == []


class TestTheComplianceScreen:
    def test_it_filters_by_patient_and_user(self, client, officer, rita_client, ivan, nina, clinic_admin):
        rita_client.get(f"/patients/{ivan.pk}/")
        client.force_login(clinic_admin)
        client.get(f"/patients/{nina.pk}/")
        client.force_login(officer)
        response = client.get("/compliance/access-log/", {"patient_id": ivan.pk})
        assert [e.username for e in response.context["entries"]] == ["rita"]
        response = client.get("/compliance/access-log/", {"username": "adam"})
        assert [e.patient_id for e in response.context["entries"]] == [nina.pk]

    def test_it_exports_csv_safe_for_spreadsheets(self, client, officer, receptionist, ivan):
        client.force_login(receptionist)
        client.get(f"/patients/{ivan.pk}/", HTTP_USER_AGENT="=HYPERLINK(\"http://x\")")
        client.force_login(officer)
        response = client.get("/compliance/access-log.csv")
        body = b"".join(response.streaming_content).decode()
        header, line = body.splitlines()[:2]
        assert header.startswith("seq,at,user_id,username")
        assert "'=HYPERLINK" in line and ",rita," in line

    @pytest.mark.parametrize("persona", ["receptionist", "manager", "clinic_admin"])
    def test_other_roles_may_not_read_the_log(self, request, db, client, persona):
        client.force_login(request.getfixturevalue(persona))
        assert client.get("/compliance/access-log/").status_code == 403
        assert client.get("/compliance/access-log.csv").status_code == 403


def test_the_clinicflow_command_runs_audit_verify(tmp_path):
    """`clinicflow audit-verify` in a fresh installation: an empty log is intact."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "CLINICFLOW_DATA_DIR": str(tmp_path), "DATABASE_URL": ""}
    subprocess.run([sys.executable, "-m", "clinicflow.cli", "manage", "migrate", "-v", "0"], env=env, check=True)
    result = subprocess.run([sys.executable, "-m", "clinicflow.cli", "audit-verify"], env=env,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "access log intact: 0 rows" in result.stdout
