"""The coordinator's request page: everything shown, audit, verify/close/reopen, edit."""

import datetime
import html

import pytest
from django.urls import reverse

from accesmt.accounts.models import AuditLog
from accesmt.intake.models import (
    DuplicateFlag,
    HouseholdMember,
    Request,
    RequestTransition,
    Status,
)
from tests.accounts.factories import MembershipFactory

from .conftest import make_request

pytestmark = pytest.mark.django_db


def url(name, request, **kwargs):
    return reverse(
        f"intake_staff:{name}",
        kwargs={"cpts_slug": request.cpts.slug, "reference": request.reference, **kwargs},
    )


def text(response) -> str:
    return html.unescape(response.content.decode())


def test_the_page_shows_everything_and_audits_the_read(coordinator_client, cpts, coordinator):
    request = make_request(
        cpts,
        birth_date=datetime.date(1945, 3, 2),
        members=2,
        has_ald=True,
        needs_rights_help=True,
        former_gp_name="Dr Ancien",
        comment="Préfère être appelée le matin",
        geocode_source="commune_centre",
        geocode_message="Adresse introuvable : centre de la commune",
    )
    member = request.members.first()
    page = text(coordinator_client.get(url("request_detail", request)))
    for expected in (
        request.reference,
        member.first_name,
        member.last_name,
        "02/03/1945",
        "06 12 34 56 78",
        request.email,
        "12 rue des Lilas",
        "assurance maladie",
        "Dr Ancien",
        "Préfère être appelée le matin",
        "version 2025-01",
        "centre de la commune",
        "Adresse introuvable",
        "ALD",
        "Personne de ",
        "prioritaire",
    ):
        assert expected in page, expected
    assert AuditLog.objects.filter(
        actor=coordinator, action="read", object_type="intake.request", object_id=str(request.pk)
    ).exists()
    # No personal data in the URL: only the reference.
    assert url("request_detail", request).endswith(f"/demandes/{request.reference}/")


def test_unknown_reference_and_other_roles_get_404(client, cpts):
    request = make_request(cpts)
    gp = MembershipFactory(cpts=cpts, role="gp").user
    client.force_login(gp)
    assert client.get(url("request_detail", request)).status_code == 404
    coordinator = MembershipFactory(cpts=cpts, role="coordinator").user
    client.force_login(coordinator)
    missing = reverse(
        "intake_staff:request_detail", kwargs={"cpts_slug": cpts.slug, "reference": "MT-0000"}
    )
    assert client.get(missing).status_code == 404


def test_verify_close_and_reopen_through_the_life_cycle(coordinator_client, cpts, coordinator):
    request = make_request(cpts)
    status_url = url("request_status", request)
    response = coordinator_client.post(status_url, {"action": "verify"}, follow=True)
    request.refresh_from_db()
    assert request.status == Status.WAITING
    assert "en attente d'un médecin" in text(response)

    refused = coordinator_client.post(
        status_url, {"action": "close", "reason": "", "confirm": "1"}, follow=True
    )
    assert "Choisissez le motif" in text(refused)
    no_duplicate = coordinator_client.post(
        status_url, {"action": "close", "reason": "duplicate", "confirm": "1"}, follow=True
    )
    assert "Choisissez le motif" in text(no_duplicate)  # duplicates are closed by merging

    coordinator_client.post(
        status_url,
        {"action": "close", "reason": "unreachable", "note": "3 appels", "confirm": "1"},
    )
    request.refresh_from_db()
    assert (request.status, request.closed_reason) == (Status.CLOSED, "unreachable")
    coordinator_client.post(status_url, {"action": "reopen", "confirm": "1"})
    request.refresh_from_db()
    assert request.status == Status.TO_VERIFY and request.closed_reason == ""

    lines = list(RequestTransition.objects.filter(request=request).order_by("at", "pk"))
    assert [(t.from_status, t.to_status) for t in lines] == [
        ("new", "waiting"),
        ("waiting", "closed"),
        ("closed", "to_verify"),
    ]
    assert all(t.by == coordinator for t in lines)
    assert lines[1].note == "3 appels"
    assert AuditLog.objects.filter(action="transition", object_id=str(request.pk)).count() == 3
    page = text(coordinator_client.get(url("request_detail", request)))
    assert "personne injoignable" in page and "Camille" in page


def test_reopen_of_an_open_request_and_unknown_action_are_refused(coordinator_client, cpts):
    request = make_request(cpts)
    for data in ({"action": "reopen", "confirm": "1"}, {"action": "explode"}):
        coordinator_client.post(url("request_status", request), data)
        request.refresh_from_db()
        assert request.status == Status.NEW


def test_status_change_needs_post_and_csrf(client, cpts, coordinator):
    from django.test import Client

    request = make_request(cpts)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(coordinator)
    assert strict.post(url("request_status", request), {"action": "verify"}).status_code == 403
    client.force_login(coordinator)
    assert client.get(url("request_status", request)).status_code == 405
    request.refresh_from_db()
    assert request.status == Status.NEW


def _edit_data(request, **overrides):
    members = list(request.members.order_by("position"))
    data = {
        "address": request.address,
        "postcode": "62800",
        "commune_name": "Liévin",
        "phone": "06 12 34 56 78",
        "email": request.email,
        "coverage": request.coverage,
        "reason": request.reason,
        "membres-TOTAL_FORMS": str(len(members) + 1),
        "membres-INITIAL_FORMS": str(len(members)),
        "membres-MIN_NUM_FORMS": "0",
        "membres-MAX_NUM_FORMS": "12",
        f"membres-{len(members)}-home_visits": "never",
    }
    for index, member in enumerate(members):
        data |= {
            f"membres-{index}-first_name": member.first_name,
            f"membres-{index}-last_name": member.last_name,
            f"membres-{index}-birth_date": member.birth_date.isoformat(),
            f"membres-{index}-home_visits": member.home_visits,
        }
    data.update(overrides)
    return data


