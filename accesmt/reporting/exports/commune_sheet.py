"""The one-page PDF per commune for the mairie: the need (persons registered in the period and
waiting today, priority households) and the offer (GPs practising in the commune, accepting new
patients, aged 60 and over, declared departures in the next 24 months, inhabitants per GP), and
the projection of the commune over 36 months (`indicators.projection.commune_lines`).

A mairie is never the coordination: the sheet is ALWAYS masked, whoever downloads it.
`commune_sheet` computes the tables over `Scope(cpts, communes=(insee,))`, reusing the demand
section's summary (`indicators.demand.summary`); each table is a few aggregate queries,
whatever the number of requests or GPs."""

from __future__ import annotations

import dataclasses

from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import SimpleDocTemplate, Spacer

from accesmt.common.formats import long_date
from accesmt.directory.models import AgeBand, AvailabilityDeclaration, PracticeSite, Practitioner
from accesmt.intake.models import OPEN_STATUSES, HouseholdMember

from ..cells import Amount, Ratio, Text
from ..cells import Count as CountCell
from ..indicators.demand import summary
from ..indicators.projection import commune_lines
from ..periods import Period, add_months
from ..tables import Scope, Table
from . import pdf
from .tables import MASKED_NOTE

DEPARTURE_MONTHS = 24
SENIOR_AGE = 60


def commune_scope(scope: Scope, commune) -> Scope:
    """The scope of one commune of `scope`'s CPTS, masked whoever reads it."""
    return Scope(cpts=scope.cpts, communes=(commune.pk,), masked=True)


def need_table(scope: Scope, period: Period) -> Table:
    """The demand summary of the catalogue (`demand.summary`) for the commune, titled for a
    mairie."""
    return dataclasses.replace(
        summary(scope, period),
        code="commune.need",
        title="Le besoin : personnes inscrites pour trouver un médecin traitant",
        chart=None,
    )


def waiting_table(scope: Scope) -> Table:
    found = HouseholdMember.objects.filter(
        scope.where("request__cpts", "request__commune"), request__status__in=OPEN_STATUSES
    ).aggregate(
        persons=Count("pk"),
        priority=Count("pk", filter=Q(request__is_priority=True)),
        households=Count("request", distinct=True),
    )
    return Table(
        code="commune.waiting",
        title="Toujours en attente d'un médecin traitant aujourd'hui",
        columns=["", "nombre"],
        rows=[
            [Text("Personnes en attente"), CountCell(found["persons"])],
            [Text("dont personnes de foyers prioritaires"), CountCell(found["priority"])],
            [Text("Foyers en attente"), CountCell(found["households"])],
        ],
    )


def offer_figures(scope: Scope, commune) -> dict:
    """GPs present in the directory with a present practice site in `commune`: how many, how
    many accept new patients (current declaration), are 60 or over (birth year, or age band
    when it is unknown), have declared a departure in the next 24 months (latest declaration,
    expired or not, as every departure). One query."""
    today = timezone.localdate()
    declarations = AvailabilityDeclaration.objects.filter(practitioner=OuterRef("pk"))
    if scope.cpts is not None:
        declarations = declarations.filter(cpts=scope.cpts)
    senior = Q(birth_year__lte=today.year - SENIOR_AGE) | Q(
        birth_year__isnull=True, age_band__in=[AgeBand.FROM_60_TO_64, AgeBand.FROM_65]
    )
    return (
        Practitioner.objects.present()
        .filter(
            Exists(
                PracticeSite.objects.filter(
                    practitioner=OuterRef("pk"), commune=commune, is_gone=False
                )
            )
        )
        .aggregate(
            gps=Count("pk"),
            accepting=Count("pk", filter=Q(Exists(declarations.accepting()))),
            senior=Count("pk", filter=senior),
            departing=Count(
                "pk",
                filter=Q(
                    Exists(
                        declarations.latest_per_practitioner().filter(
                            planned_departure_date__gte=today,
                            planned_departure_date__lt=add_months(today, DEPARTURE_MONTHS),
                        )
                    )
                ),
            ),
        )
    )


def offer_table(scope: Scope, commune) -> Table:
    found = offer_figures(scope, commune)
    return Table(
        code="commune.offer",
        title="L'offre : médecins généralistes exerçant dans la commune aujourd'hui",
        columns=["", "nombre"],
        rows=[
            [Text("Médecins généralistes"), CountCell(found["gps"])],
            [Text("acceptant de nouveaux patients"), CountCell(found["accepting"])],
            [Text(f"âgés de {SENIOR_AGE} ans ou plus"), CountCell(found["senior"])],
            [
                Text(f"départs déclarés dans les {DEPARTURE_MONTHS} prochains mois"),
                CountCell(found["departing"]),
            ],
            [Text("Habitants"), Amount(commune.population or None)],
            [Text("Habitants par médecin généraliste"), Ratio(commune.population, found["gps"])],
        ],
        note="Médecins : annuaire national (RPPS) et déclarations des médecins à la CPTS ; "
        "habitants : population municipale (INSEE).",
    )


def commune_sheet(scope: Scope, commune, period: Period) -> list[Table]:
    """The tables of the mairie's sheet for `commune` (masked, whoever asks)."""
    scope = commune_scope(scope, commune)
    return [
        need_table(scope, period),
        waiting_table(scope),
        offer_table(scope, commune),
        commune_lines(scope, commune.pk),
    ]


def filename(commune, period: Period) -> str:
    return f"commune-{commune.pk}-{period.slug}.pdf"


def commune_pdf(scope: Scope, commune, period: Period) -> bytes:
    """One A4 page: the commune, the CPTS, the period, the three tables, the masking note."""
    tables = commune_sheet(scope, commune, period)
    css = pdf.styles()
    margin = 18 * mm
    width = A4[0] - 2 * margin
    cpts_name = scope.cpts.name if scope.cpts is not None else ""
    story: list = [
        pdf.p(cpts_name, css["small"]),
        pdf.p(f"{commune.name} ({commune.pk})", css["h1"]),
        pdf.p("Accès à un médecin traitant : le besoin et l'offre de la commune", css["body"]),
        pdf.p(f"Période : {period.label} — comparée à : {period.previous().label}", css["body"]),
        Spacer(1, 3 * mm),
    ]
    for table in tables:
        story += pdf.indicator_block(table, masked=True, width=width)
    story += [
        pdf.p(MASKED_NOTE, css["small"]),
        pdf.p(
            "Le besoin compte les demandes inscrites auprès de la CPTS (hors doublons) ; "
            "les personnes sans médecin traitant qui ne se sont pas signalées n'y figurent pas.",
            css["small"],
        ),
    ]
    label = f"{cpts_name} — {commune.name} — produit le {long_date(timezone.localdate())}"

    def document(buffer):
        return SimpleDocTemplate(
            buffer,
            pagesize=A4,
            leftMargin=margin,
            rightMargin=margin,
            topMargin=15 * mm,
            bottomMargin=18 * mm,
            title=pdf.text(f"{commune.name} — accès à un médecin traitant"),
            author=pdf.text(cpts_name or "AccèsMT"),
        )

    footer = pdf.footer(label)
    return pdf.build(document, story, onFirstPage=footer, onLaterPages=footer)
