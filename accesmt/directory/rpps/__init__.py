"""Import of the national directory of health professionals (Annuaire Santé, RPPS).

The public extraction `PS_LibreAcces_Personne_activite` (`ps-libreacces-personne-activite.txt`)
holds one line per professional × practice site, fields separated by `|`, each line ending with a
`|`, no quoting; UTF-8 (older files: latin-1 / Windows-1252, detected on the header). About 2
million lines, 800 MB for France. Columns are found by their normalised header name, so the 50-,
52- and 56-column variants (and any future one) read the same; unknown columns are ignored.

Two phases, which overlap (docs/decisions/0004-rpps-import.md):

1. **Read** (`read_rpps_file`): stream the file in binary, a block of lines at a time: every
   line's field count is checked in C, and a line is parsed only when it may be a GP row (it
   contains `|SM26|`, `|SM53|` or `|SM54|`: one regular expression per block skips ~95 % of the
   file), then checked whole: RPPS number, profession 10, savoir-faire, name, commune. A row is
   kept whole or refused whole with its line number and reason. Only the rows of the communes in
   scope (the platform's CPTS territories, or some départements) are kept, spooled to a
   temporary file (`ScopeRows`); memory keeps a few bytes per GP of the scope, never the rows.
2. **Write** (`RppsWriter`): one database transaction, opened before the read. The GPs the
   directory does not know yet and their sites are written in batches as the reader keeps them
   (COPY on PostgreSQL, by a thread on its own connection when the caller holds no transaction);
   after the read, a known row is only looked at when the hash of its file values differs from
   the one stored by the import that last wrote it (fields the coordination corrected are kept),
   so an unchanged re-import writes nothing; those of the scope that are no longer in the file
   are marked as gone (never deleted). If anything fails, the read included, the transaction
   rolls back and the previous state stays intact.

Modules: `columns` (header → column mapping, encoding), `reader` (phase 1), `apply` (phase 2),
`report` (the report, refusal reasons and errors). Import the public names from here.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from .apply import BATCH_SIZE, WRITE_BATCH_SIZE, RppsWriter
from .columns import COLUMNS, detect_encoding, map_columns, normalise_header
from .reader import (
    PROGRESS_EVERY_LINES,
    ProgressCallback,
    Scope,
    ScopeRows,
    SiteRow,
    SpooledRow,
    practice_type_for,
    read_rpps_file,
    site_key_for,
)
from .report import (
    MAX_REPORTED_ERRORS,
    CptsAbsences,
    ImportReport,
    Reason,
    RowError,
    RppsAbsencesNeedConfirmation,
    RppsFormatError,
    RppsTruncatedFile,
)


def rpps_import(
    path: str | os.PathLike,
    *,
    departements: Iterable[str] = (),
    progress: ProgressCallback | None = None,
    dry_run: bool = False,
    accept_partial: bool = False,
    confirm_absences: bool = False,
) -> ImportReport:
    """Import the GPs of an Annuaire Santé extraction for the platform's CPTS territories (or
    the given départements). Raises RppsFormatError when the file cannot be imported at all;
    otherwise returns the report (refused lines included). The database changes are applied in
    one transaction: a failure leaves the previous state intact.

    A cut file (last line without line ending or with the wrong field count) raises
    RppsTruncatedFile unless `accept_partial`; marking absent more than
    settings.RPPS_MAX_ABSENT_SHARE of a CPTS's GPs raises RppsAbsencesNeedConfirmation (nothing
    written) unless `confirm_absences`."""
    departements = tuple(d for d in departements if d)
    scope = Scope.for_departements(departements) if departements else Scope.platform()
    if not scope.communes:
        raise RppsFormatError(
            "Aucune commune dans le périmètre : définissez le territoire d'au moins une CPTS "
            "ou indiquez un département (les communes doivent être chargées : manage.py "
            "load_communes)."
        )
    if dry_run:
        rows, report = read_rpps_file(
            path, scope=scope, progress=progress, accept_partial=accept_partial
        )
        rows.close()
        return report
    with RppsWriter(scope, confirm_absences=confirm_absences) as writer:
        rows, report = read_rpps_file(
            path, scope=scope, progress=progress, accept_partial=accept_partial, sink=writer.row
        )
        with rows:
            return writer.finish(rows, report)


__all__ = [
    "BATCH_SIZE",
    "COLUMNS",
    "MAX_REPORTED_ERRORS",
    "PROGRESS_EVERY_LINES",
    "CptsAbsences",
    "ImportReport",
    "Reason",
    "RowError",
    "RppsAbsencesNeedConfirmation",
    "RppsFormatError",
    "RppsTruncatedFile",
    "Scope",
    "ScopeRows",
    "SiteRow",
    "SpooledRow",
    "WRITE_BATCH_SIZE",
    "RppsWriter",
    "detect_encoding",
    "map_columns",
    "normalise_header",
    "practice_type_for",
    "read_rpps_file",
    "rpps_import",
    "site_key_for",
]
