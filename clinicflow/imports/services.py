"""Importing patients and open leads from a spreadsheet: upload, map, check every row, then write.

Every row is checked before anything is written; a row either comes in whole (patient, phones, consents,
its lead) or is refused with its reason in the report. Files of up to BATCH_ROWS accepted rows are written
in the request in one transaction; larger ones by the job engine, one transaction per batch of BATCH_ROWS,
each batch moving the progress counter in its own transaction so a crash repeats a batch, never half
of one, and never one twice (decision 0003).
"""

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from clinicflow import gates
from clinicflow.automation.services import job_cancel, job_plan
from clinicflow.clinic.models import Branch
from clinicflow.compliance.models import AccessLogEntry, Consent
from clinicflow.compliance.services import access_record, consent_record
from clinicflow.inbox.services import InquiryDraft, Received, inquiry_receive
from clinicflow.patients.models import Channel, Patient, PatientIdentity
from clinicflow.patients.phones import format_phone, normalize_phone
from clinicflow.patients.services import patient_add_identity, patient_resolve

from .models import Field, SpreadsheetImport
from .tables import table_read

BATCH_ROWS = 500
BATCH_JOB = "import.batch"
PREVIEW_ROWS = 20
# Consent sources: the file said so per row, or the importer declared the clinic holds the consents.
SOURCE_FILE, SOURCE_DECLARED = "import", "import-declared"
YES = frozenset({"1", "yes", "y", "true", "+", "x", "v", "✓", "да", "д", "х", "есть", "согласен", "согласна",
                 "согласие есть", "получено"})
NAME_PARTS = (Field.LAST_NAME, Field.FIRST_NAME, Field.MIDDLE_NAME)  # Russian order: Фамилия Имя Отчество
UTM = (Field.UTM_SOURCE, Field.UTM_MEDIUM, Field.UTM_CAMPAIGN, Field.UTM_TERM, Field.UTM_CONTENT)
DATE_FORMATS = ("%d.%m.%Y", "%Y-%m-%d", "%d/%m/%Y", "%d.%m.%y", "%Y-%m-%d %H:%M:%S")
PHONE_SEPARATORS = re.compile(r"[,;/\n]+")

# Header words (lower case) that name a field, in English and Russian, for the first guess of the mapping.
HEADER_WORDS = {
    Field.FULL_NAME: ("фио", "name", "full name", "пациент", "клиент", "ф.и.о.", "имя пациента"),
    Field.LAST_NAME: ("фамилия", "surname", "last name"),
    Field.FIRST_NAME: ("имя", "first name", "given name"),
    Field.MIDDLE_NAME: ("отчество", "patronymic", "middle name"),
    Field.PHONE: ("телефон", "phone", "тел", "тел.", "мобильный", "mobile", "phones", "телефоны"),
    Field.EMAIL: ("email", "e-mail", "почта", "эл. почта", "электронная почта", "mail"),
    Field.BIRTH_DATE: ("дата рождения", "birth date", "birthday", "date of birth", "др", "д.р."),
    Field.BRANCH: ("филиал", "branch", "клиника", "clinic"),
    Field.COMMENT: ("комментарий", "comment", "пожелание", "wish", "заявка", "примечание", "note", "notes"),
    Field.CONSENT: ("согласие", "consent", "согласие на обработку", "согласие на обработку пд"),
    **{utm: (utm.value, utm.value.replace("_", " ")) for utm in UTM},
}


# --- upload and mapping ---------------------------------------------------------------------------


def import_upload(*, user, name: str, content: bytes) -> tuple[SpreadsheetImport, bool]:
    """Read an uploaded file. Returns (import, created); the import of the same file when it was imported
    already or is waiting for this user, so one file is never written twice. TableError for unreadable files."""
    digest = hashlib.sha256(content).hexdigest()
    earlier = (SpreadsheetImport.objects.filter(file_sha256=digest, status__in=SpreadsheetImport.WRITTEN).first()
               or SpreadsheetImport.objects.filter(file_sha256=digest, created_by=user,
                                                   status=SpreadsheetImport.Status.UPLOADED).first())
    if earlier:
        return earlier, False
    table = table_read(name=name, content=content)
    branches = gates.branches_at_work(user)
    return SpreadsheetImport.objects.create(
        created_by=user, file_name=name[:255], file_sha256=digest, header=table.header,
        rows=[[line, cells] for line, cells in table.rows], mapping=mapping_guess(table.header),
        default_branch=branches.first() if branches.count() == 1 else None,
    ), True


