"""Offer: the GPs of the territory — who takes new patients and how they are listed, the survey's
response rate, ages and the GPs aged 60 and over, teaching GPs (MSU), inhabitants per GP by
commune, the number of GPs over time (the counts kept by each RPPS import), places declared
against persons placed, departures declared.

The directory knows its GPs as they are now, plus when a GP or a site left (`gone_since`):
figures "at the end of the period" count the GPs present at that moment (or now, while the
period runs) with the ages of that year. `is_msu` has no history: it is today's flag."""

from __future__ import annotations

import datetime

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from accesmt.common.formats import long_date, short_date
from accesmt.directory.models import (
    AGE_BAND_LIMITS,
    Accepting,
    AgeBand,
    AvailabilityDeclaration,
    GPCount,
    Listing,
    PracticeSite,
    Practitioner,
    SurveyCampaign,
    SurveyInvitation,
    age_band_q,
    aged_60_plus_q,
    unknown_age_q,
)
from accesmt.directory.survey import response_counts_by_campaign
from accesmt.orientation.models import Placement

from ..catalogue import indicator
from ..cells import Amount, PerThousand, Rate, Ratio, Text
from ..cells import Count as CountCell
from ..periods import Period, add_months, month_label
from ..tables import Chart, Scope, Table, compared_rows
from .common import by_month

HORIZONS = (12, 24, 36)  # months ahead for the declared departures
AT_END = "fin de période"
AT_END_BEFORE = "fin de période précédente"


def moment_of(scope: Scope, period: Period) -> datetime.datetime:
    """The end of the period, or now while it runs: when "at the end of the period" is taken
    (one "now" for the whole page, so that its tables share their queries and agree)."""
    return scope.memo(("offer.moment", period), lambda: min(period.bounds()[1], timezone.now()))


def _present_at(moment: datetime.datetime, prefix: str = "") -> Q:
    """Not gone, or gone after `moment` (a practitioner or a site, reached through `prefix`)."""
    return Q(**{f"{prefix}is_gone": False}) | Q(**{f"{prefix}gone_since__gt": moment})


def sites_at(scope: Scope, moment: datetime.datetime) -> QuerySet:
    """Practice sites of the scope's communes present at `moment`, of GPs present then."""
    return PracticeSite.objects.filter(
        _present_at(moment),
        _present_at(moment, "practitioner__"),
        scope.where("commune__territory__cpts", "commune"),
        commune__territory__isnull=False,
    )


def gps_at(scope: Scope, moment: datetime.datetime) -> QuerySet:
    """The GPs of the scope at `moment`: present, with a present site in one of its communes."""
    return Practitioner.objects.filter(
        Exists(sites_at(scope, moment).filter(practitioner=OuterRef("pk")))
    )


def gp_figures(scope: Scope, moment: datetime.datetime) -> dict[str, int]:
    """GPs of the scope at `moment`: total, MSU, aged 60+, unknown age and each age band (ages
    of `moment`'s year). One query, shared by the indicators of the page."""
    year = timezone.localtime(moment).year

    def compute():
        return gps_at(scope, moment).aggregate(
            total=Count("pk"),
            msu=Count("pk", filter=Q(is_msu=True)),
            aged_60_plus=Count("pk", filter=aged_60_plus_q(year)),
            unknown=Count("pk", filter=unknown_age_q()),
            **{band: Count("pk", filter=age_band_q(band, year)) for band, *_ in AGE_BAND_LIMITS},
        )

    return scope.memo(("offer.gps", moment), compute)


def declarations_at(scope: Scope, moment: datetime.datetime) -> QuerySet:
    """The declaration of each GP of the scope that was current at `moment`: their latest one
    made by then, not expired then (`AvailabilityDeclaration.objects.current()` as of a date)."""
    return latest_declarations_at(scope, moment).filter(valid_until__gt=moment)


