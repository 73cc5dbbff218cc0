"""A long table (the communes of a big territory, of a region) shows its first rows on the
page, says how many are left out, and the exports hold every row."""

import csv
import io

import pytest
from django.urls import reverse

from accesmt.accounts.models import Role
from accesmt.reporting.tables import PAGE_ROWS
from tests.accounts.factories import MembershipFactory
from tests.territory.factories import CPTSFactory, TerritoryCommuneFactory

pytestmark = pytest.mark.django_db


def test_the_page_cuts_a_long_table_and_the_csv_does_not(client):
    cpts = CPTSFactory()
    for _ in range(PAGE_ROWS + 7):
        TerritoryCommuneFactory(cpts=cpts)
    client.force_login(MembershipFactory(cpts=cpts, role=Role.COORDINATOR).user)
    kwargs = {"cpts_slug": cpts.slug}
    page = client.get(reverse("reporting:indicators", kwargs=kwargs))
    result = next(r for r in page.context["results"] if r["indicator"].code == "demand.communes")
    assert len(result["rows"]) == PAGE_ROWS
    assert result["rows_left_out"] == 7
    assert "Les 7 lignes suivantes ne sont pas affichées ici" in page.content.decode()
    body = client.get(reverse("reporting:table_csv", kwargs={**kwargs, "code": "demand.communes"}))
    rows = list(csv.reader(io.StringIO(body.content.decode("utf-8-sig")), delimiter=";"))
    header = rows.index(["commune", "personnes inscrites", "habitants", "pour 1 000 habitants"])
    assert len(rows[header + 1 :]) == PAGE_ROWS + 7
