"""Indicator tables as CSV and XLSX, one by one and by section, and the yearly ACI workbook:
each file read back and compared with counts written in the test, masked for an observer."""

import csv
import datetime
import io

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from accesmt.accounts.models import Role
from accesmt.reporting import catalogue
from accesmt.reporting.catalogue import indicator
from accesmt.reporting.cells import Count, Text
from accesmt.reporting.models import ReportingSettings
from accesmt.reporting.tables import Chart, Table
from tests.accounts.factories import MembershipFactory
from tests.intake.factories import HouseholdMemberFactory, RequestFactory
from tests.territory.factories import CPTSFactory, TerritoryCommuneFactory

pytestmark = pytest.mark.django_db
ZONE = timezone.get_current_timezone()
YEAR = {"periode": "aci", "debut": "2026-06-01"}  # 2026-04-01 → 2027-03-31


def at(year, month, day):
    return datetime.datetime(year, month, day, 10, tzinfo=ZONE)


@pytest.fixture
def cpts():
    cpts = CPTSFactory()
    ReportingSettings.objects.create(cpts=cpts, aci_contract_start=datetime.date(2025, 4, 1))
    return cpts


@pytest.fixture
def commune(cpts):
    return TerritoryCommuneFactory(cpts=cpts).commune


def household(cpts, commune, when, persons=1, **fields):
    request = RequestFactory(cpts=cpts, commune=commune, created_at=when, **fields)
    for _ in range(persons):
        HouseholdMemberFactory(request=request)
    return request


@pytest.fixture
def registrations(cpts, commune):
    """This contract year: 2 households (5 persons, 1 phone, 1 priority) in April and November;
    the previous year: 6 households of one person in June 2025."""
    household(cpts, commune, at(2026, 4, 1), persons=3, is_priority=True, priority_rule_count=1)
    household(cpts, commune, at(2026, 11, 30), persons=2, channel="phone")
    for _ in range(6):
        household(cpts, commune, at(2025, 6, 1))


def get(client, cpts, role, name, query=YEAR, **kwargs):
    membership = MembershipFactory(cpts=cpts, role=role)
    client.force_login(membership.user)
    return client.get(
        reverse(f"reporting:{name}", kwargs={"cpts_slug": cpts.slug, **kwargs}), query
    )


def csv_lines(response) -> list[list[str]]:
    content = response.content
    assert content.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))


def workbook(response):
    return load_workbook(io.BytesIO(response.content))


def sheet_rows(sheet) -> list[list]:
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def block(rows: list[list], header_first: str) -> dict:
    """{label: values} of the rows after the header row starting with `header_first` (an empty
    header cell reads back as None)."""
    start = next(
        i
        for i, row in enumerate(rows)
        if len(row) > 1 and (row[0] or "") == header_first and row[1] is not None
    )
    found = {}
    for row in rows[start + 1 :]:
        if not row or row[0] in (None, ""):
            break
        found[row[0]] = [value for value in row[1:] if value not in (None, "")]
    return found


def test_table_csv_is_for_excel_france_and_holds_the_page_figures(client, cpts, registrations):
    response = get(client, cpts, Role.COORDINATOR, "table_csv", code="demand.summary")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="demand-summary-2026-04-01_2027-03-31.csv"' in response["Content-Disposition"]
    lines = csv_lines(response)
    assert lines[0] == ["Inscriptions de la période"]
    assert lines[1] == ["Période : année du contrat ACI, du 1er avril 2026 au 31 mars 2027"]
    assert lines[4] == ["", "période", "période précédente", "évolution (%)"]
    rows = {line[0]: line[1:] for line in lines[5:]}
    assert rows["Foyers inscrits"] == ["2", "6", "-66,7"]
    assert rows["Personnes inscrites"] == ["5", "6", "-16,7"]
    assert rows["Foyers prioritaires"] == ["1", "0", "—"]


