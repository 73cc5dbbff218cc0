"""Precomputed indicator tables for the region (the whole platform). A region of a million
requests is too big to aggregate on every visit of its page (about 10 s on PostgreSQL on a
2-core machine, see the README's figures): the worker computes the tables of each section for
the default period (the current calendar year) every hour (`reporting.region_snapshots`), and
the page reads them, saying when they were computed. Another period, asked for in the query
string, is computed on the spot. The tables are stored as they are computed (typed cells,
unmasked: the region is the platform admin's), so masking and charts work on them unchanged.

Safe on several workers: a refresh writes one row per section with `update_or_create`; two
workers computing the same section at once write the same figures."""

from __future__ import annotations

import dataclasses
import datetime
import logging

from django.conf import settings
from django.utils import timezone

from . import catalogue, cells
from .models import IndicatorSnapshot
from .periods import Period, period_from_query
from .tables import PAGE_ROWS, Chart, Scope, Table

logger = logging.getLogger(__name__)
CELL_TYPES = {
    cls.__name__: cls
    for cls in (
        cells.Count,
        cells.Rate,
        cells.Days,
        cells.PerThousand,
        cells.Ratio,
        cells.Change,
        cells.Amount,
        cells.Text,
    )
}


def max_age() -> datetime.timedelta:
    return datetime.timedelta(seconds=getattr(settings, "REGION_SNAPSHOT_MAX_AGE", 2 * 3600))


def _cell(cell) -> list:
    return [type(cell).__name__, dataclasses.asdict(cell)]


def table_to_json(table: Table, *, max_rows: int | None = None) -> dict:
    """`table` as JSON; with `max_rows`, only its first rows (what a page shows) and the number
    of the others."""
    rows = table.rows if max_rows is None else table.rows[:max_rows]
    return {
        "code": table.code,
        "title": table.title,
        "columns": table.columns,
        "rows": [[_cell(cell) for cell in row] for row in rows],
        "more_rows": table.more_rows + len(table.rows) - len(rows),
        "total": [_cell(cell) for cell in table.total] if table.total else None,
        "chart": dataclasses.asdict(table.chart) if table.chart else None,
        "note": table.note,
    }


def table_from_json(data: dict) -> Table:
    def cell(item):
        kind, fields = item
        return CELL_TYPES[kind](**fields)

    chart = data["chart"]
    return Table(
        code=data["code"],
        title=data["title"],
        columns=data["columns"],
        rows=[[cell(item) for item in row] for row in data["rows"]],
        total=[cell(item) for item in data["total"]] if data["total"] else None,
        chart=Chart(chart["kind"], tuple(chart["columns"]), chart["label"]) if chart else None,
        note=data["note"],
        more_rows=data.get("more_rows", 0),
    )


def snapshot_key(section: str, period: Period) -> str:
    return f"region:{section}:{period.kind}:{period.start.isoformat()}:{period.end.isoformat()}"


def region_default_period(contract_start: datetime.date, today=None) -> Period:
    return period_from_query({}, contract_start=contract_start, today=today)


def region_tables(scope: Scope, section: str, period: Period) -> list[Table]:
    return [item.compute(scope, period) for item in catalogue.of_section(section, scope)]


def snapshot_store(section: str, period: Period, tables: list[Table], *, now) -> None:
    """Store what the page shows of each table: its first PAGE_ROWS rows, its total and the
    number of rows left out (the communes of a region run to tens of thousands)."""
    IndicatorSnapshot.objects.update_or_create(
        key=snapshot_key(section, period),
        defaults={
            "computed_at": now,
            "tables": [table_to_json(t, max_rows=PAGE_ROWS) for t in tables],
        },
    )


def snapshot_read(section: str, period: Period, *, now=None):
    """(tables, computed_at) of a fresh snapshot of `section` for `period`, or None."""
    now = now or timezone.now()
    found = IndicatorSnapshot.objects.filter(
        key=snapshot_key(section, period), computed_at__gte=now - max_age()
    ).first()
    if found is None:
        return None
    return [table_from_json(data) for data in found.tables], found.computed_at


def region_snapshots_refresh(*, now: datetime.datetime | None = None) -> int:
    """Periodic job `reporting.region_snapshots`: every section of the region for its default
    period. Returns the number of sections computed."""
    from .access import region_scope
    from .models import default_contract_start

    now = now or timezone.now()
    period = region_default_period(default_contract_start(), timezone.localdate(now))
    count = 0
    for section in catalogue.SECTIONS:
        scope = region_scope()
        snapshot_store(section, period, region_tables(scope, section, period), now=now)
        count += 1
    logger.info("region_snapshots: %d sections computed", count)
    return count