def mapping_guess(header: list[str]) -> list[str]:
    """A field for each column whose title names one; each field once, phones as often as they come."""
    words = {word: name for name, all_words in HEADER_WORDS.items() for word in all_words}
    taken, guess = set(), []
    for title in header:
        name = words.get(" ".join(title.lower().replace("_", " ").split()).rstrip(":"), "")
        name = words.get(title.strip().lower(), name)  # utm_source spelt as it is
        if name in taken and name != Field.PHONE:
            name = ""
        taken.add(name)
        guess.append(name)
    return guess


def import_map(*, spreadsheet_import: SpreadsheetImport, user, mapping: list[str], default_branch_id: int | None,
               consent_declared: bool) -> SpreadsheetImport:
    """Save how the columns map and the answers of the form; ValidationError names what is missing."""
    if spreadsheet_import.status != SpreadsheetImport.Status.UPLOADED:
        raise ValidationError({"mapping": _("This file has been imported already.")})
    default_branch = gates.branch_for_user(user, default_branch_id) if default_branch_id else None
    if default_branch_id and default_branch is None:
        raise ValidationError({"default_branch": _("You do not work for that branch.")})
    spreadsheet_import.mapping = [m if m in Field.values else "" for m in mapping][:len(spreadsheet_import.header)]
    spreadsheet_import.default_branch = default_branch
    spreadsheet_import.consent_declared = consent_declared
    spreadsheet_import.save(update_fields=["mapping", "default_branch", "consent_declared"])
    return spreadsheet_import


def mapping_problems(spreadsheet_import: SpreadsheetImport) -> list[str]:
    """What keeps the whole file from being imported, whatever its rows say."""
    mapping, problems = spreadsheet_import.mapping, []
    if Field.PHONE not in mapping:
        problems.append(_("Choose the column with the phone number: patients are matched by phone."))
    repeated = sorted({Field(m).label for m in mapping if m and m != Field.PHONE and mapping.count(m) > 1})
    if repeated:
        problems.append(_("Each field may come from one column only: %(fields)s.") % {"fields": ", ".join(repeated)})
    if Field.BRANCH not in mapping and spreadsheet_import.default_branch_id is None:
        problems.append(_("Choose the branch for the patients of this file."))
    if Field.CONSENT not in mapping and not spreadsheet_import.consent_declared:
        problems.append(_("The file has no consent column: confirm that the clinic holds these people's consent "
                          "to the processing of their personal data, or add the column."))
    return problems


# --- checking every row ----------------------------------------------------------------------------


@dataclass
class RowCheck:
    """One line of the file: what it becomes, or why it is refused."""

    line: int
    cells: list[str]
    full_name: str = ""
    phones: list[str] = field(default_factory=list)
    email: str = ""
    birth_date: str = ""
    branch: Branch | None = None
    comment: str = ""
    utm: dict = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    existing: bool = False  # the phone belongs to a patient already
    same_as_line: int | None = None  # an earlier line of the file is the same person

    @property
    def refused(self) -> bool:
        return bool(self.problems)

    @property
    def display_phones(self) -> str:
        return ", ".join(format_phone(phone) for phone in self.phones)

    @property
    def becomes(self) -> str:
        if self.refused:
            return _("refused")
        who = (_("existing patient: only empty fields are filled") if self.existing else
               _("same person as line %(line)s") % {"line": self.same_as_line} if self.same_as_line else
               _("new patient"))
        return who + (_(" + open lead") if self.comment else "")

    def planned(self) -> dict:
        return {"line": self.line, "full_name": self.full_name, "phones": self.phones, "email": self.email,
                "birth_date": self.birth_date, "branch_id": self.branch.pk, "comment": self.comment, "utm": self.utm}


@dataclass
class Check:
    rows: list[RowCheck]

    @property
    def accepted(self) -> list[RowCheck]:
        return [row for row in self.rows if not row.refused]

    @property
    def refused(self) -> list[RowCheck]:
        return [row for row in self.rows if row.refused]

    def count(self, what: str) -> int:
        accepted = self.accepted
        return {"new": sum(1 for r in accepted if not r.existing and not r.same_as_line),
                "existing": sum(1 for r in accepted if r.existing),
                "merged": sum(1 for r in accepted if r.same_as_line and not r.existing),
                "leads": sum(1 for r in accepted if r.comment)}[what]


