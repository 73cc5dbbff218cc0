"""Indicator tables as files: CSV for Excel France (UTF-8 with BOM, `;` between values, a
decimal comma) and XLSX (openpyxl: numbers stay numbers, "< 5" and "—" are text).

Each table is written as a block: its title, the period, the masking note, a blank line, the
header row and the rows exactly as `Table.shown_rows(masked)` gives them (the total last). A
section export writes the blocks of every table one after the other (CSV) or one sheet per
table (XLSX). `write_table` is also what the yearly ACI workbook uses."""

from __future__ import annotations

import csv
import datetime
import io
import re
from dataclasses import dataclass

from django.utils import timezone
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from accesmt.common.formats import long_date, short_date

from ..periods import Period
from ..tables import Table

MASKED_NOTE = (
    "Effectifs de 1 à 4 affichés « < 5 » ; taux, durées et évolutions calculés sur si peu "
    "masqués (« — ») : ils pourraient désigner une personne."
)
UNMASKED_NOTE = (
    "Document de la coordination : les petits effectifs ne sont pas masqués ; ne pas diffuser "
    "hors de la coordination."
)
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_TYPE = "text/csv; charset=utf-8"
BOLD = Font(bold=True)
TITLE = Font(bold=True, size=13)
MUTED = Font(italic=True, color="555555")


def masking_note(masked: bool) -> str:
    return MASKED_NOTE if masked else UNMASKED_NOTE


def is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def produced_on() -> str:
    return f"Produit le {long_date(timezone.localdate())}"


# --- CSV -------------------------------------------------------------------------------------


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_value(value) -> str:
    """A shown value for Excel France: 12,5 (decimal comma), integers plain, dates 02/12/2026,
    text as is — except that a text a spreadsheet would take for a formula ("=…", "+…", typed
    by anyone in a public form) is quoted with a leading apostrophe."""
    if value is None:
        return ""
    if isinstance(value, float):
        text = f"{value:.2f}".rstrip("0").rstrip(".")
        return text.replace(".", ",")
    if isinstance(value, datetime.date):
        return short_date(value)
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def _csv_block(writer, table: Table, period: Period, masked: bool) -> None:
    writer.writerow([table.title])
    writer.writerow([f"Période : {period.label}"])
    writer.writerow([masking_note(masked)])
    writer.writerow([])
    writer.writerow(table.columns)
    for row in table.shown_rows(masked):
        writer.writerow([csv_value(value) for value in row])


def tables_csv(tables: list[Table], period: Period, *, masked: bool) -> bytes:
    """One or several tables as one CSV file (blocks separated by a blank line)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    for index, table in enumerate(tables):
        if index:
            writer.writerow([])
        _csv_block(writer, table, period, masked)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def rows_csv(columns: list[str], rows: list[list]) -> bytes:
    """Plain rows (the person exports) with one header row, for Excel France."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([csv_value(value) for value in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


# --- XLSX ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Placed:
    """Where `write_table` put a table on its sheet (1-based rows and columns): the header row,
    the first and last data rows (total excluded), the first column."""

    header_row: int
    first_row: int
    last_row: int
    column: int
    next_row: int


def _put(sheet: Worksheet, row: int, column: int, value, *, font=None):
    cell = sheet.cell(row=row, column=column, value=value)
    if is_number(value):
        cell.number_format = "0" if isinstance(value, int) else "0.0"
    elif isinstance(value, datetime.datetime):
        cell.number_format = "DD/MM/YYYY HH:MM"
    elif isinstance(value, datetime.date):
        cell.number_format = "DD/MM/YYYY"
    elif isinstance(value, str) and value.startswith("="):
        cell.data_type = "s"  # a label is never a formula
    if font is not None:
        cell.font = font
    return cell


def write_table(
    sheet: Worksheet,
    table: Table,
    *,
    masked: bool,
    row: int = 1,
    column: int = 1,
    subtitle: str = "",
    with_note: bool = True,
) -> Placed:
    """Write `table` on `sheet` from (row, column): title, `subtitle` (the period), the masking
    note, the header row, the shown rows, the total in bold, the table's own note."""
    _put(sheet, row, column, table.title, font=TITLE)
    row += 1
    if subtitle:
        _put(sheet, row, column, subtitle, font=MUTED)
        row += 1
    if with_note:
        _put(sheet, row, column, masking_note(masked), font=MUTED)
        row += 1
    row += 1
    header_row = row
    for offset, name in enumerate(table.columns):
        cell = _put(sheet, row, column + offset, name, font=BOLD)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    shown = table.shown_rows(masked)
    for index, values in enumerate(shown):
        row += 1
        total = table.total is not None and index == len(shown) - 1
        for offset, value in enumerate(values):
            font = BOLD if total or offset == 0 else None
            cell = _put(sheet, row, column + offset, value, font=font)
            if offset and not is_number(value):
                cell.alignment = Alignment(horizontal="right")
    last_row = header_row + len(table.rows)
    if table.note:
        row += 1
        _put(sheet, row, column, table.note, font=MUTED)
    return Placed(header_row, header_row + 1, last_row, column, row + 2)


def fit_columns(sheet: Worksheet, *, first: int = 1, widths: dict[int, int] | None = None):
    """Column widths from the longest header or value (titles and notes, in column A, are let
    overflow: they would make the first column too wide)."""
    longest: dict[int, int] = {}
    for values in sheet.iter_rows(min_row=1):
        for cell in values:
            if cell.value is None or cell.font.size == TITLE.size or cell.font.italic:
                continue
            length = len(str(cell.value))
            longest[cell.column] = max(longest.get(cell.column, 0), length)
    for index, length in longest.items():
        width = (widths or {}).get(index, min(max(length + 2, 10), 45))
        sheet.column_dimensions[get_column_letter(index)].width = width


INVALID_SHEET_CHARACTERS = re.compile(r"[\[\]:*?/\\]")


def sheet_title(text: str, taken: set[str]) -> str:
    """A valid, unique sheet name (31 characters at most, none of []:*?/\\)."""
    base = INVALID_SHEET_CHARACTERS.sub("-", text)[:31] or "Feuille"
    title, number = base, 2
    while title.lower() in taken:
        suffix = f" ({number})"
        title, number = base[: 31 - len(suffix)] + suffix, number + 1
    taken.add(title.lower())
    return title


def workbook_bytes(workbook: Workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def tables_xlsx(tables: list[Table], period: Period, *, masked: bool, title: str = "") -> bytes:
    """One sheet per table (named after its code), each with the period and the masking note."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    taken: set[str] = set()
    for table in tables:
        sheet = workbook.create_sheet(sheet_title(table.code, taken))
        write_table(sheet, table, masked=masked, subtitle=f"Période : {period.label}")
        fit_columns(sheet)
    if not tables:
        workbook.create_sheet("Vide")["A1"] = "Aucun indicateur dans ce thème pour l'instant."
    workbook.properties.title = title or (tables[0].title if tables else "Indicateurs")
    return workbook_bytes(workbook)


def rows_xlsx(columns: list[str], rows: list[list], *, title: str, note: str) -> bytes:
    """Plain rows (the person exports): a note on the first line, the header, the rows."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = sheet_title(title, set())
    _put(sheet, 1, 1, note, font=MUTED)
    for offset, name in enumerate(columns):
        _put(sheet, 3, 1 + offset, name, font=BOLD)
    for index, values in enumerate(rows):
        for offset, value in enumerate(values):
            _put(sheet, 4 + index, 1 + offset, value)
    sheet.freeze_panes = "A4"
    fit_columns(sheet)
    workbook.properties.title = title
    return workbook_bytes(workbook)