def latest_declarations_at(scope: Scope, moment: datetime.datetime) -> QuerySet:
    """The latest declaration made by `moment` of each GP of the scope present then, expired or
    not (the departures: a declared date stays the GP's last word, as
    `directory.selectors.latest_declarations`)."""
    newer = AvailabilityDeclaration.objects.filter(
        practitioner=OuterRef("practitioner"), cpts=OuterRef("cpts"), declared_at__lte=moment
    ).filter(
        Q(declared_at__gt=OuterRef("declared_at"))
        | Q(declared_at=OuterRef("declared_at"), pk__gt=OuterRef("pk"))
    )
    return AvailabilityDeclaration.objects.filter(
        scope.where("cpts", None),
        ~Exists(newer),
        Exists(sites_at(scope, moment).filter(practitioner=OuterRef("practitioner"))),
        declared_at__lte=moment,
    )


def _whole(n: int) -> Rate:
    return Rate(n, n)


LISTING_LABELS = (
    (Listing.PUBLIC, "listés publiquement (carte publique)"),
    (Listing.PROFESSIONALS, "listés pour les professionnels seulement"),
    (Listing.NOT_LISTED, "non listés"),
)


@indicator(
    "offer.accepting",
    section="offer",
    title="Médecins qui acceptent de nouveaux patients",
    formula="Médecins présents dont la déclaration en cours à la fin de la période (la dernière "
    "faite, non expirée) répond « oui » à « accepte de nouveaux patients », selon la liste où ils "
    "acceptent d'apparaître ; part de tous les médecins présents. « Au cas par cas » n'est pas "
    "compté.",
    unit="médecins, % des médecins présents",
    population="médecins généralistes présents sur le territoire",
)
def accepting(scope: Scope, period: Period) -> Table:
    def count(p: Period) -> dict:
        moment = moment_of(scope, p)
        rows = (
            declarations_at(scope, moment)
            .filter(accepting=Accepting.YES)
            .order_by()
            .values("listing")
            .annotate(n=Count("practitioner", distinct=True))
        )
        return {row["listing"]: row["n"] for row in rows}

    now, before = count(period), count(period.previous())
    gps_now = gp_figures(scope, moment_of(scope, period))["total"]
    gps_before = gp_figures(scope, moment_of(scope, period.previous()))["total"]
    yes_now, yes_before = sum(now.values()), sum(before.values())
    return Table(
        code="offer.accepting",
        title="Médecins qui acceptent de nouveaux patients",
        columns=["", AT_END, "part (%)", AT_END_BEFORE, "part (%)"],
        rows=compared_rows(LISTING_LABELS, now, before, whole_now=gps_now, whole_before=gps_before),
        total=[
            Text("acceptent de nouveaux patients"),
            CountCell(yes_now),
            Rate(yes_now, gps_now),
            CountCell(yes_before),
            Rate(yes_before, gps_before),
        ],
        chart=Chart("bars", columns=(1, 3)),
    )


@indicator(
    "offer.survey",
    section="offer",
    title="Taux de réponse aux enquêtes de disponibilité",
    formula="Pour les enquêtes lancées dans la période : invitations auxquelles le médecin a "
    "répondu au moins une fois par son lien personnel, sur les invitations envoyées (la même "
    "définition que la page de l'enquête).",
    unit="invitations, % de réponses",
    population="médecins invités aux enquêtes de la période",
)
def survey(scope: Scope, period: Period) -> Table:
    start, end = period.bounds()
    campaigns = list(
        SurveyCampaign.objects.filter(
            scope.where("cpts", None), launched_at__gte=start, launched_at__lt=end
        ).order_by("launched_at", "pk")
    )
    invitations = SurveyInvitation.objects.filter(campaign__in=[c.pk for c in campaigns])
    if scope.communes is not None:
        invitations = invitations.filter(
            Exists(
                PracticeSite.objects.filter(
                    practitioner=OuterRef("practitioner"), commune__in=scope.communes
                )
            )
        )
    counts = response_counts_by_campaign(invitations) if campaigns else {}
    rows, sent, answered = [], 0, 0
    for campaign in campaigns:
        found = counts.get(campaign.pk, {"sent": 0, "answered": 0})
        sent, answered = sent + found["sent"], answered + found["answered"]
        rows.append(
            [
                Text(campaign.title),
                Text(short_date(campaign.launched_at)),
                CountCell(found["sent"]),
                CountCell(found["answered"]),
                Rate(found["answered"], found["sent"]),
            ]
        )
    return Table(
        code="offer.survey",
        title="Taux de réponse aux enquêtes de disponibilité",
        columns=["enquête", "lancée le", "invitations envoyées", "réponses", "taux (%)"],
        rows=rows,
        total=[
            Text("ensemble des enquêtes de la période"),
            Text(""),
            CountCell(sent),
            CountCell(answered),
            Rate(answered, sent),
        ]
        if rows
        else None,
        chart=Chart("bars", columns=(4,)),
        note="" if rows else "Aucune enquête lancée dans la période.",
    )


