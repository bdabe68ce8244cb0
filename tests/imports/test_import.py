"""Spreadsheet import: any common CSV or an XLSX, mapped, previewed, then imported whole or not at all."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from openpyxl import Workbook

from clinicflow.accounts.models import Role
from clinicflow.automation.models import Job
from clinicflow.automation.worker import work_once
from clinicflow.compliance.models import AccessLogEntry, Consent
from clinicflow.imports import services
from clinicflow.imports.models import SpreadsheetImport
from clinicflow.inbox.models import Inquiry
from clinicflow.patients.models import Patient
from tests.conftest import make_staff

pytestmark = pytest.mark.django_db

HEADER_RU = ["ФИО", "Телефон", "E-mail", "Дата рождения", "Филиал", "Комментарий", "Согласие"]


def csv_file(rows: list[list[str]], *, delimiter=",", encoding="utf-8") -> bytes:
    text = io.StringIO()
    csv.writer(text, delimiter=delimiter).writerows(rows)
    return text.getvalue().encode(encoding)


def xlsx_file(rows: list[list]) -> bytes:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


@pytest.fixture
def maria_client(client, manager):
    client.force_login(manager)
    return client


def upload(client, content: bytes, name="patients.csv"):
    return client.post("/imports/", {"file": SimpleUploadedFile(name, content)})


def uploaded(client, content: bytes, name="patients.csv") -> SpreadsheetImport:
    response = upload(client, content, name)
    assert response.status_code == 302, response.content.decode()[:2000]
    return SpreadsheetImport.objects.get(pk=int(response.url.rstrip("/").rsplit("/", 1)[1]))


def run(client, spreadsheet_import):
    return client.post(f"/imports/{spreadsheet_import.pk}/run/", follow=True)


def moscow_rows(moscow) -> list[list[str]]:
    return [HEADER_RU,
            ["Иванова Анна Сергеевна", "8 (916) 555-01-01", "anna@example.org", "01.02.1980", moscow.name,
             "Хочет к кардиологу", "да"],
            ["Петров Олег", "+7 916 555-02-02", "", "", moscow.name, "", "да"]]


# --- reading files -------------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding, delimiter", [("utf-8", ","), ("utf-8-sig", ","), ("cp1251", ";"),
                                                 ("utf-8", "\t")])
def test_a_csv_in_any_common_encoding_and_delimiter_is_read_with_its_russian_columns_mapped(
        maria_client, moscow, encoding, delimiter):
    spreadsheet_import = uploaded(maria_client, csv_file(moscow_rows(moscow), delimiter=delimiter, encoding=encoding))
    assert spreadsheet_import.header == HEADER_RU
    assert spreadsheet_import.mapping == ["full_name", "phone", "email", "birth_date", "branch", "comment", "consent"]
    assert spreadsheet_import.rows[0] == [2, moscow_rows(moscow)[1]]


def test_an_xlsx_is_read_with_phones_typed_as_numbers_and_real_dates(maria_client, moscow):
    from datetime import datetime

    content = xlsx_file([["Фамилия", "Имя", "Телефон", "Дата рождения"],
                         ["Сидоров", "Пётр", 79165550303, datetime(1975, 5, 4)]])
    spreadsheet_import = uploaded(maria_client, content, "export.xlsx")
    assert spreadsheet_import.mapping == ["last_name", "first_name", "phone", "birth_date"]
    check = services.rows_check(spreadsheet_import=spreadsheet_import, user=spreadsheet_import.created_by)
    row = check.rows[0]
    assert (row.full_name, row.phones, row.birth_date, row.branch) == ("Сидоров Пётр", ["+79165550303"],
                                                                      "1975-05-04", moscow)


def test_a_file_that_is_no_table_is_refused_with_a_reason(maria_client):
    response = upload(maria_client, b"PK\x03\x04 not really a workbook", "broken.xlsx")
    assert response.status_code == 200
    assert "not a readable XLSX" in response.content.decode()
    assert "header line but no rows" in upload(maria_client, b"name,phone\n").content.decode()
    assert not SpreadsheetImport.objects.exists()


# --- the preview and the rules --------------------------------------------------------------------------


def test_the_preview_shows_what_each_line_becomes_and_every_refusal(maria_client, moscow, novosibirsk, ivan):
    rows = [["Name", "Phone", "Branch"],
            ["Ivan P.", "+7 916 123-45-67", moscow.name],  # Ivan is known: existing
            ["Anna", "8 916 555 01 01", moscow.name],
            ["Anna again", "+79165550101", moscow.name],  # the same person as the line above
            ["Bad phone", "12-34", moscow.name],
            ["Elsewhere", "+7 916 555 04 04", novosibirsk.name],  # Maria does not work there
            ["Nowhere", "+7 916 555 05 05", "Kazan"]]
    spreadsheet_import = uploaded(maria_client, csv_file(rows))
    page = maria_client.get(f"/imports/{spreadsheet_import.pk}/").content.decode()
    assert "existing patient: only empty fields are filled" in page
    assert "same person as line 3" in page
    assert "is not a valid phone number" in page
    assert f"You do not work for the branch “{novosibirsk.name}”." in page
    assert "No branch “Kazan”." in page
    assert "3 refused" in page


def test_the_importer_answers_the_consent_question_when_the_file_has_no_consent_column(maria_client, moscow):
    spreadsheet_import = uploaded(maria_client, csv_file([["Name", "Phone"], ["Anna", "+7 916 555 01 01"]]))
    assert "has no consent column" in run(maria_client, spreadsheet_import).content.decode()
    assert not Patient.objects.exists()
    maria_client.post(f"/imports/{spreadsheet_import.pk}/", {"columns": "2", "column_0": "full_name",
                                                             "column_1": "phone", "consent_declared": "on",
                                                             "default_branch": str(moscow.pk)})
    run(maria_client, spreadsheet_import)
    consent = Consent.objects.get(patient__full_name="Anna", purpose=Consent.Purpose.PROCESSING)
    assert consent.source == services.SOURCE_DECLARED and consent.is_valid


def test_a_line_whose_consent_column_says_no_is_refused(maria_client, moscow):
    rows = [["Name", "Phone", "Consent"], ["Yes", "+7 916 555 01 01", "да"], ["No", "+7 916 555 02 02", "нет"]]
    spreadsheet_import = uploaded(maria_client, csv_file(rows))
    run(maria_client, spreadsheet_import)
    assert list(Patient.objects.values_list("full_name", flat=True)) == ["Yes"]
    assert Consent.objects.get(purpose=Consent.Purpose.PROCESSING).source == services.SOURCE_FILE
    spreadsheet_import.refresh_from_db()
    assert spreadsheet_import.refused[0]["line"] == 3
    assert "consented" in spreadsheet_import.refused[0]["reason"]


# --- importing ---------------------------------------------------------------------------------------------


def test_importing_creates_patients_fills_only_the_blanks_of_known_ones_and_opens_leads(maria_client, moscow, ivan,
                                                                                      manager):
    rows = moscow_rows(moscow) + [["Someone Else", "+7 916 123-45-67", "ivan@example.org", "03.03.1970",
                                   moscow.name, "", "да"]]
    spreadsheet_import = uploaded(maria_client, csv_file(rows, delimiter=";", encoding="cp1251"))
    run(maria_client, spreadsheet_import)
    spreadsheet_import.refresh_from_db()
    assert spreadsheet_import.status == SpreadsheetImport.Status.DONE
    assert (spreadsheet_import.patients_created, spreadsheet_import.patients_updated,
            spreadsheet_import.leads_opened) == (2, 1, 1)
    assert spreadsheet_import.rows == [] and spreadsheet_import.plan == []  # the file's personal data is gone
    ivan.refresh_from_db()
    assert (ivan.full_name, ivan.email, str(ivan.birth_date)) == ("Ivan Petrov", "ivan@example.org", "1970-03-03")
    anna = Patient.objects.get(identities__address="+79165550101")
    assert (anna.full_name, anna.branch, str(anna.birth_date)) == ("Иванова Анна Сергеевна", moscow, "1980-02-01")
    lead = Inquiry.objects.get(patient=anna)
    assert lead.messages.get().body == "Хочет к кардиологу" and lead.created_by == manager
    assert anna.consents.get(purpose=Consent.Purpose.PROCESSING).source == services.SOURCE_FILE
    # A backlog lead does not escalate to the manager fifteen minutes later.
    assert not Job.objects.filter(idempotency_key=lead.escalation_key, state=Job.State.PENDING).exists()
    logged = AccessLogEntry.objects.filter(target=f"import:{spreadsheet_import.pk}", action="write")
    assert set(logged.values_list("patient_id", flat=True)) == set(Patient.objects.values_list("pk", flat=True))


def test_a_crash_in_the_middle_leaves_nothing_imported(maria_client, moscow, monkeypatch):
    real_write, written = services._row_write, []

    def crash_on_the_second_row(row, **kwargs):
        if written:
            raise RuntimeError("disk full")
        written.append(row)
        return real_write(row, **kwargs)

    monkeypatch.setattr(services, "_row_write", crash_on_the_second_row)
    spreadsheet_import = uploaded(maria_client, csv_file(moscow_rows(moscow)))
    maria_client.raise_request_exception = True
    with pytest.raises(RuntimeError):
        run(maria_client, spreadsheet_import)
    assert written and not Patient.objects.exists() and not Inquiry.objects.exists() and not Consent.objects.exists()
    spreadsheet_import.refresh_from_db()
    assert spreadsheet_import.status == SpreadsheetImport.Status.UPLOADED


def test_a_large_file_is_written_by_the_worker_in_batches_that_a_crash_repeats_but_never_doubles(
        maria_client, moscow, monkeypatch):
    monkeypatch.setattr(services, "BATCH_ROWS", 2)
    rows = [["Name", "Phone", "Comment"]] + [[f"P{i}", f"+7 916 555 10 {i:02d}", f"wish {i}"] for i in range(5)]
    spreadsheet_import = uploaded(maria_client, csv_file(rows))
    maria_client.post(f"/imports/{spreadsheet_import.pk}/", {
        "columns": "3", "column_0": "full_name", "column_1": "phone", "column_2": "comment",
        "default_branch": str(moscow.pk), "consent_declared": "on"})
    run(maria_client, spreadsheet_import)
    assert not Patient.objects.exists()  # planned, not written in the request
    progress = maria_client.get(f"/imports/{spreadsheet_import.pk}/", headers={"HX-Request": "true"})
    assert 'hx-trigger="every 2s"' in progress.content.decode() and "0 of 5 lines" in progress.content.decode()

    real_write, calls = services._row_write, []

    def crash_once_in_the_second_batch(row, **kwargs):
        calls.append(row["line"])
        if row["line"] == 5 and calls.count(5) == 1:
            raise RuntimeError("worker killed")
        return real_write(row, **kwargs)

    monkeypatch.setattr(services, "_row_write", crash_once_in_the_second_batch)
    work_once("test-worker")  # batch 1 written; batch 2 crashes and is put back with a backoff
    spreadsheet_import.refresh_from_db()
    assert spreadsheet_import.rows_done == 2 and Patient.objects.count() == 2
    assert "worker killed" in maria_client.get(f"/imports/{spreadsheet_import.pk}/").content.decode()
    Job.objects.filter(state=Job.State.PENDING).update(due_at=timezone.now())
    work_once("test-worker")
    spreadsheet_import.refresh_from_db()
    assert spreadsheet_import.status == SpreadsheetImport.Status.DONE
    assert Patient.objects.count() == 5 and Inquiry.objects.count() == 5
    # A batch job run again finds the counter past it and writes nothing.
    assert services.import_batch_write(spreadsheet_import_id=spreadsheet_import.pk, start=2) == "written already"
    assert Inquiry.objects.count() == 5


def test_uploading_the_same_file_again_imports_nothing_twice(maria_client, moscow):
    content = csv_file(moscow_rows(moscow))
    first = uploaded(maria_client, content)
    run(maria_client, first)
    response = upload(maria_client, content, "the same file.csv")
    assert response.url == f"/imports/{first.pk}/"
    assert SpreadsheetImport.objects.count() == 1
    assert "imported already" in run(maria_client, first).content.decode()
    assert Patient.objects.count() == 2 and Inquiry.objects.count() == 1


def test_the_refused_lines_download_as_csv_with_their_reasons_and_no_formulas(maria_client, moscow):
    rows = [["Name", "Phone"], ["=HYPERLINK(\"http://x\")", "+7 916 555 01 01"], ["Bob", "not a phone"]]
    spreadsheet_import = uploaded(maria_client, csv_file(rows))
    response = maria_client.get(f"/imports/{spreadsheet_import.pk}/refused.csv")
    lines = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert lines[0] == ["Line", "Reason", "Name", "Phone"]
    assert lines[1][0] == "3" and "not a valid phone number" in lines[1][1]
    assert len(lines) == 2  # the formula line has a valid phone: it is not refused (its name is just text)


# --- who may import ---------------------------------------------------------------------------------------


def test_receptionists_and_marketers_may_not_import(client, receptionist, moscow):
    client.force_login(receptionist)
    assert client.get("/imports/").status_code == 403
    client.force_login(make_staff("mark", Role.MARKETER, [moscow]))
    assert client.get("/imports/").status_code == 403


def test_visitors_are_sent_to_log_in(client):
    assert client.get("/imports/").url.startswith("/login/")


def test_another_managers_import_is_not_found_but_a_clinic_admin_sees_it(maria_client, client, moscow,
                                                                         novosibirsk, clinic_admin):
    spreadsheet_import = uploaded(maria_client, csv_file(moscow_rows(moscow)))
    other = make_staff("nadia", Role.FRONT_OFFICE_MANAGER, [novosibirsk])
    client.force_login(other)
    assert client.get(f"/imports/{spreadsheet_import.pk}/").status_code == 404
    assert client.post(f"/imports/{spreadsheet_import.pk}/run/").status_code == 404
    assert client.get(f"/imports/{spreadsheet_import.pk}/refused.csv").status_code == 404
    assert "patients.csv" not in client.get("/imports/").content.decode()
    client.force_login(clinic_admin)
    assert client.get(f"/imports/{spreadsheet_import.pk}/").status_code == 200


def test_a_mapping_may_not_choose_a_branch_the_importer_does_not_work_for(maria_client, moscow, novosibirsk):
    spreadsheet_import = uploaded(maria_client, csv_file([["Name", "Phone"], ["Anna", "+7 916 555 01 01"]]))
    response = maria_client.post(f"/imports/{spreadsheet_import.pk}/", {
        "columns": "2", "column_0": "full_name", "column_1": "phone", "default_branch": str(novosibirsk.pk),
        "consent_declared": "on"}, headers={"HX-Request": "true"})
    assert "You do not work for that branch." in response.content.decode()
    spreadsheet_import.refresh_from_db()
    assert spreadsheet_import.default_branch is None or spreadsheet_import.default_branch == moscow


# --- another branch's patients (review findings) -------------------------------------------------------


def declare_consent(client, spreadsheet_import, moscow, mapping):
    client.post(f"/imports/{spreadsheet_import.pk}/", {
        "columns": str(len(mapping)), **{f"column_{i}": field for i, field in enumerate(mapping)},
        "consent_declared": "on", "default_branch": str(moscow.pk)})


def test_a_line_with_another_branchs_patients_phone_is_refused_and_changes_nothing(maria_client, manager, moscow,
                                                                                  nina):
    """Nina is kept by Novosibirsk: a Moscow file naming her phone must not fill her card or her consents."""
    nina.consents.all().delete()
    rows = [["Name", "Phone", "E-mail"], ["Somebody", "+7 923 765-43-21", "somebody@example.org"],
            ["Петров Олег", "+7 916 555-02-02", ""]]
    spreadsheet_import = uploaded(maria_client, csv_file(rows))
    declare_consent(maria_client, spreadsheet_import, moscow, ["full_name", "phone", "email"])
    spreadsheet_import.refresh_from_db()
    refused = services.rows_check(spreadsheet_import=spreadsheet_import, user=manager).refused
    assert [r.line for r in refused] == [2] and "another branch" in refused[0].problems[0]
    run(maria_client, spreadsheet_import)
    nina.refresh_from_db()
    assert (nina.full_name, nina.email) == ("Nina Sokolova", "")
    assert not nina.consents.exists()
    assert Patient.objects.filter(full_name="Петров Олег").exists()


def test_a_known_patients_declared_consent_waits_and_never_undoes_a_withdrawal(maria_client, moscow, ivan):
    from clinicflow.compliance.services import consent_allows, consent_record, consent_withdraw

    for purpose in (Consent.Purpose.PROCESSING, Consent.Purpose.SERVICE):
        consent_record(patient=ivan, purpose=purpose, source="phone")
    consent_withdraw(patient=ivan, purpose=Consent.Purpose.PROCESSING, source="letter")
    rows = [["Name", "Phone"], ["Ivan Petrov", "+7 916 123-45-67"]]
    spreadsheet_import = uploaded(maria_client, csv_file(rows))
    declare_consent(maria_client, spreadsheet_import, moscow, ["full_name", "phone"])
    run(maria_client, spreadsheet_import)
    spreadsheet_import.refresh_from_db()
    assert spreadsheet_import.patients_updated == 1
    assert not consent_allows(ivan, Consent.Purpose.SERVICE, "sms")
    assert not ivan.consents.filter(withdrawn_at__isnull=True, confirmed_at__isnull=False,
                                    purpose=Consent.Purpose.PROCESSING).exists()


def test_the_refused_lines_report_quotes_a_formula_in_the_header(maria_client, moscow):
    rows = [["=HYPERLINK(\"http://evil\",\"x\")", "Phone"], ["Bob", "not a phone"]]
    spreadsheet_import = uploaded(maria_client, csv_file(rows))
    response = maria_client.get(f"/imports/{spreadsheet_import.pk}/refused.csv")
    header = next(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert header[2].startswith("'=")
