"""Projection of the médecin traitant offer, month by month for 36 months, by commune: the
patients who will lose their médecin traitant against the places expected
(docs/decisions/0016-departures-projection.md).

Losses, in the month they happen:
- a declared departure (the GP's latest declaration, expired or not:
  `directory.selectors.latest_declarations`) dated in the 36 months: the GP's approximate number
  of patients (declared, else the CPTS's `default_patient_count`) × the share the departure
  hands over (full: all; partial: `PARTIAL_DEPARTURE_SHARE`, half), in the month of the date;
- a GP aged 67 or over (by birth year; a GP known only by the band "65 and over" is not counted:
  they may be 65 or 66) with no declared departure: each month from the one of their 67th year,
  their patient count × `senior_departure_rate` % / 12 (the CPTS's yearly rate, 20 % by default),
  never more than their patients in all.

Places, from the month they start:
- each planned installation dated before the horizon: its monthly capacity, every month from
  the one of its date (the current month for an installation already past);
- each GP whose current declaration accepts new patients with a monthly capacity: that
  capacity, every month before the one of their declared departure.

A GP's losses and places are split evenly across their present practice sites in the CPTS
territory (a GP with two sites puts half in each commune); an installation's across the
communes it serves. The balance of a commune is the running sum of places minus losses from
the current month; a commune whose balance turns negative is flagged with the first month it
does. Figures are estimates: tables show whole numbers, computed from the unrounded values.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.utils import timezone

from accesmt.directory.models import (
    Accepting,
    PlannedInstallation,
    PracticeSite,
)
from accesmt.directory.selectors import latest_declarations

from ..catalogue import indicator
from ..cells import Amount, Text
from ..models import ReportingSettings
from ..periods import Period, add_months, first_of_month, month_label
from ..tables import Chart, Scope, Table

MONTHS = 36
SENIOR_AGE = 67
HORIZONS = (6, 12, 24, 36)  # the lines of the mairie's sheet


@dataclass
class CommuneProjection:
    """One commune's 36 months: losses from declared departures, expected losses (GPs aged 67
    and over), places expected."""

    insee: str
    name: str
    declared: list[float] = field(default_factory=lambda: [0.0] * MONTHS)
    expected: list[float] = field(default_factory=lambda: [0.0] * MONTHS)
    places: list[float] = field(default_factory=lambda: [0.0] * MONTHS)

    def losses(self, month: int) -> float:
        return self.declared[month] + self.expected[month]

    def balances(self) -> list[float]:
        """The running balance at the end of each month (places − losses since month 0)."""
        total, found = 0.0, []
        for month in range(MONTHS):
            total += self.places[month] - self.losses(month)
            found.append(total)
        return found

    def first_negative(self) -> int | None:
        """The index of the first month whose running balance is negative (None: never)."""
        for month, balance in enumerate(self.balances()):
            if balance < -1e-9:
                return month
        return None

    def add(self, other: CommuneProjection) -> None:
        for month in range(MONTHS):
            self.declared[month] += other.declared[month]
            self.expected[month] += other.expected[month]
            self.places[month] += other.places[month]


@dataclass
class Projection:
    start: datetime.date  # first day of the current month (month 0)
    communes: dict[str, CommuneProjection]

    def month(self, index: int) -> datetime.date:
        return add_months(self.start, index)

    def total(self) -> CommuneProjection:
        total = CommuneProjection(insee="", name="ensemble")
        for commune in self.communes.values():
            total.add(commune)
        return total


def month_index(start: datetime.date, day: datetime.date) -> int:
    return (day.year - start.year) * 12 + day.month - start.month


def settings_by_cpts(cpts_ids) -> dict[int, ReportingSettings]:
    stored = {s.cpts_id: s for s in ReportingSettings.objects.filter(cpts_id__in=cpts_ids)}
    return {
        cpts_id: stored.get(cpts_id) or ReportingSettings(cpts_id=cpts_id) for cpts_id in cpts_ids
    }


def _territory(scope: Scope) -> tuple[dict[str, int], dict[str, CommuneProjection]]:
    """({INSEE: CPTS id} of the whole territory, {INSEE: empty projection} of the scope's
    communes): a GP's split counts every site, shown in the scope's communes or not."""
    commune_cpts, shown = {}, {}
    for insee, name, cpts_id in (
        Scope(cpts=scope.cpts)
        .territory_communes()
        .order_by("name", "insee_code")
        .values_list("insee_code", "name", "territory__cpts")
    ):
        commune_cpts[insee] = cpts_id
        if scope.communes is None or insee in scope.communes:
            shown[insee] = CommuneProjection(insee, name)
    return commune_cpts, shown


def patients_of(declaration, setting: ReportingSettings) -> int:
    """The GP's approximate number of patients: declared, else the CPTS's default."""
    if declaration is not None and declaration.approx_patient_count is not None:
        return declaration.approx_patient_count
    return setting.default_patient_count


def departure_patients(declaration, setting: ReportingSettings) -> float:
    """The patients a declared departure leaves without their médecin traitant."""
    return patients_of(declaration, setting) * declaration.departure_share


class _Builder:
    def __init__(self, start: datetime.date, communes: dict[str, CommuneProjection]):
        self.start = start
        self.communes = communes

    def spread(self, where: list[str], month: int, amount: float, series: str) -> None:
        share = amount / len(where)
        for insee in where:
            if insee in self.communes:
                getattr(self.communes[insee], series)[month] += share

    def gp(self, where, declaration, birth_year, setting, now) -> None:
        """One GP's losses (declared departure, or expected at 67 and over) and places."""
        patients = patients_of(declaration, setting)
        departure = declaration.planned_departure_date if declaration is not None else None
        last_month = MONTHS  # the months before this one have the GP's places
        if departure is not None:
            index = month_index(self.start, departure)
            if 0 <= index < MONTHS:
                self.spread(where, index, departure_patients(declaration, setting), "declared")
            last_month = max(0, min(MONTHS, index))
        elif birth_year is not None:
            monthly = patients * setting.senior_departure_rate / 100 / 12
            left = float(patients)
            for month in range(MONTHS):
                if monthly <= 0 or left <= 0:
                    break
                if add_months(self.start, month).year - birth_year >= SENIOR_AGE:
                    lost = min(monthly, left)
                    left -= lost
                    self.spread(where, month, lost, "expected")
        if (
            declaration is not None
            and declaration.valid_until > now
            and declaration.accepting in (Accepting.YES, Accepting.ON_REQUEST)
            and declaration.monthly_capacity
        ):
            for month in range(last_month):
                self.spread(where, month, declaration.monthly_capacity, "places")

    def installation(self, installation) -> None:
        where = [c.pk for c in installation.communes.all()]
        if not where or not installation.monthly_capacity:
            return
        for month in range(max(0, month_index(self.start, installation.date)), MONTHS):
            self.spread(where, month, installation.monthly_capacity, "places")


