"""Offer indicators over HTTP: every figure against a count written in the test, at the end of
the period and of the previous one, masked for an observer; the dated GP counts that RPPS
imports keep; the page's query count."""

import datetime
import importlib

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accesmt.accounts.models import Role
from accesmt.directory.models import GPCount
from accesmt.directory.rpps import rpps_import
from accesmt.directory.survey import campaign_figures
from accesmt.reporting.models import ReportingSettings
from tests.accounts.factories import MembershipFactory
from tests.directory.factories import (
    AvailabilityDeclarationFactory,
    PracticeSiteFactory,
    PractitionerFactory,
    territory_with,
)
from tests.directory.rpps_files import gp_row, write_rpps_file
from tests.intake.factories import RequestFactory
from tests.orientation.factories import PlacementFactory
from tests.territory.factories import CommuneFactory, CPTSFactory

pytestmark = pytest.mark.django_db
ZONE = timezone.get_current_timezone()
# The contract year 2025-04-01 → 2026-03-31 (ended): its end is 2026-04-01 00:00, the previous
# year's end 2025-04-01 00:00.
YEAR = {"periode": "aci", "debut": "2025-04-01"}


def at(year, month, day, hour=10):
    return datetime.datetime(year, month, day, hour, tzinfo=ZONE)


def declaration(gp, cpts, declared, until=None, **fields):
    return AvailabilityDeclarationFactory(
        practitioner=gp,
        cpts=cpts,
        declared_at=declared,
        valid_until=until or declared + datetime.timedelta(days=183),
        **fields,
    )


def gp_in(*communes, **fields):
    gp = PractitionerFactory(**fields)
    for commune in communes:
        PracticeSiteFactory(practitioner=gp, commune=commune)
    return gp


@pytest.fixture
def places():
    return {
        "lievin": CommuneFactory(name="Liévin", population=30000),
        "avion": CommuneFactory(name="Avion", population=17000),
        "vendin": CommuneFactory(name="Vendin-le-Vieil", population=8000),
        "lille": CommuneFactory(name="Lille", population=230000),
    }


@pytest.fixture
def cpts(places):
    cpts = territory_with(CPTSFactory(), places["lievin"], places["avion"], places["vendin"])
    ReportingSettings.objects.create(cpts=cpts, aci_contract_start=datetime.date(2025, 4, 1))
    territory_with(CPTSFactory(), places["lille"])
    return cpts


@pytest.fixture
def gps(cpts, places):
    """Eight GPs at the end of the year (nine at the end of the previous one: one left in
    February 2026), ages counted in 2026 (2025 for the previous year)."""
    lievin, avion = places["lievin"], places["avion"]
    found = {
        "b1960": gp_in(lievin, birth_year=1960),  # 66: 65+ (65 in 2025)
        "b1964": gp_in(lievin, birth_year=1964),  # 62: 60–64 (61 in 2025)
        "b1970": gp_in(lievin, birth_year=1970),  # 56
        "b1980": gp_in(lievin, birth_year=1980),  # 46
        "b1990": gp_in(lievin, birth_year=1990),  # 36
        "unknown": gp_in(lievin),  # no birth year, no band
        "avion": gp_in(avion, age_band="65_plus", is_msu=True),
        "both": gp_in(lievin, avion, birth_year=1950, is_msu=True),  # 76
        "gone": gp_in(lievin, birth_year=1955, is_gone=True, gone_since=at(2026, 2, 1)),
    }
    gp_in(places["lille"], birth_year=1950, is_msu=True)  # another CPTS: never counted
    return found


def page(client, cpts, role, **query):
    client.force_login(MembershipFactory(cpts=cpts, role=role).user)
    url = reverse(
        "reporting:indicators_section", kwargs={"cpts_slug": cpts.slug, "section_slug": "offre"}
    )
    return client.get(url, query)


def rows_of(response, code):
    for result in response.context["results"]:
        if result["indicator"].code == code:
            return {str(row[0]): row[1:] for row in result["rows"]}
    raise AssertionError(code)