def test_edit_goes_through_intake_validation_and_recomputes_priority(
    coordinator_client, cpts, territory
):
    request = make_request(cpts, commune=territory["communes"]["Liévin"], members=2)
    edit_url = url("request_edit", request)
    assert "Modifier la demande" in text(coordinator_client.get(edit_url))

    bad = coordinator_client.post(
        edit_url, _edit_data(request, **{"membres-1-birth_date": "2999-01-01", "phone": "12"})
    )
    assert bad.status_code == 400
    page = text(bad)
    assert "La date de naissance ne peut pas être dans le futur." in page
    assert "Ce numéro de téléphone n'est pas valide" in page
    assert 'aria-invalid="true"' in bad.content.decode()

    data = _edit_data(
        request,
        **{
            "membres-1-birth_date": "1940-06-01",
            "membres-2-first_name": "Léon",
            "membres-2-last_name": "Nouveau",
            "membres-2-birth_date": "2010-01-01",
            "email": "",
            "phone": "0321000000",
        },
    )
    response = coordinator_client.post(edit_url, data, follow=True)
    assert "modifiée" in text(response)
    request.refresh_from_db()
    assert request.phone == "+33321000000" and request.email == ""
    assert request.members.count() == 3
    assert request.is_priority
    assert request.priority_reasons.filter(rule_code="senior").exists()

    removed = _edit_data(request, **{"membres-2-DELETE": "on"})
    coordinator_client.post(edit_url, removed)
    assert (
        list(request.members.values_list("last_name", flat=True).order_by("position"))[-1]
        != "Nouveau"
    )
    assert request.members.count() == 2


def test_edit_refuses_a_commune_outside_the_territory(coordinator_client, cpts):
    request = make_request(cpts)
    response = coordinator_client.post(
        url("request_edit", request), _edit_data(request, postcode="62300", commune_name="")
    )
    assert response.status_code == 400
    assert "Lens n'est pas sur le territoire" in text(response)
    request.refresh_from_db()
    assert request.postcode == "62800"


def test_a_closed_request_cannot_be_edited(coordinator_client, cpts):
    request = make_request(cpts, closed=True)
    response = coordinator_client.post(
        url("request_edit", request), _edit_data(request), follow=True
    )
    assert "rouvrez-la" in text(response)


def test_edit_finds_a_new_duplicate(coordinator_client, cpts):
    other = make_request(cpts, last_name="Martin-Durand")
    request = make_request(cpts)
    twin = other.members.get()
    data = _edit_data(
        request,
        **{
            "membres-0-first_name": twin.first_name,
            "membres-0-last_name": "MARTIN DURAND",
            "membres-0-birth_date": twin.birth_date.isoformat(),
        },
    )
    coordinator_client.post(url("request_edit", request), data)
    assert DuplicateFlag.objects.filter(request=request, other_request=other).exists()
    # Editing again does not fail on the existing pair.
    coordinator_client.post(url("request_edit", request), data)
    assert DuplicateFlag.objects.filter(request=request, other_request=other).count() == 1
    assert HouseholdMember.objects.filter(request=request).count() == 1
    assert Request.objects.get(pk=request.pk).status == Status.NEW


def test_edit_finds_a_new_duplicate_even_when_another_pair_was_flagged_the_other_way(
    coordinator_client, cpts
):
    request = make_request(cpts, last_name="Lefebvre", members=2)
    earlier = make_request(cpts, last_name="Lefebvre")  # flagged at creation: earlier → request
    DuplicateFlag.objects.create(request=earlier, other_request=request, reason="name_birth_date")
    third = make_request(cpts, last_name="Nouveau-Jumeau")
    twin = third.members.get()
    data = _edit_data(
        request,
        **{
            "membres-1-first_name": twin.first_name,
            "membres-1-last_name": twin.last_name,
            "membres-1-birth_date": twin.birth_date.isoformat(),
        },
    )
    coordinator_client.post(url("request_edit", request), data)
    assert DuplicateFlag.objects.filter(request=request, other_request=third).exists()
    assert DuplicateFlag.objects.filter(request=earlier, other_request=request).count() == 1
    assert not DuplicateFlag.objects.filter(request=request, other_request=earlier).exists()


def test_an_anonymised_request_cannot_be_reopened(coordinator_client, cpts):
    from django.utils import timezone

    request = make_request(cpts)
    Request.objects.filter(pk=request.pk).update(
        status=Status.CLOSED,
        closed_reason="unreachable",
        closed_at=timezone.now(),
        anonymised_at=timezone.now(),
    )
    page = text(coordinator_client.get(url("request_detail", request)))
    assert 'value="reopen"' not in page
    response = coordinator_client.post(
        url("request_status", request), {"action": "reopen", "confirm": "1"}, follow=True
    )
    assert "Demande anonymisée : elle ne peut pas être rouverte" in text(response)
    request.refresh_from_db()
    assert request.status == Status.CLOSED

    # A closed request that is not anonymised still offers the button.
    other = make_request(cpts)
    Request.objects.filter(pk=other.pk).update(
        status=Status.CLOSED, closed_reason="unreachable", closed_at=timezone.now()
    )
    assert 'value="reopen"' in text(coordinator_client.get(url("request_detail", other)))
