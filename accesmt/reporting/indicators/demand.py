"""Demand: who registers, through which door, how many are priority."""

from __future__ import annotations

from django.db.models import Count, Q

from accesmt.intake.models import Channel, HomeVisits

from ..catalogue import indicator
from ..cells import Change, Text
from ..cells import Count as CountCell
from ..periods import Period, month_label
from ..tables import Chart, Scope, Table, compared_rows
from .common import by_month, registered_members, registered_requests


def totals(scope: Scope, period: Period) -> dict:
    """Households, persons, priority households, persons needing home visits registered in the
    period: two queries (households, persons), memoised for the page."""

    def compute():
        households = registered_requests(scope, period).aggregate(
            households=Count("pk"), priority=Count("pk", filter=Q(is_priority=True))
        )
        persons = registered_members(scope, period).aggregate(
            persons=Count("pk"),
            home_visits=Count("pk", filter=~Q(home_visits=HomeVisits.NEVER)),
        )
        return {**households, **persons}

    return scope.memo(("demand.totals", period), compute)


@indicator(
    "demand.summary",
    section="demand",
    title="Inscriptions de la période",
    formula="Demandes créées dans la période (hors demandes closes comme doublons) et personnes "
    "de ces foyers ; comparées à la période précédente de même durée.",
    unit="foyers, personnes",
    population="foyers inscrits par tous les canaux",
)
def summary(scope: Scope, period: Period) -> Table:
    now, before = totals(scope, period), totals(scope, period.previous())
    lines = [
        ("households", "Foyers inscrits"),
        ("persons", "Personnes inscrites"),
        ("priority", "Foyers prioritaires"),
        ("home_visits", "Personnes ayant besoin de visites à domicile"),
    ]
    return Table(
        code="demand.summary",
        title="Inscriptions de la période",
        columns=["", "période", "période précédente", "évolution (%)"],
        rows=[
            [
                Text(label),
                CountCell(now[key]),
                CountCell(before[key]),
                Change(now[key], before[key]),
            ]
            for key, label in lines
        ],
        chart=Chart("bars", columns=(1, 2)),
    )


@indicator(
    "demand.by_month",
    section="demand",
    title="Inscriptions par mois",
    formula="Demandes créées chaque mois (hors doublons) et personnes de ces foyers.",
    unit="foyers, personnes par mois",
    population="foyers inscrits par tous les canaux",
)
def registrations_by_month(scope: Scope, period: Period) -> Table:
    households = by_month(registered_requests(scope, period), "created_at", n=Count("pk"))
    persons = by_month(registered_members(scope, period), "request__created_at", n=Count("pk"))
    rows = [
        [
            Text(month_label(month)),
            CountCell(households.get(month, {}).get("n", 0)),
            CountCell(persons.get(month, {}).get("n", 0)),
        ]
        for month in period.months()
    ]
    return Table(
        code="demand.by_month",
        title="Inscriptions par mois",
        columns=["mois", "foyers", "personnes"],
        rows=rows,
        chart=Chart("line", columns=(1, 2)),
    )


@indicator(
    "demand.channels",
    section="demand",
    title="Foyers inscrits par canal",
    formula="Demandes créées dans la période, par canal d'arrivée (formulaire en ligne, "
    "orientation par un professionnel, saisie téléphonique, API).",
    unit="foyers, % des foyers inscrits",
    population="foyers inscrits",
)
def channels(scope: Scope, period: Period) -> Table:
    def count(p):
        return dict(
            registered_requests(scope, p)
            .order_by()
            .values_list("channel")
            .annotate(n=Count("pk"))
            .values_list("channel", "n")
        )

    now, before = count(period), count(period.previous())
    return Table(
        code="demand.channels",
        title="Foyers inscrits par canal",
        columns=["canal", "période", "part (%)", "période précédente", "part (%)"],
        rows=compared_rows(
            Channel.choices,
            now,
            before,
            whole_now=sum(now.values()),
            whole_before=sum(before.values()),
        ),
        chart=Chart("bars", columns=(1, 3)),
    )
