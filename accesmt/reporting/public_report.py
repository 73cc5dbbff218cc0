"""The public monthly report of a CPTS (`<cpts_slug>/rapport-mensuel/`), in the manner of the
Nova Scotia "Need a Family Practice" registry's monthly report: over the last twelve complete
months, the persons registered, the persons still waiting at each month's end and the persons
who found a médecin traitant, by month and by commune. Aggregates only, computed in the
database (a fixed number of queries whatever the number of requests), and ALWAYS masked (the
page is public): the tables are built of `cells` and shown with masked=True.

Definitions (the method note of the page says the same in French):
- registered: persons of the households registered in the month (duplicates left out), as the
  catalogue's `demand.by_month` counts them (`indicators.common.registered_members`);
- waiting at the end of a month: persons of the households registered before that month's end
  and not closed at that date (read from the creation and closing dates as they stand now: a
  request reopened since counts as waiting over its closed spell);
- found a médecin traitant: persons of the households closed as "médecin traitant trouvé" in the
  month.
"""

from __future__ import annotations

import datetime

from django.db.models import Count, Q
from django.utils import timezone

from accesmt.intake.models import ClosedReason, HouseholdMember

from .cells import Count as CountCell
from .cells import Text
from .indicators.common import by_month, registered_members
from .periods import Period, add_months, first_of_month, month_label
from .tables import Chart, Scope, Table

MONTHS = 12


def report_period(today: datetime.date | None = None) -> Period:
    """The last twelve complete months before `today`'s month."""
    end = first_of_month(today or timezone.localdate())
    return Period("custom", add_months(end, -MONTHS), end)


def _members(scope: Scope):
    return HouseholdMember.objects.filter(scope.where("request__cpts", "request__commune")).exclude(
        request__closed_reason=ClosedReason.DUPLICATE
    )


def _at_midnight(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(), tzinfo=timezone.get_current_timezone())


def _waiting_at(moment: datetime.datetime) -> Q:
    """Persons whose household was registered before `moment` and not closed at `moment`."""
    return Q(request__created_at__lt=moment) & (
        Q(request__closed_at__isnull=True) | Q(request__closed_at__gte=moment)
    )


def _found(scope: Scope, period: Period):
    start, end = period.bounds()
    return _members(scope).filter(
        request__closed_reason=ClosedReason.MT_FOUND,
        request__closed_at__gte=start,
        request__closed_at__lt=end,
    )


def by_month_table(scope: Scope, period: Period) -> Table:
    """One row per month: registered, waiting at the month's end, found a médecin traitant (three
    queries)."""
    months = period.months()
    registered = by_month(registered_members(scope, period), "request__created_at", n=Count("pk"))
    found = by_month(_found(scope, period), "request__closed_at", n=Count("pk"))
    waiting = _members(scope).aggregate(
        **{
            f"m{index}": Count("pk", filter=_waiting_at(_at_midnight(add_months(month, 1))))
            for index, month in enumerate(months)
        }
    )
    rows = [
        [
            Text(month_label(month)),
            CountCell(registered.get(month, {}).get("n", 0)),
            CountCell(waiting[f"m{index}"]),
            CountCell(found.get(month, {}).get("n", 0)),
        ]
        for index, month in enumerate(months)
    ]
    return Table(
        code="public.by_month",
        title="Par mois",
        columns=[
            "mois",
            "personnes inscrites",
            "personnes en attente en fin de mois",
            "personnes ayant trouvé un médecin traitant",
        ],
        rows=rows,
        chart=Chart("line", columns=(1, 2, 3)),
    )


def by_commune_table(scope: Scope, period: Period) -> Table:
    """One row per commune of the territory: registered and found over the period, waiting at
    its end; and the total (four queries)."""
    registered = dict(
        registered_members(scope, period)
        .order_by()
        .values_list("request__commune")
        .annotate(n=Count("pk"))
        .values_list("request__commune", "n")
    )
    found = dict(
        _found(scope, period)
        .order_by()
        .values_list("request__commune")
        .annotate(n=Count("pk"))
        .values_list("request__commune", "n")
    )
    waiting = dict(
        _members(scope)
        .filter(_waiting_at(period.bounds()[1]))
        .order_by()
        .values_list("request__commune")
        .annotate(n=Count("pk"))
        .values_list("request__commune", "n")
    )
    communes = scope.territory_communes().order_by("name", "pk").values_list("pk", "name")
    rows = [
        [
            Text(name),
            CountCell(registered.get(code, 0)),
            CountCell(found.get(code, 0)),
            CountCell(waiting.get(code, 0)),
        ]
        for code, name in communes
    ]
    end_label = month_label(add_months(period.end, -1))
    return Table(
        code="public.by_commune",
        title="Par commune, sur les douze mois",
        columns=[
            "commune",
            "personnes inscrites",
            "personnes ayant trouvé un médecin traitant",
            f"personnes en attente fin {end_label}",
        ],
        rows=rows,
        chart=Chart("bars", columns=(1, 2)),
        total=[
            Text("Total du territoire"),
            CountCell(sum(registered.values())),
            CountCell(sum(found.values())),
            CountCell(sum(waiting.values())),
        ],
        note="Personnes inscrites hors des communes du territoire : comptées dans le total "
        "seulement.",
    )


def public_tables(cpts, today: datetime.date | None = None) -> tuple[Period, list[Table]]:
    """The period and the tables of the public report of `cpts` (to show masked)."""
    scope = Scope(cpts=cpts, masked=True)
    period = report_period(today)
    return period, [by_month_table(scope, period), by_commune_table(scope, period)]
