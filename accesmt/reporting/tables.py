"""What an indicator produces, and the population it is computed over.

- `Scope`: whose figures (the CPTS, restricted to some communes for a mairie) and whether small
  counts are masked (everyone but the coordination). It memoises shared aggregates for the
  length of one page or export (`scope.memo`), so that figures drawn from one query run it once.
- `Table`: a titled grid of typed cells (`cells.py`) with an optional chart; every page, CSV,
  XLSX, PDF and API answer is written from it."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q

from .cells import Cell, Count, Rate, Text, as_cell

PAGE_ROWS = 60  # a page shows the first rows of a long table; its exports hold every row


@dataclass
class Scope:
    """`cpts` None is the whole platform (a region: every CPTS it serves). `communes` narrows
    to some communes (a mairie's INSEE codes)."""

    cpts: Any  # territory.CPTS, or None for the region
    communes: tuple[str, ...] | None = None  # INSEE codes (a mairie's), None = the territory
    masked: bool = True
    _memo: dict = field(default_factory=dict, repr=False)

    def where(self, cpts_path: str = "cpts", commune_path: str | None = "commune") -> Q:
        """The filter of this scope on a model reached by `cpts_path` / `commune_path`
        ("request__cpts", "request__commune"). For the region, no CPTS condition."""
        condition = Q(**{cpts_path: self.cpts}) if self.cpts is not None else Q()
        if self.communes is not None and commune_path:
            condition &= Q(**{f"{commune_path}__in": self.communes})
        return condition

    def territory_communes(self):
        """The communes of the scope (of the CPTS territory, of every territory for the
        region, narrowed to `communes`), as a Commune queryset."""
        from accesmt.territory.models import Commune

        found = Commune.objects.filter(territory__isnull=False)
        if self.cpts is not None:
            found = found.filter(territory__cpts=self.cpts)
        if self.communes is not None:
            found = found.filter(pk__in=self.communes)
        return found

    def memo(self, key, compute: Callable[[], Any]):
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]


@dataclass(frozen=True)
class Chart:
    """How a table is drawn: `kind` "bars" (one bar per row, horizontal: labels stay readable
    on a phone) or "line" (rows are months, in order); `columns` are the indexes of the value
    columns drawn (one series each), `label` the index of the row labels."""

    kind: str = "bars"
    columns: tuple[int, ...] = (1,)
    label: int = 0


@dataclass
class Table:
    code: str
    title: str
    columns: list[str]
    rows: list[list[Cell]]
    chart: Chart | None = None
    note: str = ""
    total: list[Cell] | None = None
    # rows left out of `rows` after the first ones (a stored snapshot keeps what a page shows)
    more_rows: int = 0

    def __post_init__(self):
        self.rows = [[as_cell(value) for value in row] for row in self.rows]
        if self.total is not None:
            self.total = [as_cell(value) for value in self.total]
        for row in self.rows:
            if len(row) != len(self.columns):
                raise ValueError(f"{self.code}: a row has {len(row)} cells for {len(self.columns)}")

    def shown_rows(self, masked: bool) -> list[list]:
        rows = [[cell.shown(masked) for cell in row] for row in self.rows]
        if self.total is not None:
            rows.append([cell.shown(masked) for cell in self.total])
        return rows


def compared_rows(
    labels: Iterable[tuple[str, str]], now: dict, before: dict, *, whole_now=None, whole_before=None
) -> list[list[Cell]]:
    """One row per (key, label): the label, the count of the period, its share of `whole_now` if
    given, the count of the previous period (and its share)."""
    rows = []
    for key, label in labels:
        row: list[Cell] = [Text(label), Count(now.get(key, 0))]
        if whole_now is not None:
            row.append(Rate(now.get(key, 0), whole_now))
        row.append(Count(before.get(key, 0)))
        if whole_before is not None:
            row.append(Rate(before.get(key, 0), whole_before))
        rows.append(row)
    return rows
