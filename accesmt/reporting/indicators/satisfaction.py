"""Satisfaction: the survey sent at closing (`reporting.satisfaction`). Invitations and answers
are dated by the month of the closing only (answers keep nothing finer, to stay anonymous): a
period counts the months that start in it. The figures are those of the whole CPTS, even for a
scope narrowed to some communes (answers keep no commune)."""

from __future__ import annotations

from django.db.models import Count, Q

from ..catalogue import indicator
from ..cells import Count as CountCell
from ..cells import Rate, Text
from ..models import (
    Delay,
    Ease,
    SatisfactionAnswer,
    SatisfactionInvitation,
    SurveyOutcome,
)
from ..periods import Period, month_label
from ..tables import Chart, Scope, Table, compared_rows

RECOMMEND = (("yes", "oui"), ("no", "non"))
COMMENTS_SHOWN = 200
POPULATION = (
    "foyers dont la demande a été close comme « médecin traitant trouvé » ou retirée, "
    "invités par e-mail ou SMS"
)


def _of(scope: Scope, period: Period) -> Q:
    return scope.where("cpts", None) & Q(month__gte=period.start, month__lt=period.end)


def answer_counts(scope: Scope, period: Period) -> dict[str, dict[str, int]]:
    """{question: {choice: answers}} of the period, in one query (memoised for the page)."""

    def compute():
        questions = {
            "ease": [(f"ease_{value}", Q(ease=value)) for value in Ease.values],
            "delay": [(f"delay_{value}", Q(delay=value)) for value in Delay.values],
            "recommend": [
                ("recommend_yes", Q(would_recommend=True)),
                ("recommend_no", Q(would_recommend=False)),
            ],
        }
        row = SatisfactionAnswer.objects.filter(_of(scope, period)).aggregate(
            **{
                name: Count("pk", filter=condition)
                for pairs in questions.values()
                for name, condition in pairs
            }
        )
        return {
            question: {name.split("_", 1)[1]: row[name] for name, _ in pairs}
            for question, pairs in questions.items()
        }

    return scope.memo(("satisfaction.answers", period), compute)


@indicator(
    "satisfaction.response",
    section="satisfaction",
    title="Enquête de satisfaction : invitations et réponses",
    formula="Foyers invités (e-mail ou SMS) après la clôture de leur demande dans la période, "
    "réponses reçues, taux de réponse = réponses / foyers invités ; foyers sans e-mail ni mobile, "
    "qui ne reçoivent pas l'enquête.",
    unit="foyers, %",
    population=POPULATION,
)
def response(scope: Scope, period: Period) -> Table:
    rows = (
        SatisfactionInvitation.objects.filter(_of(scope, period))
        .order_by()
        .values("outcome")
        .annotate(
            sent=Count("pk", filter=Q(sent_at__isnull=False)),
            answered=Count("pk", filter=Q(answered=True)),
            unsent=Count("pk", filter=Q(sent_at__isnull=True)),
        )
    )
    found = {row["outcome"]: row for row in rows}
    empty = {"sent": 0, "answered": 0, "unsent": 0}

    def line(label, figures):
        return [
            Text(label),
            CountCell(figures["sent"]),
            CountCell(figures["answered"]),
            Rate(figures["answered"], figures["sent"]),
            CountCell(figures["unsent"]),
        ]

    total = {key: sum(row[key] for row in found.values()) for key in empty}
    return Table(
        code="satisfaction.response",
        title="Enquête de satisfaction : invitations et réponses",
        columns=[
            "issue de la demande",
            "foyers invités",
            "réponses",
            "taux de réponse (%)",
            "sans e-mail ni mobile (non invités)",
        ],
        rows=[line(label, found.get(value, empty)) for value, label in SurveyOutcome.choices],
        total=line("Total", total),
        chart=Chart("bars", columns=(1, 2)),
        note="L'enquête part un jour après la clôture, par e-mail ou SMS ; les foyers sans "
        "e-mail ni mobile ne la reçoivent pas (pas de courrier).",
    )


def _distribution(scope: Scope, period: Period, *, question: str, code: str, title: str, choices):
    now = answer_counts(scope, period)[question]
    before = answer_counts(scope, period.previous())[question]
    return Table(
        code=code,
        title=title,
        columns=["réponse", "période", "part (%)", "période précédente", "part (%)"],
        rows=compared_rows(
            choices,
            now,
            before,
            whole_now=sum(now.values()),
            whole_before=sum(before.values()),
        ),
        chart=Chart("bars", columns=(2, 4)),
    )


@indicator(
    "satisfaction.ease",
    section="satisfaction",
    title="Facilité de l'inscription",
    formula="Réponses à « Vous inscrire auprès de la CPTS a été : très facile, plutôt facile, "
    "plutôt difficile, très difficile », pour les clôtures de la période.",
    unit="réponses, % des réponses",
    population=POPULATION + ", ayant répondu",
)
def ease(scope: Scope, period: Period) -> Table:
    return _distribution(
        scope,
        period,
        question="ease",
        code="satisfaction.ease",
        title="Facilité de l'inscription",
        choices=Ease.choices,
    )


@indicator(
    "satisfaction.delay",
    section="satisfaction",
    title="Délai ressenti",
    formula="Réponses à « Le délai avant une réponse à votre demande vous a paru : court, "
    "raisonnable, long, beaucoup trop long », pour les clôtures de la période.",
    unit="réponses, % des réponses",
    population=POPULATION + ", ayant répondu",
)
def delay(scope: Scope, period: Period) -> Table:
    return _distribution(
        scope,
        period,
        question="delay",
        code="satisfaction.delay",
        title="Délai ressenti",
        choices=Delay.choices,
    )


@indicator(
    "satisfaction.recommend",
    section="satisfaction",
    title="Recommanderaient le service",
    formula="Réponses à « Recommanderiez-vous ce service à un proche sans médecin traitant ? "
    "oui / non », pour les clôtures de la période.",
    unit="réponses, % des réponses",
    population=POPULATION + ", ayant répondu",
)
def recommend(scope: Scope, period: Period) -> Table:
    return _distribution(
        scope,
        period,
        question="recommend",
        code="satisfaction.recommend",
        title="Recommanderaient le service",
        choices=RECOMMEND,
    )


@indicator(
    "satisfaction.comments",
    section="satisfaction",
    title="Commentaires libres",
    formula="Commentaires laissés avec les réponses, pour les clôtures de la période (les plus "
    f"récents, {COMMENTS_SHOWN} au plus). Réservés à la coordination : un texte libre peut "
    "désigner quelqu'un.",
    unit="commentaires",
    population=POPULATION + ", ayant laissé un commentaire",
    coordination_only=True,
)
def comments(scope: Scope, period: Period) -> Table:
    labels = dict(SurveyOutcome.choices)
    found = (
        SatisfactionAnswer.objects.filter(_of(scope, period))
        .exclude(comment="")
        .order_by("-month", "pk")
        .values_list("month", "outcome", "comment")[:COMMENTS_SHOWN]
    )
    return Table(
        code="satisfaction.comments",
        title="Commentaires libres",
        columns=["mois de la clôture", "issue de la demande", "commentaire"],
        rows=[
            [Text(month_label(month)), Text(labels.get(outcome, outcome)), Text(comment)]
            for month, outcome, comment in found
        ],
    )