def test_ages_msu_and_inhabitants_per_gp(client, cpts, gps):
    response = page(client, cpts, Role.COORDINATOR, **YEAR)
    assert response.status_code == 200
    assert rows_of(response, "offer.age_bands") == {
        "moins de 40 ans": [1, 12.5],
        "40 à 49 ans": [1, 12.5],
        "50 à 59 ans": [1, 12.5],
        "60 à 64 ans": [1, 12.5],
        "65 ans et plus": [3, 37.5],  # 1960, the Avion band, 1950
        "âge non renseigné": [1, 12.5],
        "ensemble des médecins": [8, 100.0],
    }
    # 2025: 1960 (65), 1964 (61), the band, 1950, and the GP who left in 2026 (70)
    assert rows_of(response, "offer.aged_60_plus") == {
        "60 ans et plus": [4, 50.0, 5, 55.6],
        "âge non renseigné": [1, 12.5, 1, 11.1],
        "ensemble des médecins": [8, 100.0, 9, 100.0],
    }
    assert rows_of(response, "offer.msu")["maîtres de stage universitaires"] == [2, 25.0, 2, 22.2]
    # Liévin: six GPs and the GP of both communes; Avion: one and the GP of both.
    assert rows_of(response, "offer.by_commune") == {
        "Avion": [17000, 2, 1.18, 8500],
        "Liévin": [30000, 7, 2.33, 4286],
        "Vendin-le-Vieil": [8000, 0, 0.0, "—"],
        "ensemble du territoire": [55000, 8, 1.45, 6875],
    }


def test_accepting_gps_by_listing_at_the_end_of_each_year(client, cpts, gps):
    for key in ("b1960", "b1964", "b1970", "b1980", "b1990"):
        declaration(gps[key], cpts, at(2026, 1, 15), listing="public")
    declaration(gps["b1960"], cpts, at(2026, 5, 1), accepting="no", monthly_capacity=None)
    declaration(gps["unknown"], cpts, at(2025, 6, 1), listing="professionals")  # expired
    declaration(gps["avion"], cpts, at(2025, 12, 1), listing="professionals")
    declaration(gps["avion"], cpts, at(2026, 2, 1), accepting="no", monthly_capacity=None)
    declaration(gps["both"], cpts, at(2026, 3, 1), listing="not_listed")
    declaration(gps["both"], cpts, at(2026, 3, 1), accepting="on_request", listing="public")
    declaration(gps["gone"], cpts, at(2026, 1, 10), listing="public")  # gone in February
    declaration(gps["gone"], cpts, at(2025, 3, 1), listing="public")
    declaration(gps["b1970"], cpts, at(2025, 3, 1), listing="public")
    response = page(client, cpts, Role.COORDINATOR, **YEAR)
    # The GP of both communes: two declarations at the same time, the last recorded counts
    # ("au cas par cas": not counted).
    assert rows_of(response, "offer.accepting") == {
        "listés publiquement (carte publique)": [5, 62.5, 2, 22.2],
        "listés pour les professionnels seulement": [0, 0.0, 0, 0.0],
        "non listés": [0, 0.0, 0, 0.0],
        "acceptent de nouveaux patients": [5, 62.5, 2, 22.2],
    }
    # Departures declared in the declarations current at the end of the year.
    gps["b1964"].declarations.update(planned_departure_date=datetime.date(2026, 12, 1))
    declaration(
        gps["both"],
        cpts,
        at(2026, 3, 2),
        listing="not_listed",
        planned_departure_date=datetime.date(2028, 6, 1),
    )
    response = page(client, cpts, Role.COORDINATOR, **YEAR)
    assert rows_of(response, "offer.accepting")["non listés"] == [1, 12.5, 0, 0.0]
    assert rows_of(response, "offer.departures") == {
        "dans les 12 prochains mois": [1, 12.5],
        "dans les 24 prochains mois": [1, 12.5],
        "dans les 36 prochains mois": [2, 25.0],
    }


def test_observer_sees_small_counts_masked(client, cpts, gps):
    for key in ("b1960", "b1964", "b1970", "b1980", "b1990"):
        declaration(gps[key], cpts, at(2026, 1, 15), listing="public")
    declaration(gps["both"], cpts, at(2026, 3, 1), listing="not_listed")
    declaration(gps["gone"], cpts, at(2025, 3, 1), listing="public")
    response = page(client, cpts, Role.OBSERVER, **YEAR)
    assert response.status_code == 200
    assert rows_of(response, "offer.accepting") == {
        "listés publiquement (carte publique)": [5, 62.5, "< 5", "—"],
        "listés pour les professionnels seulement": [0, 0.0, 0, 0.0],
        "non listés": ["< 5", "—", 0, 0.0],
        "acceptent de nouveaux patients": [6, 75.0, "< 5", "—"],
    }
    assert rows_of(response, "offer.msu")["maîtres de stage universitaires"] == [
        "< 5",
        "—",
        "< 5",
        "—",
    ]
    communes = rows_of(response, "offer.by_commune")
    assert communes["Avion"] == [17000, "< 5", "—", "—"]
    assert communes["Liévin"] == [30000, 7, 2.33, 4286]
    assert rows_of(response, "offer.age_bands")["65 ans et plus"] == ["< 5", "—"]
    body = response.content.decode()
    assert body.count("<svg") == 9  # the survey table is empty: no chart (the projection: one)
    assert "&lt; 5" in body


