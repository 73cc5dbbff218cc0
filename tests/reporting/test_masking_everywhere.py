"""The one masking rule holds on every page and export an observer or a mairie can reach: a
world where almost every count is from 1 to 4; for each indicator, every cell that the rule
masks (a count of 1 to 4 → "< 5", a rate or median over such counts → "—") is found masked in
the section page, the table's CSV and XLSX, the section exports and the API answer."""

from __future__ import annotations

import csv
import datetime
import io

import openpyxl
import pytest
from django.urls import reverse

from accesmt.accounts.models import Role
from accesmt.api.services import api_key_create
from accesmt.reporting import catalogue
from accesmt.reporting.models import ReportingSettings
from accesmt.reporting.periods import Period
from accesmt.reporting.tables import Scope
from tests.accounts.factories import MembershipFactory
from tests.reporting.helpers import asked, at, closed, household, placed
from tests.territory.factories import CommuneFactory, CPTSFactory, TerritoryCommuneFactory
from tests.worlds import gp_at

pytestmark = pytest.mark.django_db
PERIOD = Period("aci", datetime.date(2026, 1, 1), datetime.date(2027, 1, 1))
QUERY = {"periode": "aci", "debut": "2026-01-01"}


@pytest.fixture
def world():
    cpts = CPTSFactory()
    ReportingSettings.objects.create(cpts=cpts, aci_contract_start=datetime.date(2024, 1, 1))
    here, there = CommuneFactory(population=2400), CommuneFactory(population=800)
    for commune in (here, there):
        TerritoryCommuneFactory(cpts=cpts, commune=commune)
    sites = [gp_at(cpts, here, capacity=3), gp_at(cpts, there, capacity=2)]
    for commune in (here, there):
        household(
            cpts,
            at(2026, 2, 3),
            persons=2,
            commune=commune,
            is_priority=True,
            priority_rule_count=1,
        )
        household(cpts, at(2026, 5, 9), commune=commune, channel="phone")
        household(cpts, at(2025, 6, 1), commune=commune)
        done = closed(cpts, at(2026, 3, 1), at(2026, 4, 2), commune=commune)
        asked(done, at(2026, 3, 8), sites[0].practitioner)
        placed(done, sites[0].practitioner)
        closed(cpts, at(2026, 3, 1), at(2026, 6, 2), reason="withdrawn", commune=commune)
    mairie = MembershipFactory(cpts=cpts, role=Role.MAIRIE)
    mairie.communes.add(here)
    return cpts, here, mairie


def sensitive(scope) -> dict:
    """{indicator code: [(row index, column index, shown masked)]} for every cell that the rule
    changes for this scope (unmasked value ≠ masked value)."""
    found = {}
    for item in catalogue.all_indicators():
        if not catalogue.visible(item, scope):
            continue
        table = item.compute(Scope(scope.cpts, scope.communes, masked=False), PERIOD)
        cells = [
            (r, c, cell.shown(True))
            for r, row in enumerate(table.rows)
            for c, cell in enumerate(row)
            if cell.shown(True) != cell.shown(False)
        ]
        if cells:
            found[item.code] = (table, cells)
    return found


def csv_rows(content: bytes, table) -> list[list[str]]:
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))
    title = next(i for i, row in enumerate(rows) if row[:1] == [table.title])
    start = next(i for i, row in enumerate(rows) if i > title and row == table.columns)
    return rows[start + 1 : start + 1 + len(table.rows)]


def xlsx_rows(content: bytes, table) -> list[list]:
    sheet = openpyxl.load_workbook(io.BytesIO(content)).worksheets[0]
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    header = [value or "" for value in table.columns]
    start = next(i for i, row in enumerate(rows) if [v or "" for v in row[: len(header)]] == header)
    return [row[: len(header)] for row in rows[start + 1 : start + 1 + len(table.rows)]]


def check(rows, cells, where):
    for r, c, masked in cells:
        assert rows[r][c] == masked, (where, r, c, rows[r][c])


@pytest.mark.parametrize("who", ["observer", "mairie"])
def test_every_masked_cell_is_masked_in_every_page_and_export(client, world, who):
    cpts, here, mairie = world
    if who == "observer":
        user = MembershipFactory(cpts=cpts, role=Role.OBSERVER).user
        scope = Scope(cpts, masked=True)
    else:
        user = mairie.user
        scope = Scope(cpts, communes=(here.pk,), masked=True)
    client.force_login(user)
    found = sensitive(scope)
    assert sum(len(cells) for _, cells in found.values()) > 30  # the world is small on purpose
    kwargs = {"cpts_slug": cpts.slug}
    for code, (table, cells) in found.items():
        item = catalogue.get(code)
        page = client.get(
            reverse(
                "reporting:indicators_section",
                kwargs={**kwargs, "section_slug": catalogue.SECTION_SLUGS[item.section]},
            ),
            QUERY,
        )
        shown = next(r["rows"] for r in page.context["results"] if r["indicator"].code == code)
        check(shown, cells, f"page {code}")
        body = client.get(reverse("reporting:table_csv", kwargs={**kwargs, "code": code}), QUERY)
        check(csv_rows(body.content, table), cells, f"csv {code}")
        body = client.get(reverse("reporting:table_xlsx", kwargs={**kwargs, "code": code}), QUERY)
        check(xlsx_rows(body.content, table), cells, f"xlsx {code}")
    for section, slug in catalogue.SECTION_SLUGS.items():
        body = client.get(
            reverse("reporting:section_csv", kwargs={**kwargs, "section_slug": slug}), QUERY
        ).content
        for code, (table, cells) in found.items():
            if catalogue.get(code).section == section:
                check(csv_rows(body, table), cells, f"section csv {code}")


def test_the_api_masks_like_an_observer(client, world):
    cpts, _, _ = world
    key = api_key_create(cpts=cpts, name="observatoire")[1]
    found = sensitive(Scope(cpts, masked=True))
    for code, (_, cells) in found.items():
        answer = client.get(
            f"/api/v1/indicateurs/{code}", QUERY, HTTP_AUTHORIZATION=f"Bearer {key}"
        )
        assert answer.status_code == 200, code
        check(answer.json()["rows"], cells, f"api {code}")
    # the free comments are the coordination's: not even listed
    listed = {
        i["code"]
        for i in client.get("/api/v1/indicateurs", HTTP_AUTHORIZATION=f"Bearer {key}").json()
    }
    hidden = {i.code for i in catalogue.all_indicators() if i.coordination_only}
    assert hidden and not (listed & hidden)
