"""Reporting periods: the ACI contract year of a CPTS (the default), a month, a quarter, a
calendar year or custom dates. A period is a half-open range of local dates [start, end); its
previous period has the same length and ends where it starts (the previous contract year, the
previous month…). Pages take it from the query string (`?periode=aci&debut=2026-03-01`), so that
a period can be bookmarked, exported and compared."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.utils import timezone

from accesmt.common.formats import long_date

KINDS = {
    "aci": "année du contrat ACI",
    "month": "mois",
    "quarter": "trimestre",
    "year": "année civile",
    "custom": "dates choisies",
}
MAX_CUSTOM_DAYS = 3 * 366 + 1  # three years: a page stays a page
MONTH_NAMES = (
    "janvier février mars avril mai juin juillet août septembre octobre novembre décembre".split()
)


def add_months(day: datetime.date, months: int) -> datetime.date:
    """`day` moved by `months` months, clamped to the end of shorter months (31 → 28/29/30)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    for last in (31, 30, 29, 28):
        try:
            return datetime.date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def first_of_month(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def month_label(day: datetime.date) -> str:
    return f"{MONTH_NAMES[day.month - 1]} {day.year}"


@dataclass(frozen=True)
class Period:
    kind: str
    start: datetime.date  # included
    end: datetime.date  # excluded

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown period kind {self.kind!r}")
        if self.end <= self.start:
            raise ValueError("a period ends after it starts")

    @property
    def last_day(self) -> datetime.date:
        return self.end - datetime.timedelta(days=1)

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @property
    def label(self) -> str:
        if self.kind == "month":
            return month_label(self.start)
        if self.kind == "quarter":
            return f"{(self.start.month - 1) // 3 + 1}ᵉ trimestre {self.start.year}"
        if self.kind == "year":
            return f"année {self.start.year}"
        span = f"du {long_date(self.start)} au {long_date(self.last_day)}"
        return f"année du contrat ACI, {span}" if self.kind == "aci" else span

    def previous(self) -> Period:
        """The period of the same kind and length just before this one."""
        if self.kind in ("month", "quarter", "year", "aci"):
            months = {"month": 1, "quarter": 3, "year": 12, "aci": 12}[self.kind]
            return Period(self.kind, add_months(self.start, -months), self.start)
        return Period(self.kind, self.start - datetime.timedelta(days=self.days), self.start)

    def months(self) -> list[datetime.date]:
        """First day of every month the period touches, in order."""
        found, day = [], first_of_month(self.start)
        while day < self.end:
            found.append(day)
            day = add_months(day, 1)
        return found

    def bounds(self) -> tuple[datetime.datetime, datetime.datetime]:
        """Aware datetimes [start 00:00, end 00:00) in the site's time zone."""
        zone = timezone.get_current_timezone()
        return (
            datetime.datetime.combine(self.start, datetime.time(), tzinfo=zone),
            datetime.datetime.combine(self.end, datetime.time(), tzinfo=zone),
        )

    def as_query(self) -> dict[str, str]:
        """The query-string parameters that give this period back (`period_from_query`)."""
        query = {"periode": self.kind, "debut": self.start.isoformat()}
        if self.kind == "custom":
            query["fin"] = self.last_day.isoformat()
        return query

    @property
    def slug(self) -> str:
        """For file names: 2026-03-01_2027-02-28."""
        return f"{self.start.isoformat()}_{self.last_day.isoformat()}"


def aci_year(contract_start: datetime.date, today: datetime.date) -> Period:
    """The contract year containing `today`: from the last anniversary of `contract_start` (or
    `contract_start` itself, while it is in the future, then the first year) for twelve months."""
    start = contract_start
    if today >= contract_start:
        years = today.year - contract_start.year
        start = add_months(contract_start, 12 * years)
        if start > today:
            start = add_months(contract_start, 12 * (years - 1))
    return Period("aci", start, add_months(start, 12))


def period_of_kind(kind: str, anchor: datetime.date, contract_start: datetime.date) -> Period:
    """The period of `kind` that contains `anchor`."""
    if kind == "month":
        start = first_of_month(anchor)
        return Period(kind, start, add_months(start, 1))
    if kind == "quarter":
        start = datetime.date(anchor.year, 3 * ((anchor.month - 1) // 3) + 1, 1)
        return Period(kind, start, add_months(start, 3))
    if kind == "year":
        return Period(kind, datetime.date(anchor.year, 1, 1), datetime.date(anchor.year + 1, 1, 1))
    return aci_year(contract_start, anchor)


class PeriodError(ValueError):
    """A period asked for in the query string that cannot be used: `field` and a French
    `message` say which parameter and why."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


def _date_param(query, name: str) -> datetime.date | None:
    raw = (query.get(name) or "").strip()
    if not raw:
        return None
    try:
        return datetime.date.fromisoformat(raw)
    except ValueError:
        raise PeriodError(name, "Date invalide : utilisez le format AAAA-MM-JJ.") from None


def period_from_query(
    query, *, contract_start: datetime.date, today: datetime.date | None = None
) -> Period:
    """The period asked for by `?periode=&debut=&fin=`; without parameters, the current ACI
    contract year. Raises PeriodError on a bad parameter."""
    today = today or timezone.localdate()
    kind = (query.get("periode") or "aci").strip()
    if kind not in KINDS:
        raise PeriodError("periode", "Période inconnue.")
    start = _date_param(query, "debut")
    if kind != "custom":
        if kind == "aci" and start is not None:
            # a contract year is given by its first day; any day of it will do
            return aci_year(contract_start, start)
        return period_of_kind(kind, start or today, contract_start)
    end = _date_param(query, "fin")
    if start is None:
        raise PeriodError("debut", "Indiquez la date de début.")
    if end is None:
        raise PeriodError("fin", "Indiquez la date de fin.")
    if end < start:
        raise PeriodError("fin", "La date de fin doit suivre la date de début.")
    if (end - start).days + 1 > MAX_CUSTOM_DAYS:
        raise PeriodError("fin", "Choisissez une période de trois ans au plus.")
    return Period("custom", start, end + datetime.timedelta(days=1))
