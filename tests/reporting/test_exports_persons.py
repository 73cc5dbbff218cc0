"""Exports of rows about persons: coordinators only, the queue's filters kept, every exported
request audited ("export"), the page says so before the download, no NIR, nothing personal in
the URL, a number of queries that does not grow with the rows. The queue and period exports run
as background operations (the test backend runs them at once): the POST leads to the progress
page, which links to « Télécharger le fichier »."""

import csv
import datetime
import io
import os
import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from accesmt.accounts.models import AuditLog, Role
from accesmt.notifications.models import Operation
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


def download(client, response):
    """Follow an export's POST to its progress page, then its « Télécharger le fichier » link;
    the download's response, its body read (`.body`)."""
    assert response.status_code == 302, response.status_code
    operation = Operation.objects.latest("pk")
    assert response["Location"] == reverse(
        "notifications:operation",
        kwargs={"cpts_slug": operation.cpts.slug, "pk": operation.pk},
    )
    page = client.get(response["Location"]).content.decode()
    assert "Terminée" in page and "Télécharger le fichier" in page
    link = reverse(
        "notifications:operation_download",
        kwargs={"cpts_slug": operation.cpts.slug, "pk": operation.pk},
    )
    assert f'href="{link}"' in page
    file = client.get(link)
    assert file.status_code == 200 and file["Cache-Control"] == "private, no-store"
    file.body = b"".join(file.streaming_content)  # read whole: the test client closes it
    return file


def exported(response) -> list[list[str]]:
    body = response.body if hasattr(response, "body") else response.content
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))


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


def test_queue_export_keeps_filters_audits_each_row_and_has_no_nir(client, cpts, commune, settings):
    user = login(client, cpts)
    first = household(
        cpts, commune, persons=2, status="waiting", is_priority=True, priority_rule_count=1
    )
    second = household(cpts, commune, status="waiting", channel="phone")
    household(cpts, commune, status="new")  # filtered out
    household(cpts, commune, closed=True)  # filtered out
    other = CPTSFactory()
    household(other, TerritoryCommuneFactory(cpts=other).commune, status="waiting")  # elsewhere
    response = download(
        client, client.post(url(cpts), {"export": "file", "format": "csv", "status": "waiting"})
    )
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
    assert NIR not in response.body.decode("utf-8-sig")
    lines = AuditLog.objects.filter(action="export", actor=user)
    assert sorted(
        lines.filter(object_type="intake.request").values_list("object_id", flat=True)
    ) == sorted([str(first.pk), str(second.pk)])
    # the download itself is traced too, on the operation that produced the file
    operation = Operation.objects.get()
    assert lines.filter(object_type="notifications.operation", object_id=str(operation.pk)).count()
    assert set(lines.values_list("object_type", flat=True)) == {
        "intake.request",
        "notifications.operation",
    }
    # the file is kept under a random name, not the CPTS's nor a person's
    [kept] = settings.OPERATION_FILES_DIR.iterdir()
    assert kept.name == operation.params["file"]["token"] and cpts.slug not in kept.name


def test_period_export_as_xlsx(client, cpts, commune):
    user = login(client, cpts)
    inside = household(cpts, commune, when=datetime.datetime(2026, 3, 5, 9, tzinfo=ZONE), persons=3)
    household(cpts, commune, when=datetime.datetime(2026, 4, 1, 0, 30, tzinfo=ZONE))  # after
    response = download(
        client,
        client.post(
            url(cpts),
            {"export": "periode", "format": "xlsx", "periode": "month", "debut": "2026-03-20"},
        ),
    )
    assert 'filename="demandes-' in response["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.body)).active
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
    exports = AuditLog.objects.filter(action="export", actor=user, object_type="intake.request")
    assert exports.count() == 1


def test_a_value_typed_as_a_formula_is_not_run_by_the_spreadsheet(client, cpts, commune):
    login(client, cpts)
    household(cpts, commune, address='=HYPERLINK("http://x")', status="waiting")
    lines = exported(download(client, client.post(url(cpts), {"export": "file", "format": "csv"})))
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
    assert response.status_code == 302
    assert Operation.objects.filter(status="done").count() == 3


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


# --- as a background operation: refusal of a second start, failure, tenants, a day at most -----

DUMMY_TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}