def test_table_csv_is_masked_for_an_observer(client, cpts, registrations):
    lines = csv_lines(get(client, cpts, Role.OBSERVER, "table_csv", code="demand.summary"))
    assert lines[2][0].startswith("Effectifs de 1 à 4 affichés « < 5 »")
    rows = {line[0]: line[1:] for line in lines[5:]}
    assert rows["Foyers inscrits"] == ["< 5", "6", "—"]
    assert rows["Personnes inscrites"] == ["5", "6", "-16,7"]


def test_table_xlsx_keeps_numbers_as_numbers_and_masks_as_text(client, cpts, registrations):
    response = get(client, cpts, Role.OBSERVER, "table_xlsx", code="demand.channels")
    assert response.status_code == 200
    sheet = workbook(response)["demand.channels"]
    rows = sheet_rows(sheet)
    assert rows[0][0] == "Foyers inscrits par canal"
    assert rows[1][0].startswith("Période : année du contrat ACI")
    assert rows[2][0].startswith("Effectifs de 1 à 4")
    channels = block(rows, "canal")
    # this year: 1 online, 1 phone (masked, rates hidden); last year: 6 online
    assert channels["formulaire en ligne"] == ["< 5", "—", 6, 100.0]
    assert channels["saisie téléphonique"] == ["< 5", "—", 0, 0.0]  # 0 of 6: a rate
    assert isinstance(channels["formulaire en ligne"][2], int)


def test_coordinator_xlsx_is_unmasked_with_rates_as_numbers(client, cpts, registrations):
    response = get(client, cpts, Role.COORDINATOR, "table_xlsx", code="demand.channels")
    channels = block(sheet_rows(workbook(response)["demand.channels"]), "canal")
    assert channels["formulaire en ligne"] == [1, 50.0, 6, 100.0]
    assert channels["saisie téléphonique"] == [1, 50.0, 0, 0.0]


def test_section_exports_hold_every_indicator_of_the_section(client, cpts, registrations):
    codes = [item.code for item in catalogue.of_section("demand")]
    response = get(client, cpts, Role.COORDINATOR, "section_xlsx", section_slug="demande")
    assert response.status_code == 200
    book = workbook(response)
    assert book.sheetnames == codes
    by_month = block(sheet_rows(book["demand.by_month"]), "mois")
    assert by_month["avril 2026"] == [1, 3]
    assert by_month["novembre 2026"] == [1, 2]
    assert by_month["mai 2026"] == [0, 0]
    assert len(by_month) == 12
    lines = csv_lines(get(client, cpts, Role.COORDINATOR, "section_csv", section_slug="demande"))
    titles = {item.title for item in catalogue.of_section("demand")}
    assert titles <= {line[0] for line in lines if line}


def test_bad_or_unknown_requests(client, cpts):
    assert get(client, cpts, Role.COORDINATOR, "table_csv", code="nope.nope").status_code == 404
    response = get(client, cpts, Role.COORDINATOR, "section_csv", section_slug="nope")
    assert response.status_code == 404
    bad = {"periode": "custom", "debut": "2026-01-01"}
    response = get(client, cpts, Role.COORDINATOR, "table_csv", bad, code="demand.summary")
    assert response.status_code == 400


@pytest.mark.parametrize("role", [Role.REFERRER, Role.GP, Role.CPAM_MEDIATOR])
@pytest.mark.parametrize(
    "name,kwargs",
    [
        ("table_csv", {"code": "demand.summary"}),
        ("section_xlsx", {"section_slug": "demande"}),
        ("aci_report_xlsx", {}),
    ],
)
def test_other_roles_get_no_export(client, cpts, role, name, kwargs):
    assert get(client, cpts, role, name, **kwargs).status_code == 404


