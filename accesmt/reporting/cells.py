"""The values of an indicator table, typed so that masking is decided once, here, and not by
each page or export.

- `Count(n)`: a number of persons, households, GPs… — masked "< 5" from 1 to 4.
- `BoundedCount(n)`: a count stopped at COUNT_CAP (the CPTS home's queue) — "plus de 1 000" above.
- `Rate(part, whole)`: a share in % — hidden ("—", with the reason) when either count is from
  1 to 4 (a rate over so few could point at someone), or when `whole` is 0.
- `Days(value, over)`: a median or percentile of durations in days over `over` households —
  hidden when `over` is below 5.
- `PerThousand(count, base)`: `count` per 1,000 (or per `per`) of `base` inhabitants — hidden
  when `count` is from 1 to 4.
- `Ratio(numerator, denominator)`: inhabitants per GP — hidden when the denominator is 1 to 4.
- `Change(now, before)`: evolution in % from the previous period — hidden over small counts.
- `Amount(value)`: a figure that says nothing about anyone (inhabitants, places declared).
- `Text(value)`: a label (a commune, a month, a closing reason).

`cell.shown(masked)` is what a page, a CSV or an XLSX file writes: a number, or a string
("< 5", "—"). Outside the coordination every page and export passes masked=True."""

from __future__ import annotations

from dataclasses import dataclass

from accesmt.common import pagination
from accesmt.common.masking import MASKED, is_small

HIDDEN = "—"


@dataclass(frozen=True)
class Count:
    n: int

    numeric = True

    def shown(self, masked: bool):
        return MASKED if masked and is_small(self.n) else self.n

    @property
    def raw(self):
        return self.n


@dataclass(frozen=True)
class BoundedCount(Count):
    """A count taken with `common.pagination.bounded_count`: above COUNT_CAP it is only known to
    be larger, and shown « plus de 1 000 » (a list page's figure, not an indicator table's)."""

    def shown(self, masked: bool):
        if self.n > pagination.COUNT_CAP:
            return f"plus de {pagination.cap_text()}"
        return super().shown(masked)


@dataclass(frozen=True)
class Rate:
    part: int
    whole: int

    numeric = True

    @property
    def raw(self) -> float | None:
        return round(100 * self.part / self.whole, 1) if self.whole else None

    def shown(self, masked: bool):
        if self.raw is None or (masked and (is_small(self.part) or is_small(self.whole))):
            return HIDDEN
        return self.raw


@dataclass(frozen=True)
class Days:
    value: float | None
    over: int

    numeric = True

    @property
    def raw(self):
        return None if self.value is None else round(self.value, 1)

    def shown(self, masked: bool):
        if self.value is None or (masked and self.over < 5):
            return HIDDEN
        return self.raw


@dataclass(frozen=True)
class PerThousand:
    count: int
    base: int
    per: int = 1000

    numeric = True

    @property
    def raw(self):
        return round(self.per * self.count / self.base, 2) if self.base else None

    def shown(self, masked: bool):
        if self.raw is None or (masked and is_small(self.count)):
            return HIDDEN
        return self.raw


@dataclass(frozen=True)
class Ratio:
    """`numerator / denominator` (inhabitants per GP): hidden when the denominator is from 1
    to 4 outside the coordination (it would tell how many GPs a small commune has)."""

    numerator: int
    denominator: int

    numeric = True

    @property
    def raw(self):
        return round(self.numerator / self.denominator) if self.denominator else None

    def shown(self, masked: bool):
        if self.raw is None or (masked and is_small(self.denominator)):
            return HIDDEN
        return self.raw


@dataclass(frozen=True)
class Change:
    """Evolution from the previous period in % ((now - before) / before): hidden when either
    count is from 1 to 4 outside the coordination, or when there was nothing before."""

    now: int | float
    before: int | float
    counts: bool = True  # False when comparing amounts that mask nothing (places declared)

    numeric = True

    @property
    def raw(self):
        return round(100 * (self.now - self.before) / self.before, 1) if self.before else None

    def shown(self, masked: bool):
        small = self.counts and (is_small(self.now) or is_small(self.before))
        if self.raw is None or (masked and small):
            return HIDDEN
        return self.raw


@dataclass(frozen=True)
class Amount:
    value: int | float | None

    numeric = True

    @property
    def raw(self):
        return self.value

    def shown(self, masked: bool):
        return HIDDEN if self.value is None else self.value


@dataclass(frozen=True)
class Text:
    value: str

    numeric = False

    @property
    def raw(self):
        return self.value

    def shown(self, masked: bool):
        return self.value


Cell = Count | Rate | Days | PerThousand | Ratio | Change | Amount | Text


def as_cell(value) -> Cell:
    """Plain values in rows: str → Text, int → Count; cells pass through."""
    if isinstance(value, str):
        return Text(value)
    if isinstance(value, bool):
        raise TypeError("a boolean is not an indicator value")
    if isinstance(value, int):
        return Count(value)
    if value is None:
        return Amount(None)
    return value
