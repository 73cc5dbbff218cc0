"""The lines a CPTS reports under the ACI contract for the mission "accès à un médecin
traitant": patients in ALD, aged 70 and over, CSS patients in ALD registered and placed,
volunteer GPs recruited, time to solution — each for the period and the previous one, with the
evolution.

"Placed" (MT trouvé) is a request closed "médecin traitant trouvé" in the period, as in the
outcomes section (`outcomes.py`); a person counts in the period their household found its GP,
whenever it registered."""

from __future__ import annotations

from django.db.models import Count, Exists, OuterRef, Q

from accesmt.directory.models import Accepting, AvailabilityDeclaration, Practitioner
from accesmt.intake.models import Coverage
from accesmt.orientation.models import Placement

from ..catalogue import indicator
from ..cells import Change, Days, Text
from ..cells import Count as CountCell
from ..periods import Period
from ..tables import Chart, Scope, Table
from .common import (
    age_at_registration,
    duration,
    found_members,
    found_requests,
    quantile_days,
    registered_members,
)

COLUMNS = ["", "période", "période précédente", "évolution (%)"]
ALD = Q(has_ald=True)
AGED_70 = Q(age__gte=70)
CSS_ALD = Q(has_ald=True, request__coverage=Coverage.CSS)


def persons(scope: Scope, period: Period) -> dict:
    """Persons in ALD, aged 70+ at registration, CSS in ALD: registered in the period and placed
    in it (two queries, memoised for the page)."""

    def compute():
        counted = {}
        for key, members in (
            ("registered", registered_members(scope, period)),
            ("placed", found_members(scope, period)),
        ):
            found = members.alias(age=age_at_registration()).aggregate(
                ald=Count("pk", filter=ALD),
                aged_70=Count("pk", filter=AGED_70),
                css_ald=Count("pk", filter=CSS_ALD),
            )
            counted.update({f"{name}_{key}": n for name, n in found.items()})
        return counted

    return scope.memo(("aci.persons", period), compute)


def _compared(scope: Scope, period: Period, lines) -> list:
    now, before = persons(scope, period), persons(scope, period.previous())
    return [
        [Text(label), CountCell(now[key]), CountCell(before[key]), Change(now[key], before[key])]
        for key, label in lines
    ]


@indicator(
    "aci.ald",
    section="aci",
    title="Patients en ALD sans médecin traitant, inscrits et orientés",
    formula="Personnes déclarées en affection de longue durée (ALD) des foyers inscrits dans la "
    "période (hors doublons) ; et des foyers dont la demande a été close « médecin traitant "
    "trouvé » dans la période, quelle que soit leur date d'inscription.",
    unit="personnes",
    population="personnes en ALD inscrites ; personnes en ALD ayant trouvé un médecin traitant",
)
def ald(scope: Scope, period: Period) -> Table:
    return Table(
        code="aci.ald",
        title="Patients en ALD sans médecin traitant, inscrits et orientés",
        columns=COLUMNS,
        rows=_compared(
            scope,
            period,
            [
                ("ald_registered", "patients en ALD inscrits"),
                ("ald_placed", "patients en ALD ayant trouvé un médecin traitant"),
            ],
        ),
        chart=Chart("bars", columns=(1, 2)),
    )


@indicator(
    "aci.aged_70",
    section="aci",
    title="Patients de 70 ans et plus sans médecin traitant, inscrits et orientés",
    formula="Personnes âgées de 70 ans ou plus à l'inscription de leur foyer : des foyers "
    "inscrits dans la période (hors doublons) ; et des foyers dont la demande a été close "
    "« médecin traitant trouvé » dans la période.",
    unit="personnes",
    population="personnes de 70 ans et plus inscrites ; ayant trouvé un médecin traitant",
)
def aged_70(scope: Scope, period: Period) -> Table:
    return Table(
        code="aci.aged_70",
        title="Patients de 70 ans et plus sans médecin traitant, inscrits et orientés",
        columns=COLUMNS,
        rows=_compared(
            scope,
            period,
            [
                ("aged_70_registered", "patients de 70 ans et plus inscrits"),
                ("aged_70_placed", "patients de 70 ans et plus ayant trouvé un médecin traitant"),
            ],
        ),
        chart=Chart("bars", columns=(1, 2)),
    )


