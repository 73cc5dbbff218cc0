"""Helpers shared by the indicator modules: the requests and persons of a scope registered in a
period (and found a GP in it), month bucketing, ages at registration, durations and their
quantiles — all done by the database."""

from __future__ import annotations

import datetime
import math
from typing import Any

from django.db.models import (
    Case,
    DurationField,
    ExpressionWrapper,
    F,
    IntegerField,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import ExtractDay, ExtractMonth, ExtractYear, TruncMonth
from django.db.models.lookups import LessThan
from django.utils import timezone

from accesmt.intake.models import ClosedReason, HouseholdMember, Request, Status

from ..periods import Period, first_of_month
from ..tables import Scope


def registered_requests(scope: Scope, period: Period) -> QuerySet:
    """Households registered in the period (created in it), duplicates closed as such left out:
    a household registered twice is one household."""
    start, end = period.bounds()
    return Request.objects.filter(scope.where(), created_at__gte=start, created_at__lt=end).exclude(
        closed_reason=ClosedReason.DUPLICATE
    )


def registered_members(scope: Scope, period: Period) -> QuerySet:
    """Persons of the households of `registered_requests`."""
    start, end = period.bounds()
    return HouseholdMember.objects.filter(
        scope.where("request__cpts", "request__commune"),
        request__created_at__gte=start,
        request__created_at__lt=end,
    ).exclude(request__closed_reason=ClosedReason.DUPLICATE)


def month_of(value) -> datetime.date:
    """The first day of the local month of a TruncMonth result (a date or an aware datetime)."""
    if isinstance(value, datetime.datetime):
        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return first_of_month(value)


def by_month(queryset: QuerySet, field: str, **aggregates) -> dict[datetime.date, dict]:
    """{first day of month: {aggregate name: value}} grouped by the local month of `field`."""
    rows = (
        queryset.annotate(month=TruncMonth(field)).order_by().values("month").annotate(**aggregates)
    )
    found: dict[datetime.date, dict] = {}
    for row in rows:
        month = month_of(row.pop("month"))
        bucket = found.setdefault(month, dict.fromkeys(aggregates, 0))
        for name, value in row.items():
            bucket[name] += value or 0
    return found


def closed_requests(scope: Scope, period: Period) -> QuerySet:
    """Requests closed in the period (and still closed), duplicates left out: a duplicate is not
    an outcome."""
    start, end = period.bounds()
    return Request.objects.filter(
        scope.where(), status=Status.CLOSED, closed_at__gte=start, closed_at__lt=end
    ).exclude(closed_reason=ClosedReason.DUPLICATE)


def found_requests(scope: Scope, period: Period) -> QuerySet:
    """Households whose request was closed "médecin traitant trouvé" in the period (by a
    placement recorded by the GP, the person or the coordination, or by the person answering
    "I found one" to "toujours besoin ?"): `closed_at` is the day the GP was found. A request
    reopened since no longer counts (as `Placement.objects.current()`)."""
    start, end = period.bounds()
    return Request.objects.filter(
        scope.where(),
        status=Status.CLOSED,
        closed_reason=ClosedReason.MT_FOUND,
        closed_at__gte=start,
        closed_at__lt=end,
    )


def usual_gp_requests(scope: Scope, period: Period) -> QuerySet:
    """Households whose request was closed "suivi habituel officialisé" in the period (the GP
    they already saw accepted to become their médecin traitant, and they confirmed), still
    closed so."""
    start, end = period.bounds()
    return Request.objects.filter(
        scope.where(),
        status=Status.CLOSED,
        closed_reason=ClosedReason.USUAL_GP,
        closed_at__gte=start,
        closed_at__lt=end,
    )


def usual_gp_members(scope: Scope, period: Period) -> QuerySet:
    """Persons of the households of `usual_gp_requests`."""
    start, end = period.bounds()
    return HouseholdMember.objects.filter(
        scope.where("request__cpts", "request__commune"),
        request__status=Status.CLOSED,
        request__closed_reason=ClosedReason.USUAL_GP,
        request__closed_at__gte=start,
        request__closed_at__lt=end,
    )


def found_members(scope: Scope, period: Period) -> QuerySet:
    """Persons of the households of `found_requests`."""
    start, end = period.bounds()
    return HouseholdMember.objects.filter(
        scope.where("request__cpts", "request__commune"),
        request__status=Status.CLOSED,
        request__closed_reason=ClosedReason.MT_FOUND,
        request__closed_at__gte=start,
        request__closed_at__lt=end,
    )


# Age bands of the indicators: finer than the household summaries' (`intake.ages`, where adults
# are one 18–59 band), each band within one of those, so that 70+ (the priority rule, the ACI
# line) and under 6 read the same everywhere. (first age not in the band, label)
REPORT_AGE_BANDS: tuple[tuple[int | None, str], ...] = (
    (6, "0 à 5 ans"),
    (18, "6 à 17 ans"),
    (40, "18 à 39 ans"),
    (60, "40 à 59 ans"),
    (70, "60 à 69 ans"),
    (80, "70 à 79 ans"),
    (None, "80 ans et plus"),
)


def age_at_registration(request_path: str = "request__"):
    """The age in whole years of a HouseholdMember on the (local) day its household registered,
    computed by the database (year difference, minus one before the birthday), the same on SQLite
    and PostgreSQL. An anonymised member has no birth date but a year or a 5- or 10-year band
    (`birth_year`, `birth_year_span`, intake/coarsening.py): its age is the year difference to the
    middle of the band (exact within a year for a single year); NULL when the year was withheld."""
    created = f"{request_path}created_at"

    def month_day(field):
        return ExtractMonth(field) * 100 + ExtractDay(field)

    exact = (
        ExtractYear(created)
        - ExtractYear("birth_date")
        - Case(
            When(LessThan(month_day(created), month_day("birth_date")), then=Value(1)),
            default=Value(0),
        )
    )
    banded = ExtractYear(created) - F("birth_year") - (F("birth_year_span") - 1) / 2
    return Case(
        When(birth_date__isnull=False, then=exact),
        When(birth_year__isnull=False, then=banded),
        default=Value(None),
        output_field=IntegerField(),
    )


def age_band_index(age: int) -> int:
    """The index in REPORT_AGE_BANDS of the band of `age` (years)."""
    for index, (below, _) in enumerate(REPORT_AGE_BANDS):
        if below is None or age < below:
            return index
    raise AssertionError("the last band has no limit")


def duration(later: str | Any, earlier: str | Any) -> ExpressionWrapper:
    """`later - earlier` (datetimes) as a duration, computed by the database."""
    later = F(later) if isinstance(later, str) else later
    earlier = F(earlier) if isinstance(earlier, str) else earlier
    return ExpressionWrapper(later - earlier, output_field=DurationField())


def _days(value: datetime.timedelta) -> float:
    return value.total_seconds() / 86400


def quantile_days(queryset: QuerySet, field: str, quantiles: tuple[float, ...] = (0.5, 0.9)):
    """(n, {q: days}) — the number of rows of `queryset` where the duration annotation `field` is
    set, and each quantile of it in days, read by the database: the rows are counted, then the
    value(s) at the right rank fetched with ORDER BY … OFFSET (one query per quantile, run over no
    row too; no row is loaded beyond two). The median of an even count is the mean of the two
    middle values; any other quantile q is the nearest-rank value (the ⌈q·n⌉-th smallest)."""
    rows = queryset.filter(**{f"{field}__isnull": False}).order_by(field)
    n = rows.count()
    found: dict[float, float | None] = {}
    for q in quantiles:
        if q == 0.5 and n % 2 == 0:
            first, taken = max(n // 2 - 1, 0), 2
        else:
            first, taken = max(math.ceil(q * n), 1) - 1, 1
        values = list(rows.values_list(field, flat=True)[first : first + taken])
        found[q] = sum(_days(v) for v in values) / len(values) if values else None
    return n, found
