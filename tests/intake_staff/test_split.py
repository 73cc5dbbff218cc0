"""Splitting a household into two requests (the coordinator's choice, never automatic)."""

import datetime

import pytest
from django.urls import reverse

from accesmt.accounts.models import AuditLog
from accesmt.intake.models import Request, Status

from .conftest import make_request

pytestmark = pytest.mark.django_db


def split_url(request):
    return reverse(
        "intake_staff:request_split",
        kwargs={"cpts_slug": request.cpts.slug, "reference": request.reference},
    )


def test_split_moves_the_checked_members_and_keeps_the_seniority(coordinator_client, cpts):
    request = make_request(
        cpts, members=3, days_waiting=40, has_ald=True, status=Status.WAITING, channel="phone"
    )
    first, second, third = request.members.order_by("position")
    response = coordinator_client.post(split_url(request), {"member": [second.pk, third.pk]})
    new = Request.objects.exclude(pk=request.pk).get()
    assert response.url.endswith(f"/{new.reference}/")
    assert sorted(new.members.values_list("pk", flat=True)) == [second.pk, third.pk]
    assert list(request.members.values_list("pk", flat=True)) == [first.pk]
    assert new.waiting_since == request.waiting_since
    assert (new.status, new.address, new.email, new.channel) == (
        Status.WAITING,
        request.address,
        request.email,
        "phone",
    )
    assert new.reference != request.reference
    assert new.members.filter(is_contact_person=True).count() == 1
    # Priority follows the people: the ALD member stayed in the first request.
    request.refresh_from_db()
    assert request.is_priority and not new.is_priority
    assert "Séparée de la demande" in new.transitions.get().note
    assert AuditLog.objects.filter(action="update", object_id=str(new.pk)).exists()


def test_split_refuses_to_empty_a_request_or_a_household_being_oriented(coordinator_client, cpts):
    request = make_request(cpts, members=2, status=Status.WAITING)
    ids = list(request.members.values_list("pk", flat=True))
    response = coordinator_client.post(split_url(request), {"member": ids}, follow=True)
    assert "Au moins une personne doit rester" in response.content.decode()
    coordinator_client.post(split_url(request), {"member": []})
    coordinator_client.post(split_url(request), {"member": ["x"]})
    assert Request.objects.count() == 1
    other = make_request(cpts, members=1)
    coordinator_client.post(split_url(request), {"member": [other.members.get().pk]})
    assert Request.objects.count() == 2  # a member of another request is not taken
    Request.objects.filter(pk=request.pk).update(status=Status.PROPOSING)
    coordinator_client.post(split_url(request), {"member": ids[:1]})
    assert Request.objects.count() == 2
    assert request.members.count() == 2


def test_the_request_page_offers_the_split_only_for_several_people(coordinator_client, cpts):
    single = make_request(cpts, members=1, status=Status.WAITING)
    family = make_request(
        cpts, members=2, status=Status.WAITING, birth_date=datetime.date(1990, 1, 1)
    )

    def page(r):
        return coordinator_client.get(
            reverse(
                "intake_staff:request_detail",
                kwargs={"cpts_slug": cpts.slug, "reference": r.reference},
            )
        ).content.decode()

    assert "Séparer le foyer" not in page(single)
    assert "Séparer le foyer" in page(family)


def test_the_new_request_gets_its_acknowledgment_with_its_own_follow_up_link(
    coordinator_client, cpts, settings
):
    from accesmt.notifications.models import OutboxMessage

    settings.PUBLIC_BASE_URL = "https://accesmt.example.org"
    request = make_request(cpts, members=2, status=Status.WAITING)
    second = request.members.order_by("position")[1]
    coordinator_client.post(split_url(request), {"member": [second.pk]})
    new = Request.objects.exclude(pk=request.pk).get()
    acks = OutboxMessage.objects.filter(topic="intake.acknowledgment", related_id=str(new.pk))
    assert {m.channel for m in acks} == {"email", "sms"}
    for message in acks:
        assert new.reference in message.body
        assert "https://accesmt.example.org/suivi/" in message.body
        assert request.reference not in message.body