@indicator(
    "aci.css_ald",
    section="aci",
    title="Patients bénéficiaires de la CSS en ALD sans médecin traitant",
    formula="Personnes en ALD dont le foyer a déclaré la complémentaire santé solidaire (CSS) : "
    "des foyers inscrits dans la période (hors doublons) ; et des foyers dont la demande a été "
    "close « médecin traitant trouvé » dans la période.",
    unit="personnes",
    population="personnes en ALD bénéficiaires de la CSS",
)
def css_ald(scope: Scope, period: Period) -> Table:
    return Table(
        code="aci.css_ald",
        title="Patients bénéficiaires de la CSS en ALD sans médecin traitant",
        columns=COLUMNS,
        rows=_compared(
            scope,
            period,
            [
                ("css_ald_registered", "patients CSS en ALD inscrits"),
                ("css_ald_placed", "patients CSS en ALD ayant trouvé un médecin traitant"),
            ],
        ),
        chart=Chart("bars", columns=(1, 2)),
    )


def volunteer_gps(scope: Scope, period: Period) -> int:
    """Practitioners who, in the period, declared in a CPTS of the scope that they accept new
    patients (yes or case by case), or became the médecin traitant of a household of it (a
    placement that still stands). One query."""
    start, end = period.bounds()
    declared = AvailabilityDeclaration.objects.filter(
        scope.where("cpts", "practitioner__sites__commune"),
        practitioner=OuterRef("pk"),
        declared_at__gte=start,
        declared_at__lt=end,
        accepting__in=[Accepting.YES, Accepting.ON_REQUEST],
    )
    took = Placement.objects.current().filter(
        scope.where("cpts", "practitioner__sites__commune"),
        practitioner=OuterRef("pk"),
        at__gte=start,
        at__lt=end,
    )
    return Practitioner.objects.filter(Q(Exists(declared)) | Q(Exists(took))).count()


@indicator(
    "aci.volunteer_gps",
    section="aci",
    title="Médecins volontaires pour de nouveaux patients",
    formula="Médecins qui, dans la période, ont déclaré accepter de nouveaux patients (« oui » ou "
    "« au cas par cas ») auprès de la CPTS, ou sont devenus le médecin traitant d'au moins un "
    "foyer de la CPTS (médecin traitant trouvé dans la période, demande toujours close ainsi) ; "
    "chaque médecin compte une fois.",
    unit="médecins",
    population="médecins généralistes du répertoire",
)
def volunteers(scope: Scope, period: Period) -> Table:
    now, before = volunteer_gps(scope, period), volunteer_gps(scope, period.previous())
    return Table(
        code="aci.volunteer_gps",
        title="Médecins volontaires pour de nouveaux patients",
        columns=COLUMNS,
        rows=[
            [Text("médecins volontaires"), CountCell(now), CountCell(before), Change(now, before)]
        ],
        chart=Chart("bars", columns=(1, 2)),
    )


def time_to_solution(scope: Scope, period: Period) -> tuple[int, float | None]:
    """(households, median days from registration to the GP found) over the households that
    found their GP in the period (two queries)."""
    n, values = quantile_days(
        found_requests(scope, period).annotate(delay=duration("closed_at", "created_at")),
        "delay",
        (0.5,),
    )
    return n, values[0.5]


@indicator(
    "aci.time_to_solution",
    section="aci",
    title="Délai de solution",
    formula="Médiane du nombre de jours entre l'inscription et le médecin traitant trouvé, sur "
    "les foyers dont la demande a été close « médecin traitant trouvé » dans la période "
    "(moyenne des deux valeurs du milieu pour un nombre pair) ; l'évolution du délai est "
    "l'écart en jours avec la période précédente.",
    unit="jours, foyers",
    population="foyers ayant trouvé un médecin traitant dans la période",
)
def solution_delay(scope: Scope, period: Period) -> Table:
    n, median = time_to_solution(scope, period)
    n_before, median_before = time_to_solution(scope, period.previous())
    gap = None if median is None or median_before is None else median - median_before
    return Table(
        code="aci.time_to_solution",
        title="Délai de solution",
        columns=["", "période", "période précédente", "évolution (% ; écart en jours)"],
        rows=[
            [
                Text("foyers ayant trouvé un médecin traitant"),
                CountCell(n),
                CountCell(n_before),
                Change(n, n_before),
            ],
            [
                Text("délai médian (jours)"),
                Days(median, n),
                Days(median_before, n_before),
                # a gap between two medians is shown only when both are
                Days(gap, min(n, n_before)),
            ],
        ],
        chart=Chart("bars", columns=(1, 2)),
    )