def test_indicator_page_links_to_the_exports_with_its_period(client, cpts):
    response = get(
        client, cpts, Role.OBSERVER, "indicators", {"periode": "month", "debut": "2026-05-03"}
    )
    body = response.content.decode()
    query = "?periode=month&amp;debut=2026-05-01"
    for code in [item.code for item in catalogue.of_section("demand")]:
        for fmt in ("csv", "xlsx"):
            url = reverse(f"reporting:table_{fmt}", kwargs={"cpts_slug": cpts.slug, "code": code})
            assert f'href="{url}{query}"' in body
    assert reverse("reporting:aci_report_pdf", kwargs={"cpts_slug": cpts.slug}) in body
    assert reverse("reporting:communes", kwargs={"cpts_slug": cpts.slug}) in body
    assert "Télécharger :" in body


@pytest.fixture
def extra_indicator():
    """A test-only indicator in another section, with a bar chart: the exports list the
    catalogue, so it must appear in them without any more code."""

    @indicator(
        "satisfaction.test_only",
        section="satisfaction",
        title="Indicateur d'essai",
        formula="Deux lignes fixes.",
        unit="personnes",
        population="aucune",
    )
    def test_only(scope, period):
        return Table(
            code="satisfaction.test_only",
            title="Indicateur d'essai",
            columns=["réponse d'essai", "personnes"],
            rows=[[Text("oui"), Count(12)], [Text("non"), Count(3)]],
            chart=Chart("bars", columns=(1,)),
        )

    yield
    del catalogue._REGISTRY["satisfaction.test_only"]


def test_aci_workbook_has_every_section_the_previous_year_and_native_charts(
    client, cpts, registrations, extra_indicator
):
    response = get(
        client,
        cpts,
        Role.COORDINATOR,
        "aci_report_xlsx",
        {"periode": "month", "debut": "2026-06-01"},
    )
    assert response.status_code == 200
    assert 'filename="rapport-aci-' in response["Content-Disposition"]
    book = workbook(response)
    sections = [title for code, title in catalogue.SECTIONS.items() if catalogue.of_section(code)]
    assert book.sheetnames == ["Rapport", *sections]
    assert {"Demande", "Satisfaction"} <= set(sections)
    cover = [row[0] for row in sheet_rows(book["Rapport"]) if row[0]]
    assert f"Rapport annuel ACI — {cpts.name}" in cover
    # a month asked for: the report covers the contract year that contains it
    assert "Année du contrat : année du contrat ACI, du 1er avril 2026 au 31 mars 2027" in cover
    demand = book["Demande"]
    rows = sheet_rows(demand)
    summary = block(rows, "")
    assert summary["Foyers inscrits"] == [2, 6, -66.7]
    # by month has no previous column: the previous year's months are put beside
    by_month = block(rows, "mois")
    assert by_month["avril 2026"] == [1, 3, "avril 2025", 0, 0]
    assert by_month["juin 2026"] == [0, 0, "juin 2025", 6, 6]
    header = next(row for row in rows if row and row[0] == "mois")
    assert header[3:6] == [
        "mois (année précédente)",
        "foyers (année précédente)",
        "personnes (année précédente)",
    ]
    charts = demand._charts
    assert len(charts) == len(catalogue.of_section("demand"))
    # the summary is drawn as bars, the months as a line, like on the page
    assert [type(chart).__name__ for chart in charts[:2]] == ["BarChart", "LineChart"]
    assert len(charts[1].series) == 4  # foyers, personnes, and the same for the previous year
    extra = block(sheet_rows(book["Satisfaction"]), "réponse d'essai")
    assert extra["oui"][:2] == [12, "oui"]


def test_aci_workbook_is_masked_for_an_observer(client, cpts, registrations):
    book = workbook(get(client, cpts, Role.OBSERVER, "aci_report_xlsx"))
    rows = sheet_rows(book["Demande"])
    assert block(rows, "")["Foyers inscrits"] == ["< 5", 6, "—"]
    assert block(rows, "mois")["avril 2026"] == ["< 5", "< 5", "avril 2025", 0, 0]
    assert any(row[0] and str(row[0]).startswith("Effectifs de 1 à 4") for row in rows)