def rows_check(*, spreadsheet_import: SpreadsheetImport, user) -> Check:
    """Check every row against the mapping, the user's branches, the database and the rows above it."""
    mapping = spreadsheet_import.mapping
    branches = _branch_lookup()
    at_work = set(gates.branches_at_work(user).values_list("pk", flat=True))
    rows = [_row_read(line, cells, mapping, spreadsheet_import, branches, at_work)
            for line, cells in spreadsheet_import.rows]
    _match_people(rows, user)
    return Check(rows)


def _branch_lookup() -> dict[str, Branch]:
    found = {}
    for branch in Branch.objects.all():
        found[str(branch.pk)] = found[" ".join(branch.name.lower().split())] = branch
    return found


def _row_read(line: int, cells: list[str], mapping: list[str], spreadsheet_import: SpreadsheetImport,
              branches: dict[str, Branch], at_work: set[int]) -> RowCheck:
    values: dict[str, str] = {}
    phone_cells = []
    for name, cell in zip(mapping, cells, strict=False):
        if name == Field.PHONE:
            phone_cells.append(cell)
        elif name:
            values[name] = cell.strip()
    row = RowCheck(line=line, cells=cells, comment=values.get(Field.COMMENT, ""),
                   utm={name.value: values[name][:200] for name in UTM if values.get(name)})
    row.full_name = values.get(Field.FULL_NAME) or " ".join(values[p] for p in NAME_PARTS if values.get(p))
    if len(row.full_name) > 160:
        row.problems.append(_("The name is longer than 160 characters."))
    _read_phones(row, phone_cells)
    _read_email(row, values.get(Field.EMAIL, ""))
    _read_birth_date(row, values.get(Field.BIRTH_DATE, ""))
    _read_branch(row, values.get(Field.BRANCH, ""), spreadsheet_import.default_branch, branches, at_work)
    if Field.CONSENT in mapping and values.get(Field.CONSENT, "").lower() not in YES:
        row.problems.append(_("The file does not say this person consented to the processing of personal data."))
    return row


def _read_phones(row: RowCheck, phone_cells: list[str]) -> None:
    for raw in (part.strip() for cell in phone_cells for part in PHONE_SEPARATORS.split(cell)):
        if not raw:
            continue
        try:
            phone = normalize_phone(raw)
        except ValidationError as exc:
            row.problems.append(exc.messages[0])
            continue
        if phone not in row.phones:
            row.phones.append(phone)
    if not row.phones and not row.problems:
        row.problems.append(_("No phone number: patients are matched by phone."))


def _read_email(row: RowCheck, email: str) -> None:
    if not email:
        return
    try:
        validate_email(email)
        row.email = email
    except ValidationError:
        row.problems.append(_("“%(email)s” is not a valid e-mail address.") % {"email": email[:100]})


def _read_birth_date(row: RowCheck, text: str) -> None:
    if not text:
        return
    for fmt in DATE_FORMATS:
        try:
            value = datetime.strptime(text, fmt).date()
        except ValueError:
            continue
        if date(1900, 1, 1) <= value <= timezone.localdate():
            row.birth_date = value.isoformat()
            return
    row.problems.append(_("“%(date)s” is not a birth date (write it as 31.12.1980).") % {"date": text[:40]})


def _read_branch(row: RowCheck, name: str, default: Branch | None, branches: dict[str, Branch],
                 at_work: set[int]) -> None:
    branch = branches.get(" ".join(name.lower().split())) if name else default
    if branch is None:
        row.problems.append(_("No branch “%(name)s”.") % {"name": name[:80]} if name else
                            _("The row names no branch and none was chosen for the file."))
    elif branch.pk not in at_work:
        row.problems.append(_("You do not work for the branch “%(name)s”.") % {"name": branch.name})
    row.branch = branch


