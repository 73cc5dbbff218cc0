"""The médecin traitant declared (issue 12): of the households that found a médecin traitant in
the period (closed "médecin traitant trouvé" or "suivi habituel officialisé", still closed so),
how many have confirmed the declaration to the Assurance Maladie — by the person, the GP or
the coordination (`Placement.declared_at`, whenever it was confirmed)."""

from __future__ import annotations

from django.db.models import Count, Q

from accesmt.intake.models import Request, Status
from accesmt.orientation.models import DECLARABLE_REASONS

from ..catalogue import indicator
from ..cells import Change, Rate, Text
from ..cells import Count as CountCell
from ..periods import Period
from ..tables import Chart, Scope, Table

DECLARED = Q(placement__declared_at__isnull=False)


def declared_counts(scope: Scope, period: Period) -> dict[str, int]:
    """{"found": households with a médecin traitant in the period, "declared": of them, with the
    declaration confirmed} (one query, memoised)."""

    def compute():
        start, end = period.bounds()
        found = Request.objects.filter(
            scope.where(),
            status=Status.CLOSED,
            closed_reason__in=DECLARABLE_REASONS,
            closed_at__gte=start,
            closed_at__lt=end,
        )
        return found.aggregate(found=Count("pk"), declared=Count("pk", filter=DECLARED))

    return scope.memo(("declarations", period), compute)


@indicator(
    "outcomes.declared",
    section="outcomes",
    title="Médecin traitant déclaré",
    formula="Parmi les foyers dont la demande a été close dans la période « médecin traitant "
    "trouvé » ou « suivi habituel officialisé » (et l'est toujours), ceux dont la déclaration "
    "du médecin traitant à l'Assurance Maladie a été confirmée par la personne, le médecin ou "
    "la coordination, à quelque date que ce soit ; part en %.",
    unit="foyers, %",
    population="foyers ayant trouvé un médecin traitant dans la période",
)
def declared(scope: Scope, period: Period) -> Table:
    now, before = declared_counts(scope, period), declared_counts(scope, period.previous())
    return Table(
        code="outcomes.declared",
        title="Médecin traitant déclaré",
        columns=["", "période", "part (%)", "période précédente", "part (%)", "évolution (%)"],
        rows=[
            [
                Text("foyers ayant trouvé un médecin traitant"),
                CountCell(now["found"]),
                Rate(now["found"], now["found"]),
                CountCell(before["found"]),
                Rate(before["found"], before["found"]),
                Change(now["found"], before["found"]),
            ],
            [
                Text("dont médecin traitant déclaré"),
                CountCell(now["declared"]),
                Rate(now["declared"], now["found"]),
                CountCell(before["declared"]),
                Rate(before["declared"], before["found"]),
                Change(now["declared"], before["declared"]),
            ],
        ],
        chart=Chart("bars", columns=(1, 3)),
    )
