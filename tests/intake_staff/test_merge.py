"""Merging duplicates: the service (nothing lost) and the request page actions."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from accesmt.accounts.models import AuditLog
from accesmt.intake.merge import merged_into, request_merge
from accesmt.intake.models import (
    ClosedReason,
    DuplicateFlag,
    HomeVisits,
    RequestTransition,
    Status,
)
from tests.intake.factories import HouseholdMemberFactory

from .conftest import make_request

pytestmark = pytest.mark.django_db


def _pair(cpts):
    keep = make_request(cpts, last_name="Lefebvre", days_waiting=3, email="", phone="+33612345678")
    duplicate = make_request(
        cpts,
        last_name="Lefebvre",
        days_waiting=30,
        email="lefebvre@exemple.fr",
        phone="",
        needs_rights_help=True,
        coverage="css",
        comment="Rappeler après 17 h",
    )
    HouseholdMemberFactory(
        request=duplicate,
        position=1,
        is_contact_person=False,
        first_name="Jules",
        last_name="Lefebvre",
        birth_date=datetime.date(2021, 4, 4),
    )
    twin = duplicate.members.get(position=0)
    twin.has_ald = True
    twin.home_visits = HomeVisits.OCCASIONALLY
    twin.save()
    DuplicateFlag.objects.create(request=duplicate, other_request=keep, reason="name_birth_date")
    return keep, duplicate


def test_merge_keeps_everything(cpts, coordinator):
    keep, duplicate = _pair(cpts)
    result = request_merge(keep=keep, duplicate=duplicate, by=coordinator)

    keep.refresh_from_db()
    duplicate.refresh_from_db()
    assert duplicate.status == Status.CLOSED
    assert duplicate.closed_reason == ClosedReason.DUPLICATE
    assert merged_into(duplicate) == keep
    # Contact and situation completed, nothing overwritten.
    assert keep.phone == "+33612345678" and keep.email == "lefebvre@exemple.fr"
    assert keep.needs_rights_help and keep.coverage == "regime_general"
    assert "Rappeler après 17 h" in keep.comment
    # The household has waited since its first request.
    assert keep.waiting_since == duplicate.waiting_since
    # Members: the same person once (completed), the child added.
    names = sorted((m.first_name, m.birth_date.year) for m in keep.members.all())
    assert names == [("Camille", 1980), ("Jules", 2021)]
    adult = keep.members.get(first_name="Camille")
    assert adult.has_ald and adult.home_visits == HomeVisits.OCCASIONALLY
    assert [m.first_name for m in result.members_added] == ["Jules"]
    # Priority recomputed from the merged household (ALD, young child, visits).
    assert {r.rule_code for r in keep.priority_reasons.all()} >= {"ald", "young_child"}
    # Logged: history line with who, flag resolved, audit lines for both.
    line = RequestTransition.objects.get(request=duplicate, to_status=Status.CLOSED)
    assert line.by == coordinator and keep.reference in line.note
    flag = DuplicateFlag.objects.get(request=duplicate, other_request=keep)
    assert flag.resolution == "merged" and flag.resolved_by == coordinator
    for obj in (keep, duplicate):
        assert AuditLog.objects.filter(action="update", object_id=str(obj.pk)).exists()


def test_merge_with_the_flag_the_other_way_round(cpts, coordinator):
    keep, duplicate = _pair(cpts)
    DuplicateFlag.objects.all().delete()
    DuplicateFlag.objects.create(request=keep, other_request=duplicate, reason="nir")
    request_merge(keep=keep, duplicate=duplicate, by=coordinator)
    assert DuplicateFlag.objects.filter(resolved_at__isnull=True).count() == 0
    assert DuplicateFlag.objects.get(request=duplicate).reason == "nir"


def test_merge_refusals(cpts, territory, coordinator):
    keep, duplicate = _pair(cpts)
    with pytest.raises(ValidationError):
        request_merge(keep=keep, duplicate=keep, by=coordinator)
    elsewhere = make_request(territory["lens"])
    with pytest.raises(ValidationError):
        request_merge(keep=keep, duplicate=elsewhere, by=coordinator)
    closed = make_request(cpts, closed=True)
    with pytest.raises(ValidationError):
        request_merge(keep=keep, duplicate=closed, by=coordinator)
    duplicate.refresh_from_db()
    assert duplicate.status == Status.NEW  # nothing half-done


def _detail(request):
    return reverse(
        "intake_staff:request_detail",
        kwargs={"cpts_slug": request.cpts.slug, "reference": request.reference},
    )


def test_merge_from_the_request_page(coordinator_client, cpts):
    keep, duplicate = _pair(cpts)
    page = coordinator_client.get(_detail(keep)).content.decode()
    assert duplicate.reference in page and "Fusionner" in page
    merge_url = reverse(
        "intake_staff:request_merge",
        kwargs={"cpts_slug": cpts.slug, "reference": keep.reference},
    )
    response = coordinator_client.post(
        merge_url, {"other": duplicate.reference, "keep": "this"}, follow=True
    )
    assert response.redirect_chain[-1][0] == _detail(keep)
    duplicate.refresh_from_db()
    assert duplicate.closed_reason == ClosedReason.DUPLICATE
    closed_page = coordinator_client.get(_detail(duplicate)).content.decode()
    assert "Fusionnée dans la demande" in closed_page and keep.reference in closed_page


def test_keep_the_other_one(coordinator_client, cpts):
    keep, duplicate = _pair(cpts)
    merge_url = reverse(
        "intake_staff:request_merge",
        kwargs={"cpts_slug": cpts.slug, "reference": duplicate.reference},
    )
    coordinator_client.post(merge_url, {"other": keep.reference, "keep": "other"})
    keep.refresh_from_db()
    duplicate.refresh_from_db()
    assert keep.status == Status.NEW and duplicate.status == Status.CLOSED


def test_cannot_merge_with_another_cpts_request(coordinator_client, cpts, territory):
    mine = make_request(cpts)
    theirs = make_request(territory["lens"])
    merge_url = reverse(
        "intake_staff:request_merge", kwargs={"cpts_slug": cpts.slug, "reference": mine.reference}
    )
    assert coordinator_client.post(merge_url, {"other": theirs.reference}).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == Status.NEW


def test_other_cpts_duplicate_shows_no_detail_and_can_be_dismissed(
    coordinator_client, cpts, territory
):
    mine = make_request(cpts)
    theirs = make_request(territory["lens"], last_name="Secret-Lens")
    flag = DuplicateFlag.objects.create(
        request=mine, other_request=theirs, reason="nir", same_cpts=False
    )
    page = coordinator_client.get(_detail(mine)).content.decode()
    assert theirs.reference not in page and "Secret-Lens" not in page
    assert "autre CPTS" in page
    dismiss = reverse(
        "intake_staff:duplicate_dismiss",
        kwargs={"cpts_slug": cpts.slug, "reference": mine.reference, "flag_id": flag.pk},
    )
    coordinator_client.post(dismiss)
    flag.refresh_from_db()
    assert flag.resolution == "dismissed" and flag.resolved_at is not None
    # A flag of the other CPTS pointing at my request cannot be dismissed from here.
    reverse_flag = DuplicateFlag.objects.create(
        request=theirs, other_request=mine, reason="nir", same_cpts=False
    )
    dismiss_theirs = reverse(
        "intake_staff:duplicate_dismiss",
        kwargs={"cpts_slug": cpts.slug, "reference": mine.reference, "flag_id": reverse_flag.pk},
    )
    assert coordinator_client.post(dismiss_theirs).status_code == 404