def _match_people(rows: list[RowCheck], user) -> None:
    """De-duplicate by phone: against stored patients and against the lines above.

    The phone that identifies the person goes first in `phones`, because that is the one the patient is
    found (or created) by when the row is written; the others are added to that patient.
    """
    owners = _stored_owners({phone for row in rows for phone in row.phones})
    # Only cards the importer's branches keep may be filled in; a file naming another branch's patient's phone
    # must not change that card (nor their consents), any more than a form could.
    changeable = set(gates.patients_changeable_by(user).filter(pk__in=set(owners.values()))
                     .values_list("pk", flat=True))
    first_line: dict[str, RowCheck] = {}
    for row in rows:
        if not row.phones:
            continue
        patients = {owners[p] for p in row.phones if p in owners}
        earlier = {first_line[p].line: first_line[p] for p in row.phones if p in first_line}
        if len(patients) > 1:
            row.problems.append(_("Its phones belong to different patients."))
        elif patients - changeable:
            row.problems.append(_("Its phone is on a card another branch keeps: record this person there."))
        elif len(earlier) > 1:
            row.problems.append(_("Its phones are on different people's lines: %(lines)s.")
                                % {"lines": ", ".join(str(n) for n in sorted(earlier))})
        if row.refused:
            continue
        key = next((p for p in row.phones if p in owners), None)
        if earlier:
            same = next(iter(earlier.values()))
            row.same_as_line = same.line
            key = key or same.phones[0]
        row.existing = bool(patients)
        if key:
            row.phones.sort(key=lambda phone: phone != key)
        for phone in row.phones:
            first_line.setdefault(phone, row)


def _stored_owners(phones: set[str]) -> dict[str, int]:
    owners, phones = {}, sorted(phones)
    for start in range(0, len(phones), 500):  # SQLite caps the number of query parameters
        owners.update(PatientIdentity.objects.filter(channel=Channel.PHONE, address__in=phones[start:start + 500])
                      .values_list("address", "patient_id"))
    return owners


# --- writing ---------------------------------------------------------------------------------------


def import_start(*, spreadsheet_import: SpreadsheetImport, user) -> SpreadsheetImport:
    """Check every row again (the database may have changed since the preview) and write the accepted ones.

    ValidationError when the mapping is incomplete, nothing is left to import, or the file is being or has
    been imported already.
    """
    problems = mapping_problems(spreadsheet_import)
    if problems:
        raise ValidationError({"mapping": problems})
    check = rows_check(spreadsheet_import=spreadsheet_import, user=user)
    if not check.accepted:
        raise ValidationError({"mapping": _("No row can be imported: see the reasons in the preview.")})
    started = SpreadsheetImport.Status.IMPORTING
    try:
        with transaction.atomic():
            claimed = SpreadsheetImport.objects.filter(pk=spreadsheet_import.pk,
                                                       status=SpreadsheetImport.Status.UPLOADED).update(
                status=started, plan=[row.planned() for row in check.accepted], rows_total=len(check.accepted),
                refused=refused_entries(check),
                started_at=timezone.now())
            if not claimed:
                raise ValidationError({"mapping": _("This file has been imported already.")})
            if len(check.accepted) <= BATCH_ROWS:
                import_batch_write(spreadsheet_import_id=spreadsheet_import.pk, start=0)
            else:
                _plan_batch(spreadsheet_import.pk, 0)
    except IntegrityError:
        # The same file went in under another upload a moment ago (import_file_written_once).
        raise ValidationError({"mapping": _("This file has been imported already.")}) from None
    spreadsheet_import.refresh_from_db()
    return spreadsheet_import


def _plan_batch(spreadsheet_import_id: int, start: int) -> None:
    job_plan(kind=BATCH_JOB, due_at=timezone.now(), key=f"import:{spreadsheet_import_id}:{start}",
             payload={"import_id": spreadsheet_import_id, "start": start})


def import_batch_write(*, spreadsheet_import_id: int, start: int) -> str:
    """Write the accepted rows from `start`, one batch, in one transaction with the progress counter.

    A batch whose start is not where the counter stands was written already (a job run twice): nothing.
    """
    with transaction.atomic():
        spreadsheet_import = SpreadsheetImport.objects.select_for_update().select_related("created_by").get(
            pk=spreadsheet_import_id)
        if spreadsheet_import.status != SpreadsheetImport.Status.IMPORTING or spreadsheet_import.rows_done != start:
            return "written already"
        rows = spreadsheet_import.plan[start:start + BATCH_ROWS]
        _rows_write(spreadsheet_import, rows)
        spreadsheet_import.rows_done = start + len(rows)
        # Only what changed: rewriting the file's rows with every batch would cost megabytes per batch.
        changed = ["rows_done", "patients_created", "patients_updated", "leads_opened"]
        if spreadsheet_import.rows_done >= len(spreadsheet_import.plan):
            # Done: the file's rows (personal data) go; the counts and the refused rows' report stay.
            spreadsheet_import.status = SpreadsheetImport.Status.DONE
            spreadsheet_import.finished_at = timezone.now()
            spreadsheet_import.plan, spreadsheet_import.rows = [], []
            changed += ["status", "finished_at", "plan", "rows"]
        else:
            _plan_batch(spreadsheet_import.pk, spreadsheet_import.rows_done)
        spreadsheet_import.save(update_fields=changed)
    return f"rows {start + 1}–{start + len(rows)}"