def test_survey_response_rate_of_the_campaigns_launched_in_the_period(client, cpts, gps):
    from accesmt.directory.models import SurveyCampaign, SurveyInvitation

    def campaign(title, launched, answered, sent):
        found = SurveyCampaign.objects.create(cpts=cpts, title=title, launched_at=launched)
        for index, gp in enumerate(list(gps.values())[:sent]):
            SurveyInvitation.objects.create(
                campaign=found,
                practitioner=gp,
                email=f"dr{index}@exemple.fr",
                sent_at=launched,
                answered_at=launched + datetime.timedelta(days=2) if index < answered else None,
            )
        return found

    spring = campaign("Printemps", at(2025, 5, 5), answered=5, sent=8)
    campaign("Automne", at(2025, 10, 6), answered=2, sent=3)
    campaign("Avant", at(2025, 3, 1), answered=9, sent=9)  # previous year
    response = page(client, cpts, Role.COORDINATOR, **YEAR)
    assert rows_of(response, "offer.survey") == {
        "Printemps": ["05/05/2025", 8, 5, 62.5],
        "Automne": ["06/10/2025", 3, 2, 66.7],
        "ensemble des enquêtes de la période": ["", 11, 7, 63.6],
    }
    # The campaign page counts the same way (one definition, `response_counts`).
    figures = campaign_figures(spring)
    assert (figures["answered"], figures["total"], figures["rate"]) == (5, 8, 62)
    masked = rows_of(page(client, cpts, Role.OBSERVER, **YEAR), "offer.survey")
    assert masked["Automne"] == ["06/10/2025", "< 5", "< 5", "—"]


def test_places_declared_and_persons_placed_by_month(client, cpts, gps, places):
    quarter = {"periode": "quarter", "debut": "2026-01-01"}  # January → March 2026
    declaration(gps["b1970"], cpts, at(2025, 12, 20), monthly_capacity=6)  # valid Jan → Mar
    declaration(gps["b1980"], cpts, at(2025, 12, 20), until=at(2026, 2, 1, 0), monthly_capacity=3)
    declaration(gps["b1990"], cpts, at(2026, 1, 10), monthly_capacity=5)  # from February
    declaration(gps["b1990"], cpts, at(2026, 2, 15), monthly_capacity=2)  # replaces it
    declaration(gps["b1964"], cpts, at(2025, 12, 1), monthly_capacity=10)
    declaration(gps["b1964"], cpts, at(2026, 1, 5), accepting="no", monthly_capacity=None)
    declaration(gps["gone"], cpts, at(2025, 12, 1), monthly_capacity=7)  # gone on 1 February
    declaration(gps["b1960"], cpts, at(2025, 12, 1), monthly_capacity=4, accepting="on_request")

    def placed(when, members, commune=places["lievin"], **fields):
        request = RequestFactory(cpts=cpts, commune=commune, closed=True, closed_reason="mt_found")
        PlacementFactory(
            cpts=cpts,
            request=request,
            practitioner=gps["b1970"],
            members=members,
            at=when,
            **fields,
        )

    placed(at(2026, 1, 3), 2)
    placed(at(2026, 1, 31, 23), 3)
    placed(at(2026, 3, 9), 1)
    placed(at(2025, 12, 31), 4)  # before the quarter
    reopened = RequestFactory(cpts=cpts, commune=places["avion"], status="waiting")
    PlacementFactory(
        cpts=cpts, request=reopened, practitioner=gps["b1970"], members=5, at=at(2026, 2, 2)
    )
    response = page(client, cpts, Role.COORDINATOR, **quarter)
    # January 1: 6 + 3 + 10 + 7 + 4; February 1: 6 + 5 + 4 (b1980 expired, b1964 said no, the
    # GP who left on 1 February 10:00 still counts at 00:00: 7); March 1: 6 + 2 + 4.
    assert rows_of(response, "offer.capacity") == {
        "janvier 2026": [30, 5],
        "février 2026": [22, 0],
        "mars 2026": [12, 1],
        "ensemble de la période": [64, 6],
    }
    masked = rows_of(page(client, cpts, Role.OBSERVER, **quarter), "offer.capacity")
    assert masked["mars 2026"] == [12, "< 5"]


