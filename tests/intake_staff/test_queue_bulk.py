"""Actions on the requests checked in the queue: « Marquer vérifiées » (the request page's
verify move for each request that may make it, all or nothing, history and audit lines) and
« Exporter les cochées » (reporting's person export: traced page first, one audit line per row,
never the NIR). A reference of another CPTS is never acted on."""

import csv
import io

import pytest
from django.urls import reverse

from accesmt.accounts.models import AuditLog
from accesmt.intake.models import RequestTransition, Status
from accesmt.intake.queue import MAX_SELECTION

from .conftest import make_request
from .test_queue import queue_url

pytestmark = pytest.mark.django_db
NIR = "180056249812345"


def verify_url(cpts):
    return reverse("intake_staff:queue_verify", kwargs={"cpts_slug": cpts.slug})


def export_url(cpts):
    return reverse("reporting:person_export", kwargs={"cpts_slug": cpts.slug})


@pytest.fixture
def mixed(cpts):
    return {
        "new": [make_request(cpts) for _ in range(2)],
        "to_verify": [make_request(cpts, status=Status.TO_VERIFY)],
        "waiting": [make_request(cpts, status=Status.WAITING)],
        "closed": [make_request(cpts, closed=True)],
    }


def _refs(*groups):
    return [r.reference for group in groups for r in group]


def test_mark_verified_moves_those_allowed_and_counts_the_others(
    coordinator_client, coordinator, cpts, mixed
):
    checked = _refs(*mixed.values())
    response = coordinator_client.post(
        verify_url(cpts),
        {"reference": checked, "retour": "status=open&tri=commune&recherche=1&page=1&evil=1"},
        follow=True,
    )
    url, _status = response.redirect_chain[-1]
    assert url == queue_url(cpts, status="open", tri="commune", recherche=1, page=1)
    page = response.content.decode()
    assert "3 demandes marquées vérifiées, 2 ignorées (déjà vérifiées ou clôturées)." in page
    moved = mixed["new"] + mixed["to_verify"]
    for request in moved:
        request.refresh_from_db()
        assert request.status == Status.WAITING
        line = RequestTransition.objects.filter(request=request).latest("pk")
        assert (line.to_status, line.by) == (Status.WAITING, coordinator)
    for request in mixed["waiting"] + mixed["closed"]:
        before = request.status
        request.refresh_from_db()
        assert request.status == before
        assert not RequestTransition.objects.filter(request=request, by=coordinator).exists()
    transitions = AuditLog.objects.filter(action="transition", actor=coordinator)
    assert sorted(int(line.object_id) for line in transitions) == sorted(r.pk for r in moved)


def test_one_request_is_said_in_the_singular(coordinator_client, cpts, mixed):
    response = coordinator_client.post(
        verify_url(cpts), {"reference": _refs(mixed["new"][:1], mixed["waiting"])}, follow=True
    )
    assert "1 demande marquée vérifiée, 1 ignorée (déjà vérifiée ou clôturée)." in (
        response.content.decode()
    )


def test_nothing_checked_is_said(coordinator_client, cpts, mixed):
    response = coordinator_client.post(
        verify_url(cpts), {"retour": "status=bogus&tri=password&page=x"}, follow=True
    )
    assert response.redirect_chain[-1][0] == queue_url(cpts, status="open")
    assert "Cochez au moins une demande." in response.content.decode()
    assert RequestTransition.objects.filter(to_status=Status.WAITING, by__isnull=False).count() == 0


@pytest.mark.parametrize("bad", ["foreign", "unknown", "garbage", "too_many"])
def test_a_foreign_or_unknown_reference_refuses_the_whole_form(
    coordinator_client, coordinator, cpts, territory, mixed, bad
):
    foreign = make_request(territory["lens"])
    extra = {
        "foreign": [foreign.reference],
        "unknown": ["MT-2222-2222"],
        "garbage": ["' OR 1=1 --"],
        "too_many": [f"MT-{index:04d}-2222" for index in range(MAX_SELECTION + 1)],
    }[bad]
    response = coordinator_client.post(verify_url(cpts), {"reference": _refs(mixed["new"]) + extra})
    assert response.status_code == 400
    foreign.refresh_from_db()
    assert foreign.status == Status.NEW
    for request in mixed["new"]:
        request.refresh_from_db()
        assert request.status == Status.NEW
    assert not AuditLog.objects.filter(actor=coordinator, action="transition").exists()

    export = coordinator_client.post(
        export_url(cpts),
        {"reference": _refs(mixed["new"]) + extra, "export": "cochees", "format": "csv"},
    )
    assert export.status_code == 400
    confirm = coordinator_client.post(export_url(cpts), {"reference": extra})
    assert confirm.status_code == 400
    assert not AuditLog.objects.filter(actor=coordinator, action="export").exists()


def test_the_queue_offers_a_labelled_box_per_row_and_the_two_actions(
    coordinator_client, cpts, mixed
):
    body = coordinator_client.get(queue_url(cpts)).content.decode()
    reference = mixed["new"][0].reference
    assert body.count('name="reference"') == len(_refs(*mixed.values())) - 1  # closed: hidden
    assert (
        f'<label for="check-{reference}" class="visually-hidden">Cocher la demande {reference}'
        in body
    )
    assert f'formaction="{export_url(cpts)}"' in body
    assert "Marquer vérifiées" in body and "Exporter les cochées (CSV)" in body


def test_export_checked_rows_shows_the_traced_page_then_audits_each_row(
    coordinator_client, coordinator, cpts, mixed
):
    member = mixed["new"][0].members.get()
    member.nir = NIR
    member.save()
    checked = _refs(mixed["new"], mixed["closed"])
    page = coordinator_client.post(export_url(cpts), {"reference": checked})
    assert page.status_code == 200
    body = page.content.decode()
    assert "il est tracé" in body and "3 demandes cochées" in body
    assert all(f'name="reference" value="{ref}"' in body for ref in checked)
    assert not AuditLog.objects.filter(action="export").exists()

    response = coordinator_client.post(
        export_url(cpts), {"reference": checked, "export": "cochees", "format": "csv"}
    )
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
    content = response.content.decode("utf-8-sig")
    assert NIR not in content
    rows = list(csv.reader(io.StringIO(content), delimiter=";"))
    assert sorted(row[0] for row in rows[1:]) == sorted(checked)
    exported = AuditLog.objects.filter(action="export", actor=coordinator)
    assert sorted(int(line.object_id) for line in exported) == sorted(
        r.pk for r in mixed["new"] + mixed["closed"]
    )


def test_export_with_nothing_checked_goes_back_to_the_queue(coordinator_client, cpts, mixed):
    response = coordinator_client.post(export_url(cpts), {}, follow=True)
    assert response.redirect_chain[-1][0] == queue_url(cpts)
    assert "Cochez au moins une demande." in response.content.decode()


@pytest.mark.parametrize("role", ["referrer", "cpam_mediator", "observer"])
def test_only_coordinators_act_on_checked_requests(client, cpts, mixed, role):
    from tests.accounts.factories import MembershipFactory

    client.force_login(MembershipFactory(cpts=cpts, role=role).user)
    checked = _refs(mixed["new"])
    assert client.post(verify_url(cpts), {"reference": checked}).status_code == 404
    assert client.post(export_url(cpts), {"reference": checked}).status_code == 404
    for request in mixed["new"]:
        request.refresh_from_db()
        assert request.status == Status.NEW