def _rows_write(spreadsheet_import: SpreadsheetImport, rows: list[dict]) -> None:
    user = spreadsheet_import.created_by
    source = SOURCE_FILE if Field.CONSENT in spreadsheet_import.mapping else SOURCE_DECLARED
    branches = {b.pk: b for b in Branch.objects.filter(pk__in={row["branch_id"] for row in rows})}
    touched = []
    for row in rows:
        patient, created, lead = _row_write(row, branch=branches[row["branch_id"]], user=user, source=source,
                                            spreadsheet_import=spreadsheet_import)
        spreadsheet_import.patients_created += created
        spreadsheet_import.patients_updated += not created
        spreadsheet_import.leads_opened += lead
        touched.append(patient.pk)
    access_record(user=user, action=AccessLogEntry.Action.WRITE, patient_ids=sorted(set(touched)),
                  target=f"import:{spreadsheet_import.pk}")


def _row_write(row: dict, *, branch: Branch, user, source: str,
               spreadsheet_import: SpreadsheetImport) -> tuple[Patient, bool, bool]:
    """One accepted row: the patient (found by phone, only empty fields filled), phones, consents, lead."""
    patient, created = patient_resolve(branch=branch, phone=row["phones"][0], full_name=row["full_name"],
                                       email=row["email"], fill_blanks=True)
    if row["birth_date"] and patient.birth_date is None:
        # patient_resolve fills text fields; the birth date follows the same rule: only when empty.
        Patient.objects.filter(pk=patient.pk, birth_date__isnull=True).update(birth_date=row["birth_date"])
    for phone in row["phones"][1:]:
        patient_add_identity(patient=patient, channel=Channel.PHONE, address=phone)
    evidence = {"source": source, "text_version": f"import:{spreadsheet_import.pk}"}
    for purpose in (Consent.Purpose.PROCESSING, Consent.Purpose.SERVICE):
        # A file's word counts for the people it brings; for a card already kept it waits for the person (it
        # must not confirm a pending consent or undo a withdrawal).
        consent_record(patient=patient, purpose=purpose, confirmed=created, **evidence)
    if not row["comment"]:
        return patient, created, False
    inquiry, received = inquiry_receive(created_by=user, draft=InquiryDraft(
        channel=Channel.PHONE, phone=row["phones"][0], full_name=row["full_name"], email=row["email"],
        text=row["comment"], consent=True, branch_id=branch.pk, utm=row["utm"],
        # The same line of the same file is one lead, however often the batch runs.
        external_id=f"import:{spreadsheet_import.file_sha256[:32]}:{row['line']}"))
    # A lead from a spreadsheet is a backlog to call through, not a contact waiting minutes for an answer:
    # escalating thousands of them to the manager fifteen minutes later would bury the real ones.
    job_cancel(key=inquiry.escalation_key)
    return patient, created, received == Received.CREATED


def refused_entries(check: Check) -> list[dict]:
    """What the report keeps of each refused line: its number, the reasons, and its cells to fix and re-upload."""
    return [{"line": row.line, "reason": " ".join(row.problems), "cells": row.cells} for row in check.refused]


def refused_report_rows(*, header: list[str], refused: list[dict]) -> list[list[str]]:
    """The refused lines as the CSV report has them: line, reason, then the line's own cells."""
    return [[_("Line"), _("Reason"), *map(_csv_safe, header)],
            *([str(r["line"]), r["reason"], *map(_csv_safe, r["cells"])] for r in refused)]


def _csv_safe(value: str) -> str:
    # A cell such as "=HYPERLINK(...)" would run as a formula when the report is opened in a spreadsheet;
    # a phone such as "+7 916 ..." is left as it is.
    phone_like = re.fullmatch(r"[+\-\d\s()]+", value)
    if value.startswith(("=", "@", "\t", "\r")) or (value.startswith(("+", "-")) and not phone_like):
        return "'" + value
    return value

