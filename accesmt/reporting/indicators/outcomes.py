"""Outcomes: what became of the households that registered (the cohort of the period), how long
they waited, why requests closed, who is still waiting.

"Solved" is a request closed "médecin traitant trouvé" — a placement recorded by the GP, the
person or the coordination (`orientation.Placement`), or the person saying they found one
themselves — or "suivi habituel officialisé" (the GP the person already saw became their MT,
issue 12); its date is `closed_at` (the placement's date when there is one). A request reopened
since no longer counts, as `Placement.objects.current()`."""

from __future__ import annotations

import datetime

from django.db.models import Count, OuterRef, Q, Subquery
from django.utils import timezone

from accesmt.intake.models import SOLVED_REASONS, ClosedReason, Request, Status
from accesmt.orientation.models import Solicitation

from ..catalogue import indicator
from ..cells import Count as CountCell
from ..cells import Days, Text
from ..periods import Period, add_months, month_label
from ..tables import Chart, Scope, Table, compared_rows
from .common import (
    by_month,
    closed_requests,
    duration,
    found_members,
    found_requests,
    quantile_days,
    registered_requests,
    usual_gp_members,
    usual_gp_requests,
)

SOLVED_WITHIN_DAYS = 183  # "within 6 months of registration"
SOLVED = Q(status=Status.CLOSED, closed_reason__in=SOLVED_REASONS)


def cohort(scope: Scope, period: Period) -> dict:
    """What became of the households registered in the period (one query, memoised for the
    page): registered, solved, solved within 6 months, closed unreachable, withdrawn."""

    def compute():
        requests = registered_requests(scope, period).alias(
            waited=duration("closed_at", "created_at")
        )
        return requests.aggregate(
            registered=Count("pk"),
            solved=Count("pk", filter=SOLVED),
            solved_6_months=Count(
                "pk",
                filter=SOLVED & Q(waited__lte=datetime.timedelta(days=SOLVED_WITHIN_DAYS)),
            ),
            unreachable=Count(
                "pk", filter=Q(status=Status.CLOSED, closed_reason=ClosedReason.UNREACHABLE)
            ),
            withdrawn=Count(
                "pk", filter=Q(status=Status.CLOSED, closed_reason=ClosedReason.WITHDRAWN)
            ),
        )

    return scope.memo(("outcomes.cohort", period), compute)


def _cohort_rows(scope: Scope, period: Period, lines) -> list:
    now, before = cohort(scope, period), cohort(scope, period.previous())
    return compared_rows(
        lines, now, before, whole_now=now["registered"], whole_before=before["registered"]
    )


COHORT_COLUMNS = ["", "foyers", "part (%)", "cohorte précédente", "part (%)"]


@indicator(
    "outcomes.solved",
    section="outcomes",
    title="Foyers ayant trouvé un médecin traitant",
    formula="Parmi les foyers inscrits dans la période (hors doublons), ceux dont la demande est "
    "close à ce jour « médecin traitant trouvé » ou « suivi habituel officialisé » (le médecin "
    "que la personne consultait déjà est devenu son médecin traitant), et ceux qui l'ont trouvé "
    "dans les 183 jours "
    "(6 mois) suivant leur inscription ; comparés à la cohorte de la période précédente. Une "
    "cohorte récente n'a pas encore eu six mois.",
    unit="foyers, % des foyers inscrits",
    population="foyers inscrits dans la période (cohorte)",
)
def solved(scope: Scope, period: Period) -> Table:
    return Table(
        code="outcomes.solved",
        title="Foyers ayant trouvé un médecin traitant",
        columns=COHORT_COLUMNS,
        rows=_cohort_rows(
            scope,
            period,
            [
                ("solved", "médecin traitant trouvé"),
                ("solved_6_months", "trouvé dans les 6 mois suivant l'inscription"),
            ],
        ),
        chart=Chart("bars", columns=(2, 4)),
    )


@indicator(
    "outcomes.usual_gp",
    section="outcomes",
    title="Suivis habituels officialisés",
    formula="Demandes closes « suivi habituel officialisé » dans la période (date de clôture dans "
    "la période, encore closes ainsi à ce jour) : le médecin que la personne consultait déjà sans "
    "l'avoir déclaré a accepté de devenir son médecin traitant et la personne l'a confirmé ; "
    "foyers et personnes de ces foyers, comparés à la période précédente. Ces foyers comptent "
    "aussi parmi les foyers ayant trouvé un médecin traitant.",
    unit="foyers, personnes",
    population="foyers dont le suivi habituel a été officialisé dans la période",
)
def usual_gp(scope: Scope, period: Period) -> Table:
    def count(p):
        return {
            "households": usual_gp_requests(scope, p).count(),
            "persons": usual_gp_members(scope, p).count(),
        }

    now, before = count(period), count(period.previous())
    return Table(
        code="outcomes.usual_gp",
        title="Suivis habituels officialisés",
        columns=["", "période", "période précédente"],
        rows=compared_rows([("households", "foyers"), ("persons", "personnes")], now, before),
        chart=Chart("bars", columns=(1, 2)),
    )