@indicator(
    "offer.age_bands",
    section="offer",
    title="Médecins par tranche d'âge",
    formula="Médecins présents à la fin de la période par tranche d'âge : âge calculé sur "
    "l'année de naissance quand elle est connue (année − année de naissance), sinon tranche "
    "saisie par la coordination.",
    unit="médecins, % des médecins présents",
    population="médecins généralistes présents sur le territoire",
)
def age_bands(scope: Scope, period: Period) -> Table:
    figures = gp_figures(scope, moment_of(scope, period))
    total = figures["total"]
    lines = [*AgeBand.choices, ("unknown", "âge non renseigné")]
    return Table(
        code="offer.age_bands",
        title="Médecins par tranche d'âge",
        columns=["tranche d'âge", "médecins", "part (%)"],
        rows=[
            [Text(label), CountCell(figures[key]), Rate(figures[key], total)]
            for key, label in lines
        ],
        total=[Text("ensemble des médecins"), CountCell(total), _whole(total)],
        chart=Chart("bars", columns=(1,)),
    )


def _compared_gps(scope: Scope, period: Period, key: str, label: str, code: str, title: str):
    now = gp_figures(scope, moment_of(scope, period))
    before = gp_figures(scope, moment_of(scope, period.previous()))
    lines = [(key, label)] + ([("unknown", "âge non renseigné")] if key == "aged_60_plus" else [])
    return Table(
        code=code,
        title=title,
        columns=["", AT_END, "part (%)", AT_END_BEFORE, "part (%)"],
        rows=compared_rows(
            lines, now, before, whole_now=now["total"], whole_before=before["total"]
        ),
        total=[
            Text("ensemble des médecins"),
            CountCell(now["total"]),
            _whole(now["total"]),
            CountCell(before["total"]),
            _whole(before["total"]),
        ],
        chart=Chart("bars", columns=(1, 3)),
    )


@indicator(
    "offer.aged_60_plus",
    section="offer",
    title="Médecins de 60 ans et plus",
    formula="Médecins présents à la fin de la période âgés de 60 ans ou plus cette année-là "
    "(année de naissance, à défaut tranche d'âge saisie) ; part de tous les médecins présents.",
    unit="médecins, % des médecins présents",
    population="médecins généralistes présents sur le territoire",
)
def aged_60_plus(scope: Scope, period: Period) -> Table:
    return _compared_gps(
        scope,
        period,
        "aged_60_plus",
        "60 ans et plus",
        "offer.aged_60_plus",
        "Médecins de 60 ans et plus",
    )


@indicator(
    "offer.msu",
    section="offer",
    title="Médecins maîtres de stage universitaires (MSU)",
    formula="Médecins présents à la fin de la période qui accueillent des internes (MSU, "
    "d'après l'annuaire tenu par la coordination) ; part de tous les médecins présents.",
    unit="médecins, % des médecins présents",
    population="médecins généralistes présents sur le territoire",
)
def msu(scope: Scope, period: Period) -> Table:
    return _compared_gps(
        scope,
        period,
        "msu",
        "maîtres de stage universitaires",
        "offer.msu",
        "Médecins maîtres de stage universitaires (MSU)",
    )