def test_rpps_import_keeps_a_dated_count_per_cpts(tmp_path, cpts, places):
    from tests.territory.conftest import make_commune

    lievin = make_commune("62510", "Liévin", 50.4228, 2.7786, postcodes=["62800"])
    other = territory_with(CPTSFactory(), lievin)
    path = write_rpps_file(tmp_path / "rpps.txt", [gp_row()])
    rpps_import(path, departements=["62"])  # covers `other` only
    today = timezone.localdate()
    assert [
        (c.cpts_id, c.date, c.present, c.aged_60_plus, c.msu) for c in GPCount.objects.all()
    ] == [(other.pk, today, 1, 0, 0)]
    manual = PractitionerFactory(birth_year=1950, is_msu=True, manual=True)
    PracticeSiteFactory(practitioner=manual, commune=places["avion"], source="manual")
    rpps_import(path, dry_run=True)  # a dry run counts nothing
    assert not GPCount.objects.filter(cpts=cpts).exists()
    rpps_import(path)  # the whole platform, the same day again: one count per CPTS and day
    counts = {c.cpts_id: (c.date, c.present, c.aged_60_plus, c.msu) for c in GPCount.objects.all()}
    assert counts[other.pk] == (today, 1, 0, 0)
    assert counts[cpts.pk] == (today, 1, 1, 1)
    assert GPCount.objects.filter(cpts=other).count() == 1


def test_first_count_at_deployment(cpts, gps):
    migration = importlib.import_module(
        "accesmt.directory.migrations.0006_gp_counts_first_count_from_directory"
    )
    migration.first_counts(apps, None)
    year = timezone.localdate().year
    aged = (
        sum(
            1
            for key in ("b1960", "b1964", "b1970", "b1980", "b1990", "both")
            if gps[key].birth_year <= year - 60
        )
        + 1
    )  # the Avion band
    count = GPCount.objects.get(cpts=cpts)
    assert (count.date, count.present, count.aged_60_plus, count.msu) == (
        timezone.localdate(),
        8,
        aged,
        2,
    )


def test_gp_history_takes_the_last_count_of_each_month(client, cpts):
    other = CPTSFactory()
    for day, present in (
        (datetime.date(2025, 12, 20), 40),
        (datetime.date(2026, 2, 3), 41),
        (datetime.date(2026, 2, 25), 43),
        (datetime.date(2026, 4, 2), 50),
    ):
        GPCount.objects.create(cpts=cpts, date=day, present=present, aged_60_plus=12, msu=3)
    GPCount.objects.create(
        cpts=other, date=datetime.date(2026, 1, 5), present=99, aged_60_plus=9, msu=9
    )
    quarter = {"periode": "quarter", "debut": "2026-01-01"}
    rows = rows_of(page(client, cpts, Role.COORDINATOR, **quarter), "offer.gp_history")
    assert rows == {
        "janvier 2026": [40, 12, 3],  # December's count carried
        "février 2026": [43, 12, 3],
        "mars 2026": [43, 12, 3],
    }
    masked = rows_of(page(client, cpts, Role.OBSERVER, **quarter), "offer.gp_history")
    assert masked["mars 2026"] == [43, 12, "< 5"]
    before = rows_of(
        page(client, cpts, Role.COORDINATOR, periode="month", debut="2025-11-01"),
        "offer.gp_history",
    )
    assert before == {"novembre 2025": ["—", "—", "—"]}


def _gps_with_everything(cpts, commune, count):
    for index in range(count):
        gp = gp_in(commune, birth_year=1950 + index % 40, is_msu=index % 3 == 0)
        declaration(gp, cpts, at(2026, 1, 15), listing=("public", "professionals")[index % 2])
        PlacementFactory(
            cpts=cpts,
            request=RequestFactory(
                cpts=cpts, commune=commune, closed=True, closed_reason="mt_found"
            ),
            practitioner=gp,
            at=at(2026, 2, 1 + index % 20),
        )


def test_query_count_does_not_grow_with_the_number_of_gps(client, cpts, places):
    client.force_login(MembershipFactory(cpts=cpts, role=Role.OBSERVER).user)
    url = reverse(
        "reporting:indicators_section", kwargs={"cpts_slug": cpts.slug, "section_slug": "offre"}
    )

    def queries(query):
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url, query).status_code == 200
        return len(captured.captured_queries)

    _gps_with_everything(cpts, places["lievin"], 5)
    few = queries(YEAR), queries({})  # an ended year; the current one (taken "now")
    _gps_with_everything(cpts, places["avion"], 35)
    assert (queries(YEAR), queries({})) == few
    assert few[1] <= 21, few  # 15 today, session and membership included; the projection: 6