@indicator(
    "outcomes.unreachable_withdrawn",
    section="outcomes",
    title="Foyers injoignables ou qui ont retiré leur demande",
    formula="Parmi les foyers inscrits dans la période (hors doublons), ceux dont la demande est "
    "close à ce jour comme « personne injoignable » (dont sans réponse à « toujours besoin ? ») "
    "ou « retirée par la personne » ; comparés à la cohorte précédente.",
    unit="foyers, % des foyers inscrits",
    population="foyers inscrits dans la période (cohorte)",
)
def unreachable_withdrawn(scope: Scope, period: Period) -> Table:
    return Table(
        code="outcomes.unreachable_withdrawn",
        title="Foyers injoignables ou qui ont retiré leur demande",
        columns=COHORT_COLUMNS,
        rows=_cohort_rows(
            scope,
            period,
            [("unreachable", "personne injoignable"), ("withdrawn", "retirée par la personne")],
        ),
        chart=Chart("bars", columns=(2, 4)),
    )


def delays(scope: Scope, period: Period) -> dict:
    """{measure: (n, {0.5: days, 0.9: days})} over the cohort: registration → first GP asked,
    registration → GP found (six or seven queries; none loads the rows)."""
    first_asked = Subquery(
        Solicitation.objects.filter(request=OuterRef("pk"))
        .order_by("asked_at")
        .values("asked_at")[:1]
    )
    requests = registered_requests(scope, period)
    return {
        "asked": quantile_days(
            requests.annotate(first_asked=first_asked).annotate(
                delay=duration("first_asked", "created_at")
            ),
            "delay",
        ),
        "found": quantile_days(
            requests.filter(SOLVED).annotate(delay=duration("closed_at", "created_at")), "delay"
        ),
    }


@indicator(
    "outcomes.delays",
    section="outcomes",
    title="Délais depuis l'inscription",
    formula="Parmi les foyers inscrits dans la période (hors doublons) : jours entre l'inscription "
    "et la première sollicitation d'un médecin (foyers pour lesquels un médecin a été sollicité), "
    "et entre l'inscription et le médecin traitant trouvé (foyers dont la demande est close "
    "« médecin traitant trouvé » ou « suivi habituel officialisé ») ; médiane (moyenne des "
    "deux valeurs du milieu pour un nombre pair) et 90ᵉ centile (rang le plus proche), "
    "calculés par la base de données.",
    unit="jours",
    population="foyers inscrits dans la période (cohorte)",
)
def delays_table(scope: Scope, period: Period) -> Table:
    now, before = delays(scope, period), delays(scope, period.previous())
    rows = []
    for key, label in (
        ("asked", "jusqu'au premier médecin sollicité"),
        ("found", "jusqu'au médecin traitant trouvé"),
    ):
        n, values = now[key]
        n_before, values_before = before[key]
        rows.append(
            [
                Text(label),
                CountCell(n),
                Days(values[0.5], n),
                Days(values[0.9], n),
                Days(values_before[0.5], n_before),
                Days(values_before[0.9], n_before),
            ]
        )
    return Table(
        code="outcomes.delays",
        title="Délais depuis l'inscription",
        columns=[
            "délai",
            "foyers",
            "médiane (jours)",
            "90ᵉ centile (jours)",
            "médiane, cohorte précédente",
            "90ᵉ centile, cohorte précédente",
        ],
        rows=rows,
        chart=Chart("bars", columns=(2, 3)),
    )