def progress_url(operation):
    kwargs = {"cpts_slug": operation.cpts.slug, "pk": operation.pk}
    return reverse("notifications:operation", kwargs=kwargs)


def download_url(operation):
    kwargs = {"cpts_slug": operation.cpts.slug, "pk": operation.pk}
    return reverse("notifications:operation_download", kwargs=kwargs)


def test_a_second_export_while_one_runs_is_refused_in_french(client, cpts, commune, settings):
    settings.TASKS = DUMMY_TASKS  # enqueued, never run: the first one stays queued
    login(client, cpts)
    first = client.post(url(cpts), {"export": "file", "format": "csv"})
    operation = Operation.objects.get()
    assert first["Location"] == progress_url(operation)
    page = client.get(first["Location"]).content.decode()
    assert 'http-equiv="refresh"' in page and "Télécharger" not in page
    second = client.post(url(cpts), {"export": "periode", "format": "xlsx"}, follow=True)
    assert Operation.objects.count() == 1
    assert second.redirect_chain[0][0] == progress_url(operation)
    assert "Un export des demandes est déjà en cours pour cette CPTS" in second.content.decode()
    # not finished: nothing to download yet
    assert client.get(download_url(operation))["Location"] == progress_url(operation)


def test_a_failed_export_says_why_in_french(client, cpts, commune):
    login(client, cpts)
    bad = {"export": "periode", "format": "csv", "periode": "month", "debut": "2026-03-01"}
    response = client.post(url(cpts), bad)
    operation = Operation.objects.get()
    # the period became unusable before the worker took it (here: edited in the row)
    assert operation.status == "done"
    Operation.objects.filter(pk=operation.pk).update(
        status="queued", params={**operation.params, "period": {"periode": "custom"}}
    )
    from accesmt.notifications.operations import operation_run

    operation_run.call(operation.pk)
    page = client.get(response["Location"]).content.decode()
    assert "Échouée" in page and "Période invalide" in page and "Télécharger" not in page


def test_the_file_is_for_the_coordination_of_its_cpts_and_kept_a_day(
    client, cpts, commune, settings
):
    household(cpts, commune, status="waiting")
    login(client, cpts)
    client.post(url(cpts), {"export": "file", "format": "csv"})
    operation = Operation.objects.get()
    other = CPTSFactory()
    client.force_login(MembershipFactory(cpts=other, role=Role.COORDINATOR).user)
    assert client.get(progress_url(operation)).status_code == 404
    assert client.get(download_url(operation)).status_code == 404
    # under the other CPTS's own space, the operation is not found either
    theirs = {"cpts_slug": other.slug, "pk": operation.pk}
    assert client.get(reverse("notifications:operation_download", kwargs=theirs)).status_code == 404
    for role in (Role.OBSERVER, Role.REFERRER, Role.GP):
        client.force_login(MembershipFactory(cpts=cpts, role=role).user)
        assert client.get(download_url(operation)).status_code == 404
    assert not AuditLog.objects.filter(object_type="notifications.operation").exists()

    # a day later the file is gone: the page says so, the link is no more
    login(client, cpts)
    [kept] = settings.OPERATION_FILES_DIR.iterdir()
    old = time.time() - 24 * 3600 - 1
    os.utime(kept, (old, old))
    response = client.get(download_url(operation), follow=True)
    page = response.content.decode()
    assert "Le fichier n&#x27;est plus disponible" in page
    assert f'href="{download_url(operation)}"' not in page
    assert not kept.exists()
