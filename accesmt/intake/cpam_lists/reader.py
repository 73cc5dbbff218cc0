"""Read a CPAM list: CSV (UTF-8 or Windows-1252, `;`, `,` or tab separated, as Excel France and
LibreOffice save it) or XLSX (first sheet). Gives the header and, for each non-empty line, its
number in the file (the header is line 1) and its cells as text, by column key."""

from __future__ import annotations

import csv
import datetime
import io
from dataclasses import dataclass

from .columns import map_columns, missing_columns
from .report import CpamListFormatError

MAX_LINES = 20_000
MAX_BYTES = 20 * 1024 * 1024
XLSX_MAGIC = b"PK\x03\x04"


@dataclass
class RawRow:
    line: int
    values: dict[str, str]


def _decode(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in data[:4096]:
        raise CpamListFormatError(
            "Ce fichier est en UTF-16 ou n'est pas un fichier texte : enregistrez-le en « CSV "
            "UTF-8 » ou en « CSV (séparateur : point-virgule) » depuis votre tableur."
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")  # Excel France's "CSV (séparateur : point-virgule)"
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in (";", ",", "\t")}
    best = max(counts, key=counts.get)
    if counts[best] == 0:
        raise CpamListFormatError(
            "La première ligne doit donner les noms des colonnes, séparés par des points-virgules "
            "(ou des virgules) : téléchargez le modèle."
        )
    return best


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return value.date().strftime("%d/%m/%Y")
    if isinstance(value, datetime.date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _xlsx_rows(data: bytes) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - any damage: one clear message
        raise CpamListFormatError(
            "Ce classeur Excel ne peut pas être lu : enregistrez-le à nouveau en .xlsx ou en CSV."
        ) from None
    try:
        sheet = book.worksheets[0]
        rows = []
        for index, row in enumerate(sheet.iter_rows(values_only=True)):
            if index > MAX_LINES + 1:
                break
            rows.append([_cell_text(v) for v in row])
        return rows
    finally:
        book.close()


def _fix_numbers(values: dict[str, str]) -> None:
    """A spreadsheet turns "06 12…" into 612… and "02100" into 2100: put the zero back."""
    phone = values.get("phone", "")
    if phone.isdigit() and len(phone) == 9:
        values["phone"] = "0" + phone
    for key, size in (("postcode", 5), ("insee_code", 5)):
        text = values.get(key, "")
        if text.isdigit() and len(text) == size - 1:
            values[key] = "0" + text


def read_table(data: bytes) -> tuple[list[RawRow], list[str]]:
    """(rows, unknown headers), or CpamListFormatError for a file that cannot be imported."""
    if len(data) > MAX_BYTES:
        raise CpamListFormatError("Fichier trop gros (20 Mo au plus) : découpez la liste.")
    if data.startswith(XLSX_MAGIC):
        table = _xlsx_rows(data)
        numbered = list(enumerate(table, start=1))
    else:
        text = _decode(data)
        first_line = text.split("\n", 1)[0]
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(first_line))
        numbered = []
        try:
            for row in reader:
                numbered.append((reader.line_num, row))
                if len(numbered) > MAX_LINES + 1:
                    break
        except csv.Error:
            raise CpamListFormatError(
                f"Ligne {reader.line_num} illisible (guillemet non fermé ?) : corrigez le fichier."
            ) from None
    if not numbered:
        raise CpamListFormatError("Le fichier est vide.")
    _, headers = numbered[0]
    found, unknown = map_columns([str(h) for h in headers])
    if missing := missing_columns(found):
        raise CpamListFormatError(
            "Colonnes obligatoires absentes : " + ", ".join(missing) + ". Téléchargez le modèle."
        )
    rows = []
    for line, cells in numbered[1:]:
        if not any(str(c).strip() for c in cells):
            continue
        values = {
            key: (str(cells[pos]).strip() if pos < len(cells) else "") for key, pos in found.items()
        }
        _fix_numbers(values)
        rows.append(RawRow(line=line, values=values))
    if len(rows) > MAX_LINES:
        raise CpamListFormatError(
            f"Plus de {MAX_LINES:,} personnes dans le fichier : découpez la liste.".replace(
                ",", " "
            )
        )
    if not rows:
        raise CpamListFormatError("Le fichier ne contient aucune personne (seulement l'en-tête).")
    return rows, unknown
