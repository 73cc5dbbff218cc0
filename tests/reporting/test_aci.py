"""ACI indicators over HTTP (the calendar year 2025 against 2024): each line against a count
written here, with the evolution, and the observer's masked view."""

import datetime

import pytest

from accesmt.accounts.models import Role
from tests.directory.factories import AvailabilityDeclarationFactory, PractitionerFactory
from tests.intake.factories import HouseholdMemberFactory
from tests.reporting.helpers import at, closed, household, page, placed, table
from tests.territory.factories import CPTSFactory

pytestmark = pytest.mark.django_db
YEAR_2025 = {"section": "aci", "periode": "year", "debut": "2025-01-01"}


def person(request, born, ald=False):
    return HouseholdMemberFactory(request=request, birth_date=born, has_ald=ald)


@pytest.fixture
def cpts():
    """R1  CSS, registered 1 Mar 2025: ALD aged 75 + aged 40; MT found 1 Jun 2025 (92 days)
    R2  registered 1 May 2025: ALD aged 30; waiting
    R3  CSS, registered 1 Oct 2024: ALD aged 80; MT found 1 Feb 2025 (123 days)
    R4  registered 1 Feb 2024: aged 72; MT found 2 Mar 2024 (30 days)"""
    cpts = CPTSFactory()
    r1 = closed(cpts, at(2025, 3, 1), at(2025, 6, 1), persons=0, coverage="css")
    person(r1, datetime.date(1950, 1, 1), ald=True)
    person(r1, datetime.date(1985, 1, 1))
    person(household(cpts, at(2025, 5, 1), persons=0), datetime.date(1995, 1, 1), ald=True)
    r3 = closed(cpts, at(2024, 10, 1), at(2025, 2, 1), persons=0, coverage="css")
    person(r3, datetime.date(1944, 1, 1), ald=True)
    r4 = closed(cpts, at(2024, 2, 1), at(2024, 3, 2), persons=0)
    person(r4, datetime.date(1952, 1, 1))
    # another CPTS's ALD patient, never counted
    person(household(CPTSFactory(), at(2025, 5, 1), persons=0), datetime.date(1940, 1, 1), True)
    return cpts


def test_ald_70_plus_and_css_patients_registered_and_placed(client, cpts):
    response = page(client, cpts, Role.COORDINATOR, **YEAR_2025)
    assert response.status_code == 200
    assert table(response, "aci.ald") == {
        "patients en ALD inscrits": [2, 1, 100.0],
        "patients en ALD ayant trouvé un médecin traitant": [2, 0, "—"],
    }
    assert table(response, "aci.aged_70") == {
        "patients de 70 ans et plus inscrits": [1, 2, -50.0],
        "patients de 70 ans et plus ayant trouvé un médecin traitant": [2, 1, 100.0],
    }
    assert table(response, "aci.css_ald") == {
        "patients CSS en ALD inscrits": [1, 1, 0.0],
        "patients CSS en ALD ayant trouvé un médecin traitant": [2, 0, "—"],
    }
    observer = page(client, cpts, Role.OBSERVER, **YEAR_2025)
    assert table(observer, "aci.aged_70")["patients de 70 ans et plus inscrits"] == [
        "< 5",
        "< 5",
        "—",
    ]


def test_evolution_is_shown_to_an_observer_over_five(client, cpts):
    for _ in range(5):
        person(household(cpts, at(2025, 7, 1), persons=0), datetime.date(1990, 1, 1), True)
    for _ in range(4):
        person(household(cpts, at(2024, 7, 1), persons=0), datetime.date(1990, 1, 1), True)
    observer = table(page(client, cpts, Role.OBSERVER, **YEAR_2025), "aci.ald")
    assert observer["patients en ALD inscrits"] == [7, 5, 40.0]


def test_time_to_solution(client, cpts):
    rows = table(page(client, cpts, Role.COORDINATOR, **YEAR_2025), "aci.time_to_solution")
    # found in 2025: R1 (92 days), R3 (123 days); in 2024: R4 (30 days)
    assert rows == {
        "foyers ayant trouvé un médecin traitant": [2, 1, 100.0],
        "délai médian (jours)": [107.5, 30.0, 77.5],
    }
    observer = table(page(client, cpts, Role.OBSERVER, **YEAR_2025), "aci.time_to_solution")
    assert observer["délai médian (jours)"] == ["—", "—", "—"]


def test_volunteer_gps_declared_or_took_a_household(client, cpts):
    def declared(practitioner, when, accepting="yes", where=cpts):
        capacity = None if accepting == "no" else 4
        AvailabilityDeclarationFactory(
            practitioner=practitioner,
            cpts=where,
            declared_at=when,
            accepting=accepting,
            monthly_capacity=capacity,
        )

    gp1, gp2, gp3, gp4, gp5, gp6 = (PractitionerFactory() for _ in range(6))
    declared(gp1, at(2025, 3, 1))
    declared(gp2, at(2025, 3, 1), "no")  # refuses, but took R1:
    placed(cpts.requests.get(created_at=at(2025, 3, 1)), gp2)
    declared(gp3, at(2024, 6, 1), "on_request")  # the year before
    declared(gp4, at(2025, 3, 1), where=CPTSFactory())  # another CPTS
    declared(gp5, at(2025, 2, 1))  # declared and took R3: once
    placed(cpts.requests.get(created_at=at(2024, 10, 1)), gp5)
    reopened = household(cpts, at(2025, 4, 1), status="waiting")
    placed(reopened, gp6, at(2025, 5, 1))  # the placement no longer stands
    rows = table(page(client, cpts, Role.COORDINATOR, **YEAR_2025), "aci.volunteer_gps")
    assert rows == {"médecins volontaires": [3, 1, 200.0]}
    observer = table(page(client, cpts, Role.OBSERVER, **YEAR_2025), "aci.volunteer_gps")
    assert observer == {"médecins volontaires": ["< 5", "< 5", "—"]}
