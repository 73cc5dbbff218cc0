"""Import of a CPAM list (issue 12): the people without a médecin traitant the Assurance Maladie
sends to the CPTS (an ALD campaign…), one request each, with an opt-out period.

Three phases (docs/decisions/0015-cpam-lists.md, format in docs/cpam-list-format.md):

1. **Read** (`reader.read_table`): CSV (UTF-8 or Windows-1252, `;` `,` or tab) or XLSX; columns
   found by their normalised header (`columns`); a file without a required column is refused
   whole (`CpamListFormatError`).
2. **Check** (`check.check_rows`): each line through the intake forms (same validators and
   French messages as a registration), the CPTS's territory, duplicates within the file and
   against the CPTS's open requests. Nothing is written: this is the preview.
3. **Apply** (`apply.cpam_list_apply`): once the coordinator confirms (or at once through the
   API when no line is refused), every accepted person in one transaction.

Then `optout`: the information message with the refusal link, the refusal, and the periodic job
that puts the requests into the queue at the end of the period.
"""

from __future__ import annotations

import datetime

from .apply import CPAM_LIST_BASIS_VERSION, cpam_list_apply
from .check import Checked, Person, check_rows
from .columns import COLUMNS, map_columns, normalise_header, template_csv
from .optout import (
    cpam_lists_release_due,
    cpam_opt_out_record,
    opt_out_token,
    request_for_opt_out_token,
)
from .reader import MAX_LINES, RawRow, read_table
from .report import CpamListFormatError, CpamListReport, LineNote

DEFAULT_OPT_OUT_DAYS = 30


def cpam_list_preview(data: bytes, *, cpts, campaign_name: str) -> Checked:
    """Read and check a file: the report, nothing written. CpamListFormatError when the file
    cannot be read at all."""
    rows, unknown = read_table(data)
    return check_rows(rows, cpts=cpts, campaign_name=campaign_name, unknown_columns=unknown)


def cpam_list_import(
    data: bytes,
    *,
    cpts,
    campaign_name: str,
    list_date: datetime.date,
    opt_out_days: int = DEFAULT_OPT_OUT_DAYS,
    source: str = "upload",
    by=None,
):
    """Read, check again (the requests may have changed since the preview) and write the
    accepted lines. Returns (CpamList, report)."""
    checked = cpam_list_preview(data, cpts=cpts, campaign_name=campaign_name)
    cpam_list = cpam_list_apply(
        checked,
        cpts=cpts,
        campaign_name=campaign_name,
        list_date=list_date,
        opt_out_days=opt_out_days,
        source=source,
        by=by,
    )
    return cpam_list, checked.report


__all__ = [
    "COLUMNS",
    "CPAM_LIST_BASIS_VERSION",
    "DEFAULT_OPT_OUT_DAYS",
    "MAX_LINES",
    "Checked",
    "CpamListFormatError",
    "CpamListReport",
    "LineNote",
    "Person",
    "RawRow",
    "check_rows",
    "cpam_list_apply",
    "cpam_list_import",
    "cpam_list_preview",
    "cpam_lists_release_due",
    "cpam_opt_out_record",
    "map_columns",
    "normalise_header",
    "opt_out_token",
    "read_table",
    "request_for_opt_out_token",
    "template_csv",
]
