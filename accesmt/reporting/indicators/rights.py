"""Rights followed through (issue 12): what the CPAM mediation did for the households who asked
for help with their rights — contacted, unreachable, rights opened and which — in the period
and the previous one. An outcome counts in the period of its date (`RightsOutcome.on`, the day
the mediator says it happened); a household counts once per line even when several outcomes of
the same kind were recorded."""

from __future__ import annotations

from django.db.models import Count, Q

from accesmt.intake.models import OPENED_RIGHTS, RightsOutcome, RightsOutcomeKind

from ..catalogue import indicator
from ..cells import Change, Text
from ..cells import Count as CountCell
from ..periods import Period
from ..tables import Chart, Scope, Table

LINES = [
    ("contacted", "foyers contactés", Q(kind=RightsOutcomeKind.CONTACTED)),
    ("unreachable", "foyers injoignables", Q(kind=RightsOutcomeKind.UNREACHABLE)),
    ("opened", "foyers dont les droits ont été ouverts", Q(kind=RightsOutcomeKind.RIGHTS_OPENED)),
    *[(name, f"dont {label}", Q(**{name: True})) for name, label in OPENED_RIGHTS.items()],
]


def rights_counts(scope: Scope, period: Period) -> dict[str, int]:
    """Households per line of LINES with an outcome dated in the period (one query, memoised)."""

    def compute():
        outcomes = RightsOutcome.objects.filter(
            scope.where("cpts", "request__commune"), on__gte=period.start, on__lt=period.end
        )
        return outcomes.aggregate(
            **{key: Count("request", distinct=True, filter=where) for key, _, where in LINES}
        )

    return scope.memo(("rights.outcomes", period), compute)


@indicator(
    "outcomes.rights",
    section="outcomes",
    title="Accès aux droits : suites de la médiation",
    formula="Foyers pour lesquels la médiation de l'Assurance Maladie (ou la coordination) a "
    "enregistré, à une date de la période, un contact, une tentative restée sans réponse ou "
    "l'ouverture de droits ; pour les droits ouverts, le détail par droit (un foyer peut en "
    "ouvrir plusieurs). Chaque foyer compte une fois par ligne.",
    unit="foyers",
    population="foyers ayant demandé de l'aide pour l'accès aux droits",
)
def rights_outcomes(scope: Scope, period: Period) -> Table:
    now, before = rights_counts(scope, period), rights_counts(scope, period.previous())
    return Table(
        code="outcomes.rights",
        title="Accès aux droits : suites de la médiation",
        columns=["", "période", "période précédente", "évolution (%)"],
        rows=[
            [
                Text(label),
                CountCell(now[key]),
                CountCell(before[key]),
                Change(now[key], before[key]),
            ]
            for key, label, _ in LINES
        ],
        chart=Chart("bars", columns=(1, 2)),
    )
