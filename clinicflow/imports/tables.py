"""Reading a spreadsheet (CSV in any common encoding and delimiter, or XLSX) into a header and rows of text.

Nothing here knows patients: it turns bytes into a `Table`, or raises `TableError` with a sentence for the
person who uploaded the file.
"""

import csv
import io
import zipfile
from dataclasses import dataclass
from datetime import date, datetime

from django.utils.translation import gettext as _

MAX_BYTES = 10 * 1024 * 1024
MAX_ROWS = 20_000
MAX_COLUMNS = 60
MAX_CELL = 4000  # the longest text any field takes (an inquiry message)
DELIMITERS = ",;\t|"


class TableError(ValueError):
    """The file cannot be read as a table; the message says why, for the person who uploaded it."""


@dataclass
class Table:
    header: list[str]
    # (line number as the spreadsheet shows it, cells); empty lines are left out but keep their numbers.
    rows: list[tuple[int, list[str]]]


def table_read(*, name: str, content: bytes) -> Table:
    if len(content) > MAX_BYTES:
        raise TableError(_("The file is larger than %(size)s MB.") % {"size": MAX_BYTES // (1024 * 1024)})
    if not content.strip():
        raise TableError(_("The file is empty."))
    # XLSX is a zip archive; test the content, not the name (a renamed file is common).
    if content[:4] == b"PK\x03\x04":
        lines = _xlsx_lines(content)
    elif name.lower().endswith((".xls", ".xlsx", ".xlsm", ".ods")):
        raise TableError(_("Only CSV and XLSX files can be read: save the sheet as XLSX or CSV and upload it again."))
    else:
        lines = _csv_lines(_decoded(content))
    return _table(lines)


def _decoded(content: bytes) -> str:
    """UTF-8 (with or without the BOM Excel writes), UTF-16 ("Unicode text"), else Windows-1251.

    Windows-1251 is what a Russian Excel writes for "CSV (comma delimited)"; almost no Windows-1251 text
    of any length is valid UTF-8, so trying UTF-8 first tells the two apart.
    """
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        return content.decode("utf-16")
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return content.decode("cp1251", errors="replace")


def _csv_lines(text: str) -> list[list[str]]:
    sample = "\n".join(text.splitlines()[:20])
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=DELIMITERS)
        delimiter = dialect.delimiter
    except csv.Error:
        # One column, or a sample the sniffer cannot decide: the commonest candidate in the first line.
        first = sample.splitlines()[0] if sample else ""
        delimiter = max(DELIMITERS, key=first.count)
    try:
        return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise TableError(_("The file is not a readable CSV table: %(error)s") % {"error": exc}) from None


def _xlsx_lines(content: bytes) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        # read_only streams the sheet instead of building every cell object; data_only gives formulas' values.
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise TableError(_("The file is not a readable XLSX workbook: %(error)s") % {"error": exc}) from None
    try:
        sheet = workbook.worksheets[0]
        lines = []
        for values in sheet.iter_rows(values_only=True):
            lines.append([_cell_text(value) for value in values[:MAX_COLUMNS]])
            if len(lines) > MAX_ROWS + 1:
                break
        return lines
    finally:
        workbook.close()


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        # A phone typed into a number cell comes back as 79161234567.0.
        return str(int(value))
    return str(value).strip()


def _table(lines: list[list[str]]) -> Table:
    numbered = [(number, [cell.strip()[:MAX_CELL] for cell in line])
                for number, line in enumerate(lines, start=1) if any(cell.strip() for cell in line)]
    if not numbered:
        raise TableError(_("The file has no rows."))
    (_number, header), rows = numbered[0], numbered[1:]
    if len(header) > MAX_COLUMNS:
        raise TableError(_("The file has more than %(count)s columns.") % {"count": MAX_COLUMNS})
    if not rows:
        raise TableError(_("The file has a header line but no rows under it."))
    if len(rows) > MAX_ROWS:
        raise TableError(_("The file has more than %(count)s rows: split it into several files.")
                         % {"count": MAX_ROWS})
    width = len(header)
    return Table(header=[cell or _("Column %(n)s") % {"n": i + 1} for i, cell in enumerate(header)],
                 rows=[(number, (cells + [""] * width)[:width]) for number, cells in rows])
