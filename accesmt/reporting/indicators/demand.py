"""Demand: who registers, through which door, how many are priority."""

from __future__ import annotations

from django.db.models import Case, Count, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce

from accesmt.accounts.models import Membership, Profession
from accesmt.intake.models import Channel, HomeVisits, Reason, RequestPriorityReason, Sex
from accesmt.intake.priority import RULE_TITLES

from ..catalogue import indicator
from ..cells import HIDDEN, Amount, Change, PerThousand, Rate, Text
from ..cells import Count as CountCell
from ..periods import Period, month_label
from ..tables import Chart, Scope, Table, compared_rows
from .common import (
    REPORT_AGE_BANDS,
    age_at_registration,
    age_band_index,
    by_month,
    registered_members,
    registered_requests,
)

OTHER = "autre"


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


def _compared(count, scope: Scope, period: Period):
    """(now, before, whole now, whole before) of a `count(period) -> {key: n}`."""
    now, before = count(period), count(period.previous())
    return now, before, sum(now.values()), sum(before.values())


COMPARED_COLUMNS = ["période", "part (%)", "période précédente", "part (%)"]


@indicator(
    "demand.referrer_professions",
    section="demand",
    title="Foyers orientés par un professionnel, par profession",
    formula="Demandes créées dans la période (hors doublons) qui ont un professionnel orienteur, "
    "par la profession de son appartenance à la CPTS de la demande ; une orientation par un "
    "rôle de l'Assurance Maladie (agent ou médiateur CPAM au moment de l'orientation) compte "
    "sous « Assurance Maladie (CPAM) », quelle que soit la profession de l'appartenance ; sans "
    "profession connue (compte sans appartenance) : « autre ».",
    unit="foyers, % des foyers orientés",
    population="foyers inscrits orientés par un professionnel",
)
def referrer_professions(scope: Scope, period: Period) -> Table:
    profession = Subquery(
        Membership.objects.filter(user=OuterRef("referrer"), cpts=OuterRef("cpts")).values(
            "profession"
        )[:1]
    )

    def count(p):
        found: dict[str, int] = {}
        rows = (
            registered_requests(scope, p)
            .filter(referrer__isnull=False)
            .annotate(
                profession=Case(
                    When(referred_by_cpam=True, then=Value(Profession.CPAM.value)),
                    default=Coalesce(profession, Value("")),
                )
            )
            .order_by()
            .values("profession")
            .annotate(n=Count("pk"))
            .values_list("profession", "n")
        )
        for code, n in rows:
            key = code if code in Profession.values else OTHER
            found[key] = found.get(key, 0) + n
        return found

    now, before, whole_now, whole_before = _compared(count, scope, period)
    return Table(
        code="demand.referrer_professions",
        title="Foyers orientés par un professionnel, par profession",
        columns=["profession", *COMPARED_COLUMNS],
        rows=compared_rows(
            [*Profession.choices, (OTHER, OTHER)],
            now,
            before,
            whole_now=whole_now,
            whole_before=whole_before,
        ),
        chart=Chart("bars", columns=(1, 3)),
    )


@indicator(
    "demand.priority_rules",
    section="demand",
    title="Foyers prioritaires par critère",
    formula="Demandes créées dans la période (hors doublons) pour lesquelles chaque critère de "
    "priorité s'est déclenché (un foyer compte une fois par critère, même si plusieurs de ses "
    "membres le remplissent ; un foyer peut remplir plusieurs critères), rapportées aux foyers "
    "inscrits.",
    unit="foyers, % des foyers inscrits",
    population="foyers inscrits",
)
def priority_rules(scope: Scope, period: Period) -> Table:
    def count(p):
        return dict(
            RequestPriorityReason.objects.filter(request__in=registered_requests(scope, p))
            .order_by()
            .values("rule_code")
            .annotate(n=Count("request", distinct=True))
            .values_list("rule_code", "n")
        )

    now, before = count(period), count(period.previous())
    return Table(
        code="demand.priority_rules",
        title="Foyers prioritaires par critère",
        columns=["critère", *COMPARED_COLUMNS],
        rows=compared_rows(
            RULE_TITLES.items(),
            now,
            before,
            whole_now=totals(scope, period)["households"],
            whole_before=totals(scope, period.previous())["households"],
        ),
        chart=Chart("bars", columns=(1, 3)),
        note="Un foyer peut remplir plusieurs critères : les parts ne s'additionnent pas.",
    )


@indicator(
    "demand.reasons",
    section="demand",
    title="Motifs de la recherche d'un médecin traitant",
    formula="Demandes créées dans la période (hors doublons), par motif déclaré à l'inscription.",
    unit="foyers, % des foyers inscrits",
    population="foyers inscrits",
)
def reasons(scope: Scope, period: Period) -> Table:
    def count(p):
        return dict(
            registered_requests(scope, p)
            .order_by()
            .values("reason")
            .annotate(n=Count("pk"))
            .values_list("reason", "n")
        )

    now, before, whole_now, whole_before = _compared(count, scope, period)
    return Table(
        code="demand.reasons",
        title="Motifs de la recherche d'un médecin traitant",
        columns=["motif", *COMPARED_COLUMNS],
        rows=compared_rows(
            Reason.choices, now, before, whole_now=whole_now, whole_before=whole_before
        ),
        chart=Chart("bars", columns=(1, 3)),
    )


