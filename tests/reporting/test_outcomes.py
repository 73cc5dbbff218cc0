"""Outcome indicators over HTTP (the calendar year 2025 against 2024): each figure against a
count written here, and the observer's masked view."""

import pytest

from accesmt.accounts.models import Role
from tests.intake.factories import HouseholdMemberFactory
from tests.reporting.helpers import asked, at, closed, household, page, rows_of, table
from tests.territory.factories import CPTSFactory

pytestmark = pytest.mark.django_db
YEAR_2025 = {"section": "resultats", "periode": "year", "debut": "2025-01-01"}


@pytest.fixture
def cpts():
    """A CPTS whose households of 2025 (the cohort) and 2024 (the previous one) are:

    2025  A  10 Jan → MT 9 Feb (30 d), asked 20 Jan (10 d), two persons
          B   1 Feb → MT 1 Sep (212 d), asked 6 Feb (5 d) and 1 Mar
          C   1 Mar → MT 21 Mar (20 d), found by the person: nobody asked
          D   1 Apr → MT 31 Jan 2026 (305 d: after the period), asked 21 Apr (20 d)
          E   1 May → unreachable 1 Nov;  F 1 Jun → withdrawn 15 Jun
          G   1 Jul → still waiting, asked 31 Jul (30 d);  H 20 Dec → new, asked 21 Dec (1 d)
          a duplicate of 5 May, closed 6 May (left out everywhere)
    2024  P1  1 Jun → MT 15 Jan 2025 (228 d);  P2 1 Nov → still waiting;  P3 1 Mar → withdrawn
          1 May 2024
    """
    cpts = CPTSFactory()
    a = closed(cpts, at(2025, 1, 10), at(2025, 2, 9), persons=2)
    asked(a, at(2025, 1, 20))
    b = closed(cpts, at(2025, 2, 1), at(2025, 9, 1))
    asked(b, at(2025, 2, 6))
    asked(b, at(2025, 3, 1))
    closed(cpts, at(2025, 3, 1), at(2025, 3, 21))
    asked(closed(cpts, at(2025, 4, 1), at(2026, 1, 31)), at(2025, 4, 21))
    closed(cpts, at(2025, 5, 1), at(2025, 11, 1), "unreachable")
    closed(cpts, at(2025, 6, 1), at(2025, 6, 15), "withdrawn")
    asked(household(cpts, at(2025, 7, 1), status="waiting"), at(2025, 7, 31))
    asked(household(cpts, at(2025, 12, 20)), at(2025, 12, 21))
    closed(cpts, at(2025, 5, 5), at(2025, 5, 6), "duplicate")
    closed(cpts, at(2024, 6, 1), at(2025, 1, 15))
    household(cpts, at(2024, 11, 1), status="waiting")
    closed(cpts, at(2024, 3, 1), at(2024, 5, 1), "withdrawn")
    # another CPTS: never counted
    other = CPTSFactory()
    asked(closed(other, at(2025, 2, 1), at(2025, 3, 1)), at(2025, 2, 2))
    household(other, at(2025, 3, 1), status="waiting")
    return cpts


def test_cohort_solved_within_six_months_unreachable_withdrawn(client, cpts):
    response = page(client, cpts, Role.COORDINATOR, **YEAR_2025)
    assert response.status_code == 200
    assert table(response, "outcomes.solved") == {
        "médecin traitant trouvé": [4, 50.0, 1, 33.3],
        "trouvé dans les 6 mois suivant l'inscription": [2, 25.0, 0, 0.0],
    }
    assert table(response, "outcomes.unreachable_withdrawn") == {
        "personne injoignable": [1, 12.5, 0, 0.0],
        "retirée par la personne": [1, 12.5, 1, 33.3],
    }
    observer = page(client, cpts, Role.OBSERVER, **YEAR_2025)
    assert table(observer, "outcomes.solved")["médecin traitant trouvé"] == [
        "< 5",
        "—",
        "< 5",
        "—",
    ]


def test_median_and_90th_percentile_of_delays(client, cpts):
    response = page(client, cpts, Role.COORDINATOR, **YEAR_2025)
    rows = table(response, "outcomes.delays")
    # asked: 1, 5, 10, 20, 30 days → median 10, 90th percentile the 5th value
    assert rows["jusqu'au premier médecin sollicité"] == [5, 10.0, 30.0, "—", "—"]
    # found: 20, 30, 212, 305 → median (30 + 212) / 2; previous cohort: 228 alone
    assert rows["jusqu'au médecin traitant trouvé"] == [4, 121.0, 305.0, 228.0, 228.0]
    observer = table(page(client, cpts, Role.OBSERVER, **YEAR_2025), "outcomes.delays")
    assert observer["jusqu'au premier médecin sollicité"] == [5, 10.0, 30.0, "—", "—"]
    assert observer["jusqu'au médecin traitant trouvé"] == ["< 5", "—", "—", "—", "—"]


def test_closing_reasons_of_the_requests_closed_in_the_period(client, cpts):
    rows = table(page(client, cpts, Role.COORDINATOR, **YEAR_2025), "outcomes.closing_reasons")
    # closed in 2025: A, B, C and P1 (found), E (unreachable), F (withdrawn); D closed in 2026
    assert rows["médecin traitant trouvé"] == [4, 66.7, 0, 0.0]
    assert rows["personne injoignable"] == [1, 16.7, 0, 0.0]
    assert rows["retirée par la personne"] == [1, 16.7, 1, 100.0]
    assert rows["a déménagé hors du territoire"] == [0, 0.0, 0, 0.0]
    assert "doublon d'une autre demande" not in rows


def test_still_waiting_at_the_end_of_the_period_by_seniority(client, cpts):
    rows = table(page(client, cpts, Role.COORDINATOR, **YEAR_2025), "outcomes.still_waiting")
    # 1 Jan 2026: H (12 days), G (10 hours short of 6 months), D (9 months, found later), P2
    # (14 months);
    # 1 Jan 2025: P2 (2 months), P1 (7 months, found later)
    assert rows == {
        "moins d'un mois": [1, 25.0, 0, 0.0],
        "1 à 3 mois": [0, 0.0, 1, 50.0],
        "3 à 6 mois": [1, 25.0, 0, 0.0],
        "6 à 12 mois": [1, 25.0, 1, 50.0],
        "plus de 12 mois": [1, 25.0, 0, 0.0],
    }


def test_solved_by_month_is_a_line_chart(client, cpts):
    HouseholdMemberFactory(request=closed(cpts, at(2025, 9, 30), at(2025, 9, 30, 23)))
    response = page(client, cpts, Role.COORDINATOR, **YEAR_2025)
    rows = {row[0]: row[1:] for row in rows_of(response, "outcomes.solved_by_month")}
    assert len(rows) == 12
    assert rows["janvier 2025"] == [1, 1]  # P1, registered in 2024
    assert rows["février 2025"] == [1, 2]  # A, two persons
    assert rows["mars 2025"] == [1, 1]
    assert rows["septembre 2025"] == [2, 3]  # B; the one closed at 23:00 on 30 September
    assert rows["avril 2025"] == [0, 0]
    [result] = [r for r in response.context["results"] if r["table"].code.endswith("by_month")]
    assert result["table"].chart.kind == "line" and "<svg" in result["chart"]
