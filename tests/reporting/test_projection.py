"""The projection over 36 months by commune (issue 11), against a case computed by hand, and its
tables on the demography page and the mairie's sheet."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from accesmt.accounts.models import Role
from accesmt.directory.models import PlannedInstallation
from accesmt.reporting.indicators.projection import commune_lines, project
from accesmt.reporting.models import ReportingSettings
from accesmt.reporting.periods import add_months, first_of_month, month_label
from accesmt.reporting.tables import Scope
from tests.accounts.factories import MembershipFactory
from tests.directory.factories import (
    AvailabilityDeclarationFactory,
    PracticeSiteFactory,
    PractitionerFactory,
    territory_with,
)
from tests.territory.factories import CommuneFactory, CPTSFactory

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2027, 1, 15)  # month 0 = January 2027


def declare(practitioner, cpts, **fields):
    return AvailabilityDeclarationFactory(practitioner=practitioner, cpts=cpts, **fields)


def install(cpts, date, communes, capacity):
    installation = PlannedInstallation.objects.create(
        cpts=cpts, name="Dr Nouvelle", kind="new_practice", date=date,
        monthly_capacity=capacity, certainty="certain",
    )  # fmt: skip
    installation.communes.set(communes)
    return installation


@pytest.fixture
def world():
    a = CommuneFactory(name="Aubin")
    b = CommuneFactory(name="Bully")
    c = CommuneFactory(name="Calonne")
    cpts = territory_with(CPTSFactory(), a, b, c)
    ReportingSettings.objects.create(cpts=cpts, senior_departure_rate=24, default_patient_count=600)
    # 1. Leaves in April 2027, fully, 900 patients, two sites (A and B): 450 lost in each.
    leaving = PractitionerFactory(birth_year=1962)
    PracticeSiteFactory(practitioner=leaving, commune=a)
    PracticeSiteFactory(practitioner=leaving, commune=b)
    declare(leaving, cpts, refusing=True, approx_patient_count=900,
            planned_departure_date=datetime.date(2027, 4, 10),
            departure_certainty="certain", departure_scope="full")  # fmt: skip
    # 2. Reduces activity in July 2027 (partial: half of 400 = 200 lost in A); takes 10 new
    #    patients a month until then (January to June: 60 places).
    partial = PracticeSiteFactory(commune=a).practitioner
    declare(partial, cpts, monthly_capacity=10, approx_patient_count=400,
            planned_departure_date=datetime.date(2027, 7, 1),
            departure_certainty="probable", departure_scope="partial")  # fmt: skip
    # 3. Aged 67 in 2027, no declaration: 600 patients (the CPTS default) × 24 % / 12 = 12 a
    #    month in B, all 36 months (432).
    PracticeSiteFactory(practitioner=PractitionerFactory(birth_year=1960), commune=b)
    # 4. Aged 67 from 2028, 300 patients, no departure declared: 300 × 24 % / 12 = 6 a month in
    #    A from January 2028 (month 12): 24 months, 144.
    soon = PracticeSiteFactory(practitioner=PractitionerFactory(birth_year=1961), commune=a)
    declare(soon.practitioner, cpts, refusing=True, approx_patient_count=300)
    # 5. A young GP taking 5 a month in B (180 places); another 3 a month in C (108).
    declare(PracticeSiteFactory(practitioner__birth_year=1990, commune=b).practitioner, cpts,
            monthly_capacity=5)  # fmt: skip
    declare(PracticeSiteFactory(practitioner__birth_year=1988, commune=c).practitioner, cpts,
            monthly_capacity=3)  # fmt: skip
    # 6. An installation in March 2027 serving A and B, 8 a month: 4 in each from month 2
    #    (34 months, 136 each); one already installed (November 2026) in B, 2 a month (72).
    install(cpts, datetime.date(2027, 3, 20), [a, b], 8)
    install(cpts, datetime.date(2026, 11, 1), [b], 2)
    # Not counted: a GP gone from the directory, a departure beyond the 36 months (their 4
    # places a month count, in C: 144 more), an installation after the horizon.
    gone = PracticeSiteFactory(practitioner=PractitionerFactory(gone=True), commune=a)
    declare(gone.practitioner, cpts, planned_departure_date=datetime.date(2027, 2, 1))
    late = PracticeSiteFactory(practitioner__birth_year=1975, commune=c).practitioner
    declare(late, cpts, monthly_capacity=4, approx_patient_count=1000,
            planned_departure_date=datetime.date(2030, 6, 1))  # fmt: skip
    install(cpts, datetime.date(2030, 1, 1), [c], 50)
    return cpts, a, b, c


def test_projection_matches_the_hand_computed_case(world):
    cpts, a, b, c = world
    found = project(Scope(cpts=cpts, masked=False), today=TODAY)
    assert found.start == datetime.date(2027, 1, 1)
    ca, cb, cc = found.communes[a.pk], found.communes[b.pk], found.communes[c.pk]

    assert ca.declared[3] == 450 and ca.declared[6] == 200 and sum(ca.declared) == 650
    assert ca.expected[11] == 0 and ca.expected[12] == pytest.approx(6)
    assert sum(ca.expected) == pytest.approx(144)
    assert ca.places[:4] == [10, 10, 14, 14] and ca.places[6] == 4
    assert sum(ca.places) == pytest.approx(60 + 136)
    # A: +10, +10, +14, then April −436: negative from April 2027; −598 after 36 months.
    assert ca.balances()[:4] == pytest.approx([10, 20, 34, -402])
    assert ca.first_negative() == 3
    assert ca.balances()[-1] == pytest.approx(196 - 794)

    assert cb.declared[3] == 450 and cb.expected == pytest.approx([12] * 36)
    assert cb.places[:3] == pytest.approx([7, 7, 11])
    assert sum(cb.places) == pytest.approx(180 + 136 + 72)
    # B: 5 + 2 places against 12 expected losses in January: negative from the first month.
    assert cb.first_negative() == 0
    assert cb.balances()[-1] == pytest.approx(388 - 882)

    assert sum(cc.places) == pytest.approx(108 + 144) and cc.first_negative() is None

    total = found.total()
    assert total.declared[3] == 900
    assert total.losses(3) == pytest.approx(912)
    assert total.places[3] == pytest.approx(14 + 11 + 7)


def test_the_cpts_rate_and_default_count_are_used(world):
    cpts, a, b, c = world
    ReportingSettings.objects.filter(cpts=cpts).update(senior_departure_rate=12)
    found = project(Scope(cpts=cpts), today=TODAY)
    assert found.communes[b.pk].expected[0] == pytest.approx(6)  # 600 × 12 % / 12
    ReportingSettings.objects.filter(cpts=cpts).update(default_patient_count=1200)
    found = project(Scope(cpts=cpts), today=TODAY)
    assert found.communes[b.pk].expected[0] == pytest.approx(12)  # 1200 × 12 % / 12


def test_a_mairie_scope_keeps_the_split_of_a_gp_with_two_sites(world):
    cpts, a, b, c = world
    found = project(Scope(cpts=cpts, communes=(a.pk,)), today=TODAY)
    assert list(found.communes) == [a.pk]
    assert found.communes[a.pk].declared[3] == 450  # half of 900, not all of it


def test_demography_page_flags_the_communes_that_turn_negative(client, world):
    cpts, a, b, c = world
    client.force_login(MembershipFactory(cpts=cpts, role=Role.COORDINATOR).user)
    response = client.get(reverse("reporting:demography", kwargs={"cpts_slug": cpts.slug}))
    assert response.status_code == 200
    results = {r["indicator"].code: r for r in response.context["results"]}
    rows = {str(row[0]): row[1:] for row in results["offer.projection_communes"]["rows"]}
    start = first_of_month(timezone.localdate())
    found = project(Scope(cpts=cpts))  # from the current month
    for commune in (a, b):
        negative = found.communes[commune.pk].first_negative()
        assert negative is not None  # April 2027 at the latest (the departure of 900)
        assert rows[commune.name][-1] == f"négatif dès {month_label(add_months(start, negative))}"
    assert rows["Calonne"][-1] == "—"
    assert list(rows)[-1] == "Calonne"  # the communes never negative come last
    months = results["offer.projection"]["rows"]
    assert len(months) == 36 and str(months[0][0]) == month_label(start)
    assert str(months[-1][0]) == month_label(add_months(start, 35))
    installations = results["offer.installations"]["rows"]
    assert [row[1] for row in installations] == ["ouverture d'un nouveau cabinet"] * 2
    body = response.content.decode()
    assert "Projection sur 36 mois par commune" in body
    assert "Dr Nouvelle" not in body  # the demography page names no installing GP


def test_mairie_sheet_has_the_projection_lines(world):
    cpts, a, b, c = world
    table = commune_lines(Scope(cpts=cpts, communes=(c.pk,)), c.pk)
    assert [row[0].value for row in table.rows] == [
        "d'ici 6 mois",
        "d'ici 12 mois",
        "d'ici 24 mois",
        "d'ici 36 mois",
    ]
    assert [row[2].raw for row in table.rows] == [42, 84, 168, 252]  # 3 + 4 a month
    assert "reste positif" in table.note
