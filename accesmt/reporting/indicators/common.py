"""Helpers shared by the indicator modules: the requests and persons of a scope registered in a
period, month bucketing done by the database."""

from __future__ import annotations

import datetime

from django.db.models import QuerySet
from django.db.models.functions import TruncMonth
from django.utils import timezone

from accesmt.intake.models import ClosedReason, HouseholdMember, Request

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