@indicator(
    "outcomes.closing_reasons",
    section="outcomes",
    title="Motifs de clôture",
    formula="Demandes closes dans la période (date de clôture dans la période, encore closes à "
    "ce jour), par motif, quelle que soit leur date d'inscription ; les doublons ne sont pas des "
    "issues et sont laissés de côté.",
    unit="foyers, % des demandes closes",
    population="demandes closes dans la période",
)
def closing_reasons(scope: Scope, period: Period) -> Table:
    def count(p):
        return dict(
            closed_requests(scope, p)
            .order_by()
            .values("closed_reason")
            .annotate(n=Count("pk"))
            .values_list("closed_reason", "n")
        )

    now, before = count(period), count(period.previous())
    reasons = [(code, label) for code, label in ClosedReason.choices if code != "duplicate"]
    return Table(
        code="outcomes.closing_reasons",
        title="Motifs de clôture",
        columns=["motif", "période", "part (%)", "période précédente", "part (%)"],
        rows=compared_rows(
            reasons,
            now,
            before,
            whole_now=sum(now.values()),
            whole_before=sum(before.values()),
        ),
        chart=Chart("bars", columns=(1, 3)),
    )


SENIORITY = (
    (1, "moins d'un mois"),
    (3, "1 à 3 mois"),
    (6, "3 à 6 mois"),
    (12, "6 à 12 mois"),
    (None, "plus de 12 mois"),
)


def period_end_moment(period: Period) -> datetime.datetime:
    """The end of the period, or now while the period runs."""
    return min(period.bounds()[1], timezone.now())


def still_waiting(scope: Scope, period: Period) -> dict[int, int]:
    """{index in SENIORITY: households} still without a GP at the end of the period (one
    query): registered before it (duplicates left out) and not closed then — open today, or
    closed since. Seniority counts from registration, in calendar months before that moment."""
    end = period_end_moment(period)
    local_end = timezone.localtime(end)
    bounds = []
    for months, _ in SENIORITY:
        bounds.append(
            None
            if months is None
            else datetime.datetime.combine(
                add_months(local_end.date(), -months), local_end.timetz()
            )
        )
    aggregates, newer = {}, None
    for index, older in enumerate(bounds):
        condition = Q()
        if older is not None:
            condition &= Q(created_at__gte=older)
        if newer is not None:
            condition &= Q(created_at__lt=newer)
        aggregates[str(index)] = Count("pk", filter=condition)
        newer = older
    found = (
        Request.objects.filter(scope.where())
        .filter(created_at__lt=end)
        .filter(~Q(status=Status.CLOSED) | Q(closed_at__gte=end))
        .exclude(closed_reason=ClosedReason.DUPLICATE)
        .aggregate(**aggregates)
    )
    return {int(key): value for key, value in found.items()}


@indicator(
    "outcomes.still_waiting",
    section="outcomes",
    title="Foyers toujours sans médecin traitant en fin de période, par ancienneté",
    formula="Foyers inscrits avant la fin de la période (ou aujourd'hui si elle n'est pas finie), "
    "hors doublons, dont la demande n'était pas close à cette date (à vérifier, en attente ou en "
    "cours d'orientation), par ancienneté depuis l'inscription en mois calendaires ; comparés à "
    "la fin de la période précédente.",
    unit="foyers, % des foyers en attente",
    population="foyers en attente à la fin de la période",
)
def waiting_by_seniority(scope: Scope, period: Period) -> Table:
    now, before = still_waiting(scope, period), still_waiting(scope, period.previous())
    return Table(
        code="outcomes.still_waiting",
        title="Foyers toujours sans médecin traitant en fin de période, par ancienneté",
        columns=[
            "ancienneté",
            "fin de période",
            "part (%)",
            "fin de la période précédente",
            "part (%)",
        ],
        rows=compared_rows(
            [(index, label) for index, (_, label) in enumerate(SENIORITY)],
            now,
            before,
            whole_now=sum(now.values()),
            whole_before=sum(before.values()),
        ),
        chart=Chart("bars", columns=(1, 3)),
    )


@indicator(
    "outcomes.solved_by_month",
    section="outcomes",
    title="Médecins traitants trouvés par mois",
    formula="Demandes closes « médecin traitant trouvé » chaque mois de la période (date du "
    "médecin trouvé), quelle que soit leur date d'inscription, et personnes de ces foyers.",
    unit="foyers, personnes par mois",
    population="foyers ayant trouvé un médecin traitant dans la période",
)
def solved_by_month(scope: Scope, period: Period) -> Table:
    households = by_month(found_requests(scope, period), "closed_at", n=Count("pk"))
    persons = by_month(found_members(scope, period), "request__closed_at", n=Count("pk"))
    return Table(
        code="outcomes.solved_by_month",
        title="Médecins traitants trouvés par mois",
        columns=["mois", "foyers", "personnes"],
        rows=[
            [
                Text(month_label(month)),
                CountCell(households.get(month, {}).get("n", 0)),
                CountCell(persons.get(month, {}).get("n", 0)),
            ]
            for month in period.months()
        ],
        chart=Chart("line", columns=(1, 2)),
    )