def project(scope: Scope, today: datetime.date | None = None) -> Projection:
    """The projection for the communes of `scope`, from the month of `today`. Five queries,
    whatever the number of GPs: every GP of the CPTS territory is read once."""
    today = today or timezone.localdate()
    start = first_of_month(today)
    commune_cpts, communes = _territory(scope)
    cpts_ids = sorted(set(commune_cpts.values()))
    settings = settings_by_cpts(cpts_ids)
    # (cpts, practitioner) → the communes of their present sites in that CPTS's territory
    sites: dict[tuple[int, int], list[str]] = {}
    birth_years: dict[int, int | None] = {}
    for practitioner_id, insee, birth_year in (
        PracticeSite.objects.filter(
            is_gone=False, practitioner__is_gone=False, commune_id__in=list(commune_cpts)
        )
        .order_by("pk")
        .values_list("practitioner_id", "commune_id", "practitioner__birth_year")
    ):
        sites.setdefault((commune_cpts[insee], practitioner_id), []).append(insee)
        birth_years[practitioner_id] = birth_year
    declarations = {
        (d.cpts_id, d.practitioner_id): d
        for d in latest_declarations(cpts_ids).only(
            "cpts_id",
            "practitioner_id",
            "planned_departure_date",
            "departure_scope",
            "approx_patient_count",
            "accepting",
            "monthly_capacity",
            "valid_until",
        )
    }
    builder = _Builder(start, communes)
    now = timezone.now()
    for (cpts_id, practitioner_id), where in sites.items():
        builder.gp(
            where,
            declarations.get((cpts_id, practitioner_id)),
            birth_years.get(practitioner_id),
            settings[cpts_id],
            now,
        )
    for installation in PlannedInstallation.objects.filter(
        cpts_id__in=cpts_ids, date__lt=add_months(start, MONTHS)
    ).prefetch_related("communes"):
        builder.installation(installation)
    return Projection(start=start, communes=communes)


def projection_of(scope: Scope) -> Projection:
    return scope.memo(("projection", timezone.localdate()), lambda: project(scope))


def _whole(value: float) -> Amount:
    return Amount(round(value))


FORMULA = (
    "Pour chacun des 36 mois à venir : patients perdant leur médecin traitant (départs déclarés "
    "× patients du médecin, la moitié pour un départ partiel ; médecins de 67 ans et plus sans "
    "date déclarée × taux annuel de départ réglé par la CPTS ÷ 12) contre places attendues "
    "(capacité mensuelle des installations prévues à partir de leur date et des médecins qui "
    "acceptent de nouveaux patients jusqu'à leur départ), réparties par commune d'exercice. "
    "Solde cumulé : places moins pertes depuis le mois en cours."
)