@indicator(
    "demand.ages",
    section="demand",
    title="Personnes inscrites par âge et par sexe",
    formula="Personnes des foyers inscrits dans la période (hors doublons), par tranche d'âge à "
    "la date d'inscription du foyer et par sexe déclaré.",
    unit="personnes, % des personnes inscrites",
    population="personnes inscrites",
)
def ages(scope: Scope, period: Period) -> Table:
    sexes = [(Sex.FEMALE, "f"), (Sex.MALE, "m"), ("", "u")]
    # One GROUP BY (age, sex): the age is computed once per person, and the few hundred
    # (age, sex) groups are put in bands here.
    grouped = (
        registered_members(scope, period)
        .annotate(age=age_at_registration())
        .order_by()
        .values_list("age", "sex")
        .annotate(n=Count("pk"))
    )
    found: dict[tuple[int, str], int] = {}
    unknown = len(REPORT_AGE_BANDS)  # anonymised people whose birth year was withheld
    for age, sex, n in grouped:
        band = unknown if age is None else age_band_index(age)
        key = (band, sex if sex in (Sex.FEMALE, Sex.MALE) else "")
        found[key] = found.get(key, 0) + n
    whole = sum(found.values())
    bands = list(REPORT_AGE_BANDS)
    if any(band == unknown for band, _ in found):
        bands.append((None, "âge non conservé (anonymisé)"))
    rows, totals_by_sex = [], dict.fromkeys((short for _, short in sexes), 0)
    for index, (_, label) in enumerate(bands):
        counts = [found.get((index, sex), 0) for sex, _ in sexes]
        for (_, short), n in zip(sexes, counts, strict=True):
            totals_by_sex[short] += n
        band = sum(counts)
        rows.append([Text(label), *map(CountCell, counts), CountCell(band), Rate(band, whole)])
    return Table(
        code="demand.ages",
        title="Personnes inscrites par âge et par sexe",
        columns=["âge", "femmes", "hommes", "sexe non renseigné", "total", "part (%)"],
        rows=rows,
        total=[
            Text("total"),
            *(CountCell(totals_by_sex[short]) for _, short in sexes),
            CountCell(whole),
            Rate(whole, whole),
        ],
        chart=Chart("bars", columns=(1, 2)),
    )


@indicator(
    "demand.home_visits",
    section="demand",
    title="Besoin de visites à domicile",
    formula="Personnes des foyers inscrits dans la période (hors doublons), par besoin de visites "
    "à domicile déclaré.",
    unit="personnes, % des personnes inscrites",
    population="personnes inscrites",
)
def home_visits(scope: Scope, period: Period) -> Table:
    def count(p):
        return dict(
            registered_members(scope, p)
            .order_by()
            .values("home_visits")
            .annotate(n=Count("pk"))
            .values_list("home_visits", "n")
        )

    now, before, whole_now, whole_before = _compared(count, scope, period)
    return Table(
        code="demand.home_visits",
        title="Besoin de visites à domicile",
        columns=["visites à domicile", *COMPARED_COLUMNS],
        rows=compared_rows(
            HomeVisits.choices, now, before, whole_now=whole_now, whole_before=whole_before
        ),
        chart=Chart("bars", columns=(1, 3)),
    )


@indicator(
    "demand.communes",
    section="demand",
    title="Personnes inscrites pour 1 000 habitants, par commune",
    formula="Personnes des foyers inscrits dans la période (hors doublons) domiciliés dans la "
    "commune, pour 1 000 habitants de la commune (population légale du référentiel des "
    "communes) ; toutes les communes du territoire, de la plus touchée à la moins touchée.",
    unit="personnes pour 1 000 habitants",
    population="personnes inscrites, habitants des communes du territoire",
)
def communes(scope: Scope, period: Period) -> Table:
    persons = dict(
        registered_members(scope, period)
        .order_by()
        .values("request__commune")
        .annotate(n=Count("pk"))
        .values_list("request__commune", "n")
    )
    places = (
        scope.territory_communes().order_by().values_list("pk", "name", "population").distinct()
    )
    rows = []
    for code, name, population in places:
        n = persons.get(code, 0)
        rows.append([Text(name), CountCell(n), Amount(population), PerThousand(n, population or 0)])

    # sorted by the rate as shown: a hidden rate sorted among the others would tell its size
    def order(row):
        rate = row[3].shown(scope.masked)
        return (rate == HIDDEN, -rate if rate != HIDDEN else 0, row[0].value)

    rows.sort(key=order)
    return Table(
        code="demand.communes",
        title="Personnes inscrites pour 1 000 habitants, par commune",
        columns=["commune", "personnes inscrites", "habitants", "pour 1 000 habitants"],
        rows=rows,
        chart=Chart("bars", columns=(3,)),
    )
