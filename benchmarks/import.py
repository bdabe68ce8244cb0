"""Benchmark of the spreadsheet import with a 10,000-line file, on PostgreSQL or SQLite.

    .venv/bin/python benchmarks/import.py [--tiny] [--rows 10000] [--database-url URL] [--keep]

Creates its own database (the same way as benchmarks/queue.py, whose helpers it uses), a branch, a
front-office manager and the patients a tenth of the file's lines already belong to; then writes a CSV
(Windows-1251, ';') the way a Russian Excel exports it: a third of the lines with a wish (open leads), one
in twenty a repeated person, one in fifty a bad phone. It times what the importer waits for: reading the
upload, the preview (every line checked), and the import itself through the job engine's batches, with
the peak Python memory of each step (tracemalloc) and the process's peak resident size.
Exits 1 when the import's counts are not what the file holds (a line lost, a patient or a lead twice).

--tiny (what CI runs) takes the same steps with 600 lines (two batches), in seconds.
"""

import argparse
import csv
import importlib.util
import io
import random
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Run as a script, this folder would come first on sys.path, and its queue.py would shadow the standard
# library's `queue` (which Django imports). Put the project root there instead.
sys.path[0] = str(ROOT)

SIZES = {"full": 10_000, "tiny": 600}


def queue_benchmark():
    """benchmarks/queue.py, for its database helpers (create and drop a database of the run's own)."""
    spec = importlib.util.spec_from_file_location("queue_benchmark", ROOT / "benchmarks" / "queue.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def parse_args(default_url: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tiny", action="store_true", help=f"the CI size: {SIZES['tiny']} lines")
    parser.add_argument("--rows", type=int, help=f"lines in the file (default {SIZES['full']:,})")
    parser.add_argument("--database-url", default=default_url,
                        help="PostgreSQL URL, or sqlite:// for SQLite in a temporary folder")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--seed", type=int, default=9)
    return parser.parse_args()


def the_file(rows: int, known_phones: list[str], rng: random.Random) -> tuple[bytes, dict]:
    """The CSV and what importing it must give."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(["ФИО", "Телефон", "E-mail", "Дата рождения", "Комментарий", "utm_source"])
    expected = {"new": 0, "known": 0, "leads": 0, "refused": 0}
    written_phones: list[str] = []
    with_lead: set[str] = set()
    for i in range(rows):
        comment = f"Хочет записаться, строка {i}" if i % 3 == 0 else ""
        if i % 50 == 7:
            phone, expected["refused"] = "12-34", expected["refused"] + 1
            comment = ""
        elif i % 20 == 11 and written_phones:
            phone = rng.choice(written_phones)  # the same person again, further down
            expected["known"] += 1
        elif i % 10 == 3 and known_phones:
            phone = known_phones.pop()
            expected["known"] += 1
        else:
            phone = f"8 (915) {i // 10_000:03d}-{i % 10_000 // 100:02d}-{i % 100:02d}"
            written_phones.append(phone)
            expected["new"] += 1
        if comment and phone not in with_lead:
            # A second comment for someone whose lead still waits joins that lead (one conversation per person).
            expected["leads"] += 1
            with_lead.add(phone)
        writer.writerow([f"Пациент Номер {i}", phone, f"p{i}@example.org" if i % 4 == 0 else "",
                         "01.02.1980" if i % 5 == 0 else "", comment, "yandex" if comment else ""])
    return out.getvalue().encode("cp1251"), expected


def seed(known: int):
    from django.contrib.auth.models import Group, User

    from clinicflow.accounts.models import Role, StaffMember
    from clinicflow.clinic.models import Branch
    from clinicflow.patients.services import patient_resolve

    branch = Branch.objects.create(name="Moscow", time_zone="Europe/Moscow")
    manager = User.objects.create_user("maria", password="bench")
    manager.groups.add(Group.objects.get(name=Role.FRONT_OFFICE_MANAGER))
    StaffMember.objects.create(user=manager).branches.set([branch])
    phones = [f"+7 917 {i // 10_000:03d}-{i % 10_000 // 100:02d}-{i % 100:02d}" for i in range(known)]
    for i, phone in enumerate(phones):
        patient_resolve(branch=branch, phone=phone, full_name=f"Known {i}")
    return branch, manager, phones


def timed(step: str, results: list, function):
    """Seconds of one step, and the process's peak resident size after it (tracemalloc would slow the ORM
    down several times and distort the seconds, so memory is read from the kernel instead)."""
    started = time.perf_counter()
    value = function()
    seconds = time.perf_counter() - started
    results.append((step, seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))
    return value


def run(args, rng: random.Random) -> int:
    from clinicflow.automation.worker import work_once
    from clinicflow.imports.models import SpreadsheetImport
    from clinicflow.imports.services import import_map, import_start, import_upload, rows_check
    from clinicflow.inbox.models import Inquiry
    from clinicflow.patients.models import Patient

    rows = args.rows or SIZES["tiny" if args.tiny else "full"]
    branch, manager, known = seed(rows // 10)
    content, expected = the_file(rows, list(known), rng)
    results: list = []
    spreadsheet_import, _created = timed("read the upload", results, lambda: import_upload(
        user=manager, name="export.csv", content=content))
    import_map(spreadsheet_import=spreadsheet_import, user=manager, mapping=spreadsheet_import.mapping,
               default_branch_id=branch.pk, consent_declared=True)
    check = timed("preview (check every line)", results, lambda: rows_check(
        spreadsheet_import=spreadsheet_import, user=manager))
    patients_before = Patient.objects.count()

    def import_all():
        import_start(spreadsheet_import=spreadsheet_import, user=manager)
        while work_once("bench-worker"):
            pass

    timed("import (all batches)", results, import_all)
    spreadsheet_import.refresh_from_db()
    found = {"new": Patient.objects.count() - patients_before, "known": spreadsheet_import.patients_updated,
             "leads": Inquiry.objects.count(), "refused": len(spreadsheet_import.refused)}
    print(f"\nSpreadsheet import of {rows:,} lines ({len(content) / 2**20:.1f} MB CSV), {database()}")
    print(f"{'step':<30} {'seconds':>8} {'peak RSS MB':>12}")
    for step, seconds, peak in results:
        print(f"{step:<30} {seconds:>8.2f} {peak:>12.0f}")
    print(f"{'lines per second (import)':<30} {rows / results[-1][1]:>8.0f}")
    print(f"expected {expected}\nfound    {found}")
    wrong = (found != expected or spreadsheet_import.status != SpreadsheetImport.Status.DONE
             or len(check.refused) != expected["refused"])
    print("FAILED: the import's counts differ from the file" if wrong else "OK: every line imported once or refused")
    return 1 if wrong else 0


def database() -> str:
    from django.db import connection

    return "PostgreSQL" if connection.vendor == "postgresql" else "SQLite (WAL, as embedded)"


def main() -> int:
    helpers = queue_benchmark()
    args = parse_args(helpers.DEFAULT_URL.replace("clinicflow_bench", "clinicflow_import_bench"))
    url = helpers.benchmark_database_url(args.database_url)
    helpers.recreate_database(url)
    data_dir = tempfile.mkdtemp(prefix="clinicflow-import-bench-")
    try:
        helpers.start_django(url, data_dir)
        return run(args, random.Random(args.seed))
    finally:
        if not args.keep:
            helpers.drop_database(url)
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