@indicator(
    "offer.by_commune",
    section="offer",
    title="Habitants par médecin, par commune",
    formula="Pour chaque commune : population (Insee) ; médecins présents à la fin de la période "
    "ayant un lieu d'exercice dans la commune (un médecin de deux communes compte dans chacune, "
    "une fois dans l'ensemble) ; médecins pour 10 000 habitants ; habitants par médecin.",
    unit="habitants, médecins, médecins pour 10 000 habitants, habitants par médecin",
    population="communes du territoire et médecins généralistes présents",
)
def by_commune(scope: Scope, period: Period) -> Table:
    moment = moment_of(scope, period)
    communes = list(
        scope.territory_communes().order_by("name", "pk").values_list("pk", "name", "population")
    )
    gps = dict(
        sites_at(scope, moment)
        .order_by()
        .values_list("commune")
        .annotate(n=Count("practitioner", distinct=True))
        .values_list("commune", "n")
    )
    rows = []
    for pk, name, population in communes:
        n = gps.get(pk, 0)
        rows.append(
            [
                Text(name),
                Amount(population),
                CountCell(n),
                PerThousand(n, population, per=10000),
                Ratio(population, n),
            ]
        )
    inhabitants = sum(population for _pk, _name, population in communes)
    total = gp_figures(scope, moment)["total"]
    return Table(
        code="offer.by_commune",
        title="Habitants par médecin, par commune",
        columns=[
            "commune",
            "habitants",
            "médecins",
            "médecins pour 10 000 habitants",
            "habitants par médecin",
        ],
        rows=rows,
        total=[
            Text("ensemble du territoire"),
            Amount(inhabitants),
            CountCell(total),
            PerThousand(total, inhabitants, per=10000),
            Ratio(inhabitants, total),
        ],
        chart=Chart("bars", columns=(4,)),
    )


def _last_counts_of_months(scope: Scope, before: datetime.date) -> list[tuple]:
    """(CPTS id, date, present, aged 60+, MSU) of the last count of each CPTS in each month,
    counts dated before `before`, oldest first: one query."""
    newer = GPCount.objects.annotate(month=TruncMonth("date")).filter(
        cpts=OuterRef("cpts"), month=OuterRef("month"), date__gt=OuterRef("date")
    )
    return list(
        GPCount.objects.filter(scope.where("cpts", None), date__lt=before)
        .annotate(month=TruncMonth("date"))
        .filter(~Exists(newer))
        .order_by("date", "cpts_id")
        .values_list("cpts_id", "date", "present", "aged_60_plus", "msu")
    )


@indicator(
    "offer.gp_history",
    section="offer",
    title="Évolution du nombre de médecins",
    formula="Chaque import de l'annuaire national (RPPS) compte les médecins présents de chaque "
    "CPTS, ceux de 60 ans et plus et les MSU ; chaque mois montre le dernier décompte fait "
    "jusqu'à la fin du mois (le mois sans import reprend le décompte précédent).",
    unit="médecins",
    population="médecins généralistes présents sur le territoire",
)
def gp_history(scope: Scope, period: Period) -> Table:
    columns = ["mois", "médecins présents", "dont 60 ans et plus", "dont MSU"]
    if scope.communes is not None:
        return Table(
            code="offer.gp_history",
            title="Évolution du nombre de médecins",
            columns=columns,
            rows=[],
            note="Les décomptes sont tenus pour le territoire de la CPTS entier.",
        )
    counts = _last_counts_of_months(scope, period.end)
    latest: dict[int, tuple] = {}
    position, rows = 0, []
    for month in period.months():
        following = add_months(month, 1)
        while position < len(counts) and counts[position][1] < following:
            latest[counts[position][0]] = counts[position][2:]
            position += 1
        if not latest:
            rows.append([Text(month_label(month)), Amount(None), Amount(None), Amount(None)])
            continue
        sums = [sum(values[index] for values in latest.values()) for index in range(3)]
        rows.append([Text(month_label(month)), *(CountCell(n) for n in sums)])
    return Table(
        code="offer.gp_history",
        title="Évolution du nombre de médecins",
        columns=columns,
        rows=rows,
        chart=Chart("line", columns=(1, 2, 3)),
        note="« — » : pas encore de décompte (l'historique commence à la mise en service).",
    )