@indicator(
    "offer.projection",
    section="offer",
    title="Projection sur 36 mois : patients perdant leur médecin traitant et places attendues",
    formula=FORMULA,
    unit="patients (estimation)",
    population="médecins généralistes présents, installations prévues",
)
def projection_by_month(scope: Scope, period: Period) -> Table:
    found = projection_of(scope)
    total = found.total()
    rows, lost, placed = [], 0.0, 0.0
    for month in range(MONTHS):
        lost += total.losses(month)
        placed += total.places[month]
        rows.append(
            [
                Text(month_label(found.month(month))),
                _whole(total.declared[month]),
                _whole(total.expected[month]),
                _whole(total.places[month]),
                _whole(lost),
                _whole(placed),
                _whole(placed - lost),
            ]
        )
    return Table(
        code="offer.projection",
        title="Projection sur 36 mois : patients perdant leur médecin traitant et places attendues",
        columns=[
            "mois",
            "départs déclarés",
            "départs attendus (67 ans et plus)",
            "places attendues",
            "pertes cumulées",
            "places cumulées",
            "solde cumulé",
        ],
        rows=rows,
        chart=Chart("line", columns=(4, 5)),
        note=f"À compter de {month_label(found.start)}, quelle que soit la période choisie. "
        "Estimations en nombre de patients.",
    )


@indicator(
    "offer.projection_communes",
    section="offer",
    title="Projection sur 36 mois par commune",
    formula=FORMULA + " Une commune est signalée au premier mois où son solde cumulé devient "
    "négatif.",
    unit="patients (estimation)",
    population="communes du territoire",
)
def projection_by_commune(scope: Scope, period: Period) -> Table:
    found = projection_of(scope)
    rows = []
    ordered = sorted(
        found.communes.values(),
        key=lambda c: (c.first_negative() is None, c.first_negative() or 0, c.name),
    )
    for commune in ordered:
        negative = commune.first_negative()
        rows.append(
            [
                Text(commune.name),
                _whole(sum(commune.losses(m) for m in range(MONTHS))),
                _whole(sum(commune.places)),
                _whole(commune.balances()[-1]),
                Text(
                    f"négatif dès {month_label(found.month(negative))}"
                    if negative is not None
                    else "—"
                ),
            ]
        )
    return Table(
        code="offer.projection_communes",
        title="Projection sur 36 mois par commune",
        columns=[
            "commune",
            "patients perdant leur médecin traitant",
            "places attendues",
            "solde à 36 mois",
            "solde négatif",
        ],
        rows=rows,
        note=f"Du mois de {month_label(found.start)} au mois de "
        f"{month_label(found.month(MONTHS - 1))}. Communes au solde négatif en premier.",
    )


def commune_lines(scope: Scope, insee: str) -> Table:
    """The projection of one commune in a few lines (the mairie's sheet): losses, places and
    balance cumulated at 6, 12, 24 and 36 months, and the first month of a negative balance."""
    found = projection_of(scope)
    commune = found.communes.get(insee) or CommuneProjection(insee, "")
    balances = commune.balances()
    rows = []
    for months in HORIZONS:
        rows.append(
            [
                Text(f"d'ici {months} mois"),
                _whole(sum(commune.losses(m) for m in range(months))),
                _whole(sum(commune.places[:months])),
                _whole(balances[months - 1]),
            ]
        )
    negative = commune.first_negative()
    note = (
        f"Solde négatif à partir de {month_label(found.month(negative))}."
        if negative is not None
        else "Le solde reste positif ou nul sur 36 mois."
    )
    return Table(
        code="commune.projection",
        title="Projection : patients perdant leur médecin traitant et places attendues",
        columns=["", "pertes", "places", "solde"],
        rows=rows,
        note=note + " Estimations (départs déclarés, médecins de 67 ans et plus, installations "
        "prévues, capacités déclarées).",
    )


@indicator(
    "offer.installations",
    section="offer",
    title="Installations prévues",
    formula="Installations de médecins enregistrées par la coordination, datées d'aujourd'hui "
    "ou plus tard, avec les communes desservies et les nouveaux patients par mois attendus.",
    unit="places par mois",
    population="installations prévues",
)
def installations(scope: Scope, period: Period) -> Table:
    today = timezone.localdate()
    found = PlannedInstallation.objects.filter(
        scope.where("cpts", None), date__gte=today
    ).prefetch_related("communes")
    if scope.communes is not None:
        found = found.filter(communes__in=scope.communes).distinct()
    rows = [
        [
            Text(month_label(installation.date)),
            Text(installation.get_kind_display()),
            Text(", ".join(sorted(c.name for c in installation.communes.all()))),
            Amount(installation.monthly_capacity),
            Text(installation.get_certainty_display()),
        ]
        for installation in found.order_by("date", "pk")
    ]
    return Table(
        code="offer.installations",
        title="Installations prévues",
        columns=["mois", "installation", "communes desservies", "places par mois", "certitude"],
        rows=rows,
        note="Enregistrées par la coordination.",
    )
