"""The region's default period is served from the tables the worker computes every hour;
another period is computed on the spot; a snapshot too old is not used."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accesmt.reporting import snapshots
from accesmt.reporting.models import IndicatorSnapshot
from tests.accounts.factories import UserFactory
from tests.reporting.helpers import household
from tests.territory.factories import CPTSFactory

pytestmark = pytest.mark.django_db


def summary_households(response):
    rows = next(
        r["rows"] for r in response.context["results"] if r["indicator"].code == "demand.summary"
    )
    return rows[0][1]


def test_the_default_period_comes_from_the_snapshot_and_says_when(client):
    cpts = CPTSFactory()
    for _ in range(3):
        household(cpts, timezone.now() - datetime.timedelta(days=2))
    assert snapshots.region_snapshots_refresh() == len(snapshots.catalogue.SECTIONS)
    household(cpts, timezone.now() - datetime.timedelta(days=1))  # after the snapshot
    client.force_login(UserFactory(platform_admin=True))
    url = reverse("reporting:region_indicators")
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert summary_households(response) == 3  # the worker's figure, not recomputed
    assert len(captured) < 8
    assert "Chiffres calculés le" in response.content.decode()
    # the tables come back typed: the charts are drawn
    assert response.content.decode().count("<svg") >= 3

    # another period is computed on the spot
    today = timezone.localdate()
    response = client.get(url, {"periode": "month", "debut": today.isoformat()})
    assert "Chiffres calculés le" not in response.content.decode()

    # too old: recomputed (and stored for the next visit)
    IndicatorSnapshot.objects.update(computed_at=timezone.now() - datetime.timedelta(hours=3))
    assert summary_households(client.get(url)) == 4
    assert summary_households(client.get(url)) == 4


def test_a_table_survives_the_round_trip():
    cpts = CPTSFactory()
    household(cpts, timezone.now(), persons=2)
    scope = snapshots.Scope(cpts=None, masked=False)
    period = snapshots.region_default_period(datetime.date(2024, 1, 1))
    for table in snapshots.region_tables(scope, "demand", period):
        back = snapshots.table_from_json(snapshots.table_to_json(table))
        assert back.shown_rows(False) == table.shown_rows(False)
        assert back.shown_rows(True) == table.shown_rows(True)
        assert back.chart == table.chart


def test_a_snapshot_keeps_what_a_page_shows_of_a_long_table():
    from accesmt.reporting.cells import Count, Text
    from accesmt.reporting.tables import PAGE_ROWS, Table

    rows = [[Text(f"commune {i}"), Count(i)] for i in range(PAGE_ROWS + 40)]
    table = Table(code="t", title="t", columns=["commune", "n"], rows=rows, total=["total", 9])
    back = snapshots.table_from_json(snapshots.table_to_json(table, max_rows=PAGE_ROWS))
    assert len(back.rows) == PAGE_ROWS and back.more_rows == 40
    assert back.total[1].shown(False) == 9
