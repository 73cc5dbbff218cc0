"""The indicator endpoints: the catalogue, one table for a period with the previous one, masked
as an observer sees it, errors naming the parameter, the key's CPTS only."""

import datetime

import pytest
from django.utils import timezone

from accesmt.reporting.catalogue import all_indicators
from accesmt.reporting.models import ReportingSettings
from tests.api.test_api import errors
from tests.intake.factories import HouseholdMemberFactory, RequestFactory
from tests.territory.factories import CommuneFactory, CPTSFactory, TerritoryCommuneFactory

pytestmark = pytest.mark.django_db
ZONE = timezone.get_current_timezone()
LIST = "/api/v1/indicateurs"


def households(cpts, count, *, when, persons=1, **fields):
    commune = cpts.territory.first().commune
    for _ in range(count):
        request = RequestFactory(cpts=cpts, commune=commune, created_at=when, **fields)
        for _ in range(persons):
            HouseholdMemberFactory(request=request)


@pytest.fixture
def figures(cpts):
    """May 2026: 7 online households of 2 persons and 2 by phone of 1; April 2026: 3 online
    households of 1 person. Another CPTS has 20 households in May 2026."""
    ReportingSettings.objects.create(cpts=cpts, aci_contract_start=datetime.date(2025, 9, 1))
    may = datetime.datetime(2026, 5, 12, 10, tzinfo=ZONE)
    households(cpts, 7, when=may, persons=2)
    households(cpts, 2, when=may, channel="phone")
    households(cpts, 3, when=datetime.datetime(2026, 4, 20, 10, tzinfo=ZONE))
    other = TerritoryCommuneFactory(cpts=CPTSFactory(), commune=CommuneFactory()).cpts
    households(other, 20, when=may)
    return cpts


def test_the_catalogue_lists_every_shared_indicator_with_its_definition(client, auth):
    response = client.get(LIST, **auth)
    assert response.status_code == 200
    listed = {item["code"]: item for item in response.json()}
    expected = {i.code: i for i in all_indicators() if not i.coordination_only}
    assert set(listed) == set(expected)
    summary = listed["demand.summary"]
    assert summary["section"] == "demand"
    assert summary["section_title"] == "Demande"
    assert summary["formula"] == expected["demand.summary"].formula
    assert summary["population"] == expected["demand.summary"].population
    assert summary["unit"] == expected["demand.summary"].unit


def test_the_endpoints_need_a_key(client):
    assert client.get(LIST).status_code == 401
    response = client.get(f"{LIST}/demand.summary")
    assert response.status_code == 401
    assert errors(response) == {"Authorization": "Clé d'API absente, inconnue ou révoquée."}


def test_a_table_for_a_month_with_the_previous_one_masked_like_an_observer(client, auth, figures):
    response = client.get(
        f"{LIST}/demand.summary", {"periode": "month", "debut": "2026-05-20"}, **auth
    )
    assert response.status_code == 200
    body = response.json()
    assert body["indicator"]["code"] == "demand.summary"
    assert body["period"] == {
        "kind": "month",
        "label": "mai 2026",
        "start": "2026-05-01",
        "end": "2026-05-31",
    }
    assert body["previous_period"]["start"] == "2026-04-01"
    assert body["previous_period"]["end"] == "2026-04-30"
    assert body["masked"] is True
    assert body["columns"] == ["", "période", "période précédente", "évolution (%)"]
    rows = {row[0]: row[1:] for row in body["rows"]}
    assert rows["Foyers inscrits"] == [9, "< 5", "—"]  # 3 in April: masked, change hidden
    assert rows["Personnes inscrites"] == [16, "< 5", "—"]
    assert rows["Foyers prioritaires"] == [0, 0, "—"]
    channels = client.get(
        f"{LIST}/demand.channels", {"periode": "month", "debut": "2026-05-01"}, **auth
    ).json()
    by_channel = {row[0]: row[1:] for row in channels["rows"]}
    assert by_channel["formulaire en ligne"] == [7, 77.8, "< 5", "—"]
    assert by_channel["saisie téléphonique"] == ["< 5", "—", 0, "—"]


def test_the_default_period_is_the_cpts_s_current_contract_year(client, auth, figures):
    body = client.get(f"{LIST}/demand.summary", **auth).json()
    assert body["period"]["kind"] == "aci"
    assert body["period"]["start"][5:] == "09-01"
    custom = client.get(
        f"{LIST}/demand.summary",
        {"periode": "custom", "debut": "2026-04-01", "fin": "2026-05-31"},
        **auth,
    ).json()
    assert {row[0]: row[1] for row in custom["rows"]}["Foyers inscrits"] == 12
    assert custom["previous_period"] == {
        "kind": "custom",
        "label": custom["previous_period"]["label"],
        "start": "2026-01-30",
        "end": "2026-03-31",
    }


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"periode": "semaine"}, "periode"),
        ({"periode": "month", "debut": "12/05/2026"}, "debut"),
        ({"periode": "custom", "debut": "2026-05-01"}, "fin"),
        ({"periode": "custom", "debut": "2026-05-01", "fin": "2026-04-01"}, "fin"),
    ],
)
def test_a_bad_period_is_refused_naming_the_parameter(client, auth, query, field):
    response = client.get(f"{LIST}/demand.summary", query, **auth)
    assert response.status_code == 422
    assert list(errors(response)) == [field]


def test_an_unknown_indicator_is_404(client, auth):
    response = client.get(f"{LIST}/demand.inconnu", **auth)
    assert response.status_code == 404
    assert errors(response) == {"code": "Aucun indicateur ne porte ce code."}


def test_the_indicator_endpoints_are_in_the_openapi_schema(client):
    schema = client.get("/api/openapi.json").json()
    assert "/api/v1/indicateurs" in schema["paths"]
    operation = schema["paths"]["/api/v1/indicateurs/{code}"]["get"]
    assert {p["name"] for p in operation["parameters"]} == {"code", "periode", "debut", "fin"}
    assert {"200", "404", "422"} <= set(operation["responses"])
