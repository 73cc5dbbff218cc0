"""The public monthly report: published only when the CPTS says so, every figure against a
count written here, always masked, a fixed number of queries."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accesmt.accounts.models import Role
from accesmt.intake.models import Status
from accesmt.reporting.models import ReportingSettings
from accesmt.reporting.public_report import report_period
from tests.accounts.factories import MembershipFactory
from tests.intake.factories import HouseholdMemberFactory, RequestFactory
from tests.territory.factories import CommuneFactory, CPTSFactory, TerritoryCommuneFactory

pytestmark = pytest.mark.django_db
ZONE = timezone.get_current_timezone()


def at(month: datetime.date, day: int) -> datetime.datetime:
    return datetime.datetime(month.year, month.month, day, 10, tzinfo=ZONE)


def household(cpts, commune, created, persons, *, closed=None, reason=""):
    fields = {}
    if closed is not None:
        fields = {"status": Status.CLOSED, "closed_at": closed, "closed_reason": reason}
    request = RequestFactory(cpts=cpts, commune=commune, created_at=created, **fields)
    for _ in range(persons):
        HouseholdMemberFactory(request=request, last_name="Témoin-Public")
    return request


@pytest.fixture
def cpts():
    cpts = CPTSFactory(name="CPTS Publique", slug="cpts-publique")
    ReportingSettings.objects.create(cpts=cpts, public_report=True)
    return cpts


@pytest.fixture
def communes(cpts):
    arras = CommuneFactory(name="Arras-Test", artois=True)
    bapaume = CommuneFactory(name="Bapaume-Test", artois=True)
    for commune in (bapaume, arras):
        TerritoryCommuneFactory(cpts=cpts, commune=commune)
    return arras, bapaume


@pytest.fixture
def history(cpts, communes):
    arras, bapaume = communes
    months = report_period().months()
    m0, m5, m11 = months[0], months[5], months[11]
    household(cpts, arras, at(m0, 10), 3)  # still waiting
    household(cpts, arras, at(m0, 10), 2, closed=at(m5, 15), reason="mt_found")
    household(cpts, arras, at(m0, 12), 4, closed=at(m0, 20), reason="withdrawn")
    household(cpts, bapaume, at(m5, 2), 1)  # still waiting
    before = at(m0, 1) - datetime.timedelta(days=40)
    household(cpts, arras, before, 6, closed=at(m11, 5), reason="mt_found")
    household(cpts, arras, at(m5, 3), 5, closed=at(m5, 4), reason="duplicate")
    other = CPTSFactory()
    household(other, TerritoryCommuneFactory(cpts=other).commune, at(m5, 2), 7)
    return months


def get(client, cpts):
    return client.get(reverse("reporting:public_report", kwargs={"cpts_slug": cpts.slug}))


def table(response, code):
    for result in response.context["results"]:
        if result["table"].code == code:
            return result["rows"]
    raise AssertionError(code)


def test_every_month_against_the_households_written_above(client, cpts, history):
    response = get(client, cpts)
    assert response.status_code == 200
    rows = table(response, "public.by_month")
    assert len(rows) == 12
    # columns: registered, waiting at the month's end, found a médecin traitant (persons)
    expected = (
        [[9, 11, 0]]  # 3 + 2 + 4 registered; waiting 3 + 2 + 6 (registered before the period)
        + [[0, 11, 0]] * 4
        + [["< 5", 10, "< 5"]]  # 1 in Bapaume; 3 + 6 + 1 waiting; 2 placed
        + [[0, 10, 0]] * 5
        + [[0, "< 5", 6]]  # the 6 placed: 3 + 1 still waiting
    )
    assert [row[1:] for row in rows] == expected


def test_by_commune_over_the_twelve_months(client, cpts, history):
    rows = table(get(client, cpts), "public.by_commune")
    assert rows == [
        ["Arras-Test", 9, 8, "< 5"],
        ["Bapaume-Test", "< 5", 0, "< 5"],
        ["Total du territoire", 10, 8, "< 5"],
    ]


def test_the_coordinator_sees_the_public_page_masked_like_everyone(client, cpts, history):
    client.force_login(MembershipFactory(cpts=cpts, role=Role.COORDINATOR).user)
    response = get(client, cpts)
    body = response.content.decode()
    assert table(response, "public.by_commune")[1] == ["Bapaume-Test", "< 5", 0, "< 5"]
    assert body.count("<svg") == 2
    assert "&lt; 5" in body and "Méthode" in body
    assert "Témoin-Public" not in body and "<script" not in body and "style=" not in body


def test_not_published_or_unknown_or_inactive_cpts_answers_404(client, cpts):
    ReportingSettings.objects.filter(cpts=cpts).update(public_report=False)
    assert get(client, cpts).status_code == 404
    assert get(client, CPTSFactory()).status_code == 404  # no settings row: not published
    inactive = CPTSFactory(is_active=False)
    ReportingSettings.objects.create(cpts=inactive, public_report=True)
    assert get(client, inactive).status_code == 404
    url = reverse("reporting:public_report", kwargs={"cpts_slug": "nulle-part"})
    assert client.get(url).status_code == 404


def test_the_number_of_queries_does_not_grow_with_the_data(client, cpts, history, communes):
    with CaptureQueriesContext(connection) as first:
        assert get(client, cpts).status_code == 200
    for month in history:
        household(cpts, communes[1], at(month, 8), 2)
        household(cpts, CommuneFactory(artois=True), at(month, 9), 1)
    TerritoryCommuneFactory(cpts=cpts)
    with CaptureQueriesContext(connection) as second:
        get(client, cpts)
    assert len(second) == len(first) <= 12
