"""The mediation's outcomes in the indicators (issue 12): households by outcome in the period
against the previous one, each household once per line, another CPTS never counted."""

import datetime

import pytest

from accesmt.accounts.models import Role
from accesmt.intake.models import RightsOutcome
from tests.reporting.helpers import at, household, page, table
from tests.territory.factories import CPTSFactory

pytestmark = pytest.mark.django_db
YEAR_2025 = {"section": "resultats", "periode": "year", "debut": "2025-01-01"}


def outcome(request, on, kind="contacted", **opened):
    return RightsOutcome.objects.create(
        cpts=request.cpts, request=request, kind=kind, on=on, **opened
    )


def test_outcomes_by_kind_against_the_previous_period(client):
    cpts = CPTSFactory()
    a, b, c = (household(cpts, at(2024, 11, 1)) for _ in range(3))
    outcome(a, datetime.date(2025, 2, 1))
    outcome(a, datetime.date(2025, 3, 1))  # contacted twice: one household
    outcome(a, datetime.date(2025, 4, 1), "rights_opened", opened_css=True, opened_vitale=True)
    outcome(b, datetime.date(2025, 5, 1), "unreachable")
    outcome(c, datetime.date(2024, 12, 1), "rights_opened", opened_ame=True)  # previous year
    other = household(CPTSFactory(), at(2025, 1, 1))
    outcome(other, datetime.date(2025, 2, 1), "rights_opened", opened_css=True)
    rows = table(page(client, cpts, Role.COORDINATOR, **YEAR_2025), "outcomes.rights")
    assert rows == {
        "foyers contactés": [1, 0, "—"],
        "foyers injoignables": [1, 0, "—"],
        "foyers dont les droits ont été ouverts": [1, 1, 0.0],
        "dont complémentaire santé solidaire (CSS)": [1, 0, "—"],
        "dont aide médicale de l'État (AME)": [0, 1, -100.0],
        "dont complémentaire santé": [0, 0, "—"],
        "dont carte Vitale": [1, 0, "—"],
    }
    observer = table(page(client, cpts, Role.OBSERVER, **YEAR_2025), "outcomes.rights")
    assert observer["foyers contactés"][0] == "< 5"