def _places_declared(scope: Scope, starts: list[datetime.datetime]) -> list[int]:
    """Places per month declared by the GPs of the scope in their declaration current at each
    of `starts`: one query, one conditional sum per month."""
    newer = (
        AvailabilityDeclaration.objects.filter(
            practitioner=OuterRef("practitioner"), cpts=OuterRef("cpts")
        )
        .filter(
            Q(declared_at__gt=OuterRef("declared_at"))
            | Q(declared_at=OuterRef("declared_at"), pk__gt=OuterRef("pk"))
        )
        .order_by("declared_at", "pk")
        .values("declared_at")[:1]
    )
    declared = AvailabilityDeclaration.objects.filter(
        scope.where("cpts", None),
        accepting__in=[Accepting.YES, Accepting.ON_REQUEST],
        monthly_capacity__gt=0,
    )
    if scope.communes is not None:
        declared = declared.filter(
            Exists(
                PracticeSite.objects.filter(
                    practitioner=OuterRef("practitioner"), commune__in=scope.communes
                )
            )
        )
    declared = declared.annotate(superseded_at=Subquery(newer))
    sums = declared.aggregate(
        **{
            f"m{index}": Sum(
                "monthly_capacity",
                filter=Q(declared_at__lte=start, valid_until__gt=start)
                & (Q(superseded_at__isnull=True) | Q(superseded_at__gt=start))
                & _present_at(start, "practitioner__"),
            )
            for index, start in enumerate(starts)
        }
    )
    return [sums[f"m{index}"] or 0 for index in range(len(starts))]


@indicator(
    "offer.capacity",
    section="offer",
    title="Places déclarées et personnes orientées, par mois",
    formula="Places : somme des « nouveaux patients par mois » des déclarations en cours le "
    "premier jour du mois (médecins qui acceptent, y compris au cas par cas). Personnes "
    "orientées : membres des foyers dont le médecin traitant trouvé a été enregistré dans le "
    "mois (demande toujours close « MT trouvé »).",
    unit="places par mois, personnes",
    population="médecins qui déclarent une capacité ; foyers orientés",
)
def capacity(scope: Scope, period: Period) -> Table:
    months = period.months()
    zone = timezone.get_current_timezone()
    now = timezone.now()
    starts = [datetime.datetime.combine(m, datetime.time(), tzinfo=zone) for m in months]
    past = [start for start in starts if start <= now]
    places = _places_declared(scope, past) if past else []
    start, end = period.bounds()
    placed = by_month(
        Placement.objects.current().filter(
            scope.where("cpts", "request__commune"), at__gte=start, at__lt=end
        ),
        "at",
        persons=Sum("members"),
    )
    rows = []
    for index, month in enumerate(months):
        declared = Amount(places[index]) if index < len(places) else Amount(None)
        persons = placed.get(month, {}).get("persons", 0)
        rows.append([Text(month_label(month)), declared, CountCell(persons)])
    return Table(
        code="offer.capacity",
        title="Places déclarées et personnes orientées, par mois",
        columns=["mois", "places déclarées", "personnes orientées"],
        rows=rows,
        total=[
            Text("ensemble de la période"),
            Amount(sum(places)),
            CountCell(sum(row[2].n for row in rows)),
        ],
        chart=Chart("line", columns=(1, 2)),
        note="« — » : mois à venir.",
    )


@indicator(
    "offer.departures",
    section="offer",
    title="Départs déclarés (retraite, déménagement)",
    formula="Médecins présents dont la dernière déclaration faite à la fin de la période (même "
    "échue : une date de départ reste valable tant que le médecin ne la change pas) indique une "
    "date de départ dans les 12, 24 ou 36 mois qui suivent (effectifs cumulés), dont les départs "
    "certains.",
    unit="médecins",
    population="médecins généralistes présents sur le territoire",
)
def departures(scope: Scope, period: Period) -> Table:
    moment = moment_of(scope, period)
    day = timezone.localtime(moment).date()
    counts = (
        latest_declarations_at(scope, moment)
        .filter(planned_departure_date__gte=day)
        .aggregate(
            **{
                f"in_{months}": Count(
                    "practitioner",
                    distinct=True,
                    filter=Q(planned_departure_date__lt=add_months(day, months)),
                )
                for months in HORIZONS
            }
        )
    )
    total = gp_figures(scope, moment)["total"]
    return Table(
        code="offer.departures",
        title="Départs déclarés (retraite, déménagement)",
        columns=["", "médecins", "part des médecins présents (%)"],
        rows=[
            [
                Text(f"dans les {months} prochains mois"),
                CountCell(counts[f"in_{months}"]),
                Rate(counts[f"in_{months}"], total),
            ]
            for months in HORIZONS
        ],
        chart=Chart("bars", columns=(1,)),
        note=f"À compter du {long_date(day)}.",
    )
