"""Exports of rows about persons: coordinators only, the queue's filters kept, every exported
request audited ("export"), the page says so before the download, no NIR, nothing personal in
the URL, a number of queries that does not grow with the rows."""

import csv
import datetime
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from accesmt.accounts.models import AuditLog, Role
from accesmt.reporting.exports.persons import COLUMNS, WARNING
from tests.accounts.factories import MembershipFactory
from tests.intake.factories import HouseholdMemberFactory, RequestFactory
from tests.territory.factories import CPTSFactory, TerritoryCommuneFactory

pytestmark = pytest.mark.django_db
ZONE = timezone.get_current_timezone()
NIR = "180056200312345"


@pytest.fixture
def cpts():
    return CPTSFactory()


@pytest.fixture
def commune(cpts):
    return TerritoryCommuneFactory(cpts=cpts).commune


def household(cpts, commune, *, persons=1, when=None, **fields):
    request = RequestFactory(
        cpts=cpts,
        commune=commune,
        created_at=when or timezone.now(),
        waiting_since=when or timezone.now(),
        **fields,
    )
    for position in range(persons):
        HouseholdMemberFactory(
            request=request, position=position, nir=NIR, is_contact_person=position == 0
        )
    return request


def login(client, cpts, role=Role.COORDINATOR):
    membership = MembershipFactory(cpts=cpts, role=role)
    client.force_login(membership.user)
    return membership.user


def url(cpts):
    return reverse("reporting:person_export", kwargs={"cpts_slug": cpts.slug})


def exported(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))


def test_the_page_warns_before_the_download_and_keeps_the_queue_filters(client, cpts, commune):
    login(client, cpts)
    response = client.get(url(cpts), {"status": "waiting", "commune": commune.insee_code})
    assert response.status_code == 200
    body = response.content.decode()
    assert WARNING.replace("'", "&#x27;") in body
    assert '<input type="hidden" name="status" value="waiting">' in body
    assert f'<input type="hidden" name="commune" value="{commune.insee_code}">' in body
    assert "État : en attente d&#x27;un médecin" in body
    # the queue page links to it with its filters (no personal data: codes only)
    queue = client.get(
        reverse("intake_staff:queue", kwargs={"cpts_slug": cpts.slug}), {"status": "waiting"}
    )
    assert f'href="{url(cpts)}?status=waiting"' in queue.content.decode()


def test_queue_export_keeps_filters_audits_each_row_and_has_no_nir(client, cpts, commune):
    user = login(client, cpts)
    first = household(
        cpts, commune, persons=2, status="waiting", is_priority=True, priority_rule_count=1
    )
    second = household(cpts, commune, status="waiting", channel="phone")
    household(cpts, commune, status="new")  # filtered out
    household(cpts, commune, closed=True)  # filtered out
    other = CPTSFactory()
    household(other, TerritoryCommuneFactory(cpts=other).commune, status="waiting")  # elsewhere
    response = client.post(url(cpts), {"export": "file", "format": "csv", "status": "waiting"})
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="demandes-{cpts.slug}.csv"'
    lines = exported(response)
    assert lines[0] == COLUMNS
    by_reference = {line[0]: dict(zip(COLUMNS, line, strict=True)) for line in lines[1:]}
    # the queue's order: priority first
    assert [line[0] for line in lines[1:]] == [first.reference, second.reference]
    assert by_reference[first.reference]["personnes du foyer"] == "2"
    assert by_reference[first.reference]["prioritaire"] == "oui"
    assert by_reference[second.reference]["canal"] == "saisie téléphonique"
    assert by_reference[second.reference]["personne à contacter"].startswith("Camille Durand")
    assert NIR not in response.content.decode("utf-8-sig")
    lines = AuditLog.objects.filter(action="export", actor=user)
    assert sorted(lines.values_list("object_id", flat=True)) == sorted(
        [str(first.pk), str(second.pk)]
    )
    assert set(lines.values_list("object_type", flat=True)) == {"intake.request"}


def test_period_export_as_xlsx(client, cpts, commune):
    user = login(client, cpts)
    inside = household(cpts, commune, when=datetime.datetime(2026, 3, 5, 9, tzinfo=ZONE), persons=3)
    household(cpts, commune, when=datetime.datetime(2026, 4, 1, 0, 30, tzinfo=ZONE))  # after
    response = client.post(
        url(cpts),
        {"export": "periode", "format": "xlsx", "periode": "month", "debut": "2026-03-20"},
    )
    assert response.status_code == 200
    assert 'filename="demandes-' in response["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert rows[0][0] == WARNING
    assert rows[2] == COLUMNS
    assert len(rows) == 4
    record = dict(zip(COLUMNS, rows[3], strict=True))
    assert record["référence"] == inside.reference
    assert record["personnes du foyer"] == 3
    assert record["inscrite le"] == datetime.datetime(2026, 3, 5, 9, tzinfo=ZONE).replace(
        tzinfo=None
    )
    assert AuditLog.objects.filter(action="export", actor=user).count() == 1


def test_a_value_typed_as_a_formula_is_not_run_by_the_spreadsheet(client, cpts, commune):
    login(client, cpts)
    household(cpts, commune, address='=HYPERLINK("http://x")', status="waiting")
    lines = exported(client.post(url(cpts), {"export": "file", "format": "csv"}))
    assert lines[1][COLUMNS.index("adresse")] == '\'=HYPERLINK("http://x")'


def test_query_count_does_not_grow_with_the_rows(
    client, cpts, commune, django_assert_max_num_queries
):
    login(client, cpts)
    for _ in range(2):
        household(
            cpts, commune, persons=2, status="waiting", is_priority=True, priority_rule_count=1
        )
    client.post(url(cpts), {"export": "file", "format": "csv"})  # sessions, caches warmed
    with CaptureQueriesContext(connection) as few:
        client.post(url(cpts), {"export": "file", "format": "csv"})
    for _ in range(6):
        household(cpts, commune, persons=3, status="waiting")
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.post(url(cpts), {"export": "file", "format": "xlsx"})
    assert response.status_code == 200


@pytest.mark.parametrize("role", [Role.OBSERVER, Role.REFERRER, Role.GP, Role.CPAM_MEDIATOR])
def test_only_coordinators_export_persons(client, cpts, commune, role):
    household(cpts, commune, status="waiting")
    login(client, cpts, role)
    assert client.get(url(cpts)).status_code == 404
    assert client.post(url(cpts), {"export": "file", "format": "csv"}).status_code == 404
    assert not AuditLog.objects.filter(action="export").exists()


def test_a_coordinator_of_another_cpts_gets_nothing(client, cpts, commune):
    household(cpts, commune, status="waiting")
    login(client, CPTSFactory())
    assert client.post(url(cpts), {"export": "file", "format": "csv"}).status_code == 404


def test_unknown_export_or_bad_period_is_refused(client, cpts):
    login(client, cpts)
    assert client.post(url(cpts), {"export": "tout", "format": "csv"}).status_code == 400
    bad = {"export": "periode", "format": "csv", "periode": "custom", "debut": "2026-01-01"}
    assert client.post(url(cpts), bad).status_code == 400
