"""The demo's orientation history (accesmt/demo/orientation.py): requests in every orientation
state, GPs found over the last three months, a demo GP account with requests to answer and
households to take, a history that only holds legal moves in date order, and an outbox where
nothing of the past waits to be delivered."""

import datetime as dt

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from accesmt.accounts.models import User
from accesmt.demo.loader import DEMO_PASSWORD
from accesmt.demo.orientation import DEMO_GP_EMAIL
from accesmt.directory.selectors import practitioner_of_user
from accesmt.intake.lifecycle import can_transition
from accesmt.intake.models import ClosedReason, Request, RequestTransition, Status
from accesmt.notifications.models import OutboxMessage
from accesmt.notifications.models import Status as OutboxStatus
from accesmt.orientation.models import Origin, Placement, Solicitation, SolicitationStatus
from accesmt.orientation.selectors import requests_a_gp_can_take
from accesmt.orientation.services import solicitations_follow_up
from accesmt.territory.models import CPTS


@pytest.mark.django_db
def test_load_demo_builds_an_orientation_history_through_the_services(client):
    # One test on purpose: the demo takes a while to load.
    call_command("load_demo", households=90, history=0)
    now = timezone.now()
    lievin = CPTS.objects.get(slug="cpts-lievin")
    requests = Request.objects.filter(cpts=lievin)
    statuses = set(requests.values_list("status", flat=True))
    assert {Status.WAITING, Status.PROPOSING, Status.AWAITING_CHOICE} <= statuses

    # GPs found over the last three months, recorded by the GP, the person or the coordination.
    placements = list(Placement.objects.filter(cpts=lievin).select_related("request"))
    assert len(placements) >= 5
    assert {p.recorded_by for p in placements} >= {"gp", "patient", "coordinator"}
    for placement in placements:
        request = placement.request
        assert request.status == Status.CLOSED
        # MT found, or the usual GP's follow-up made official (demo/assurance_maladie.py)
        assert request.closed_reason in (ClosedReason.MT_FOUND, ClosedReason.USUAL_GP)
        assert request.closed_at == placement.at  # the request closed when the GP was found
        assert request.waiting_since < placement.at < now
        assert now - placement.at < dt.timedelta(days=110)
    found_with_solicitations = [p for p in placements if p.request.solicitations.exists()]
    assert found_with_solicitations

    # Awaiting the person's choice: GPs who accepted; proposing: GPs who have not answered yet.
    for request in requests.filter(status=Status.AWAITING_CHOICE):
        accepted = request.solicitations.accepted().count()
        assert accepted >= 1
        assert not request.solicitations.pending().exists()
    assert any(
        r.solicitations.accepted().count() >= 2
        for r in requests.filter(status=Status.AWAITING_CHOICE)
    )
    for request in requests.filter(status=Status.PROPOSING):
        assert request.solicitations.pending().exists()
    assert Solicitation.objects.filter(cpts=lievin, status=SolicitationStatus.DECLINED).exists()
    assert Solicitation.objects.filter(cpts=lievin, origin=Origin.GP_PULL).exists()
    for s in Solicitation.objects.filter(cpts=lievin):
        assert s.asked_at < now
        if s.status != SolicitationStatus.PENDING:
            assert s.asked_at <= s.answered_at <= now
        else:
            assert s.request.status == Status.PROPOSING
        if s.status == SolicitationStatus.DECLINED:
            assert s.decline_reason

    # The history: legal moves only, each from the status the previous line left, in date order.
    lines = RequestTransition.objects.filter(request__cpts=lievin).order_by(
        "request_id", "at", "pk"
    )
    previous: dict[int, str] = {}
    for line in lines:
        if line.from_status == "":
            assert line.request_id not in previous
        else:
            assert previous[line.request_id] == line.from_status, line.request_id
            assert can_transition(line.from_status, line.to_status)
        assert line.at <= now
        previous[line.request_id] = line.to_status
    assert previous == dict(requests.values_list("pk", "status"))

    # The demo GP account: linked to a GP of the directory, with requests to answer and
    # households to take, on their page.
    user = User.objects.get(email=DEMO_GP_EMAIL)
    practitioner = practitioner_of_user(user, lievin)
    assert practitioner is not None
    pending = Solicitation.objects.filter(
        practitioner=practitioner, status=SolicitationStatus.PENDING
    )
    assert pending.filter(request__status=Status.PROPOSING).exists()
    assert len(requests_a_gp_can_take(practitioner, lievin)) >= 3
    assert user.check_password(DEMO_PASSWORD)
    client.force_login(user)
    page = client.get(reverse("orientation:gp_households", kwargs={"cpts_slug": lievin.slug}))
    assert page.status_code == 200
    html = page.content.decode()
    for solicitation in pending:
        assert solicitation.request.reference in html

    # The past was delivered at the time; nothing of it waits in the outbox.
    messages = OutboxMessage.objects.filter(cpts=lievin, topic__startswith="orientation.")
    assert messages.filter(topic="orientation.ask").exists()
    assert messages.filter(topic="orientation.offer").exists()
    assert not messages.filter(
        status=OutboxStatus.PENDING, created_at__lt=now - dt.timedelta(days=1)
    ).exists()
    for message in messages.filter(channel="email"):
        assert message.recipient.endswith(".example.org") or message.recipient.endswith(
            "@example.org"
        )

    # One GP is past their answer delay: the worker reminds them (once).
    overdue = Solicitation.objects.filter(
        cpts=lievin, status=SolicitationStatus.PENDING, answer_due_at__lt=now
    )
    assert overdue.filter(reminded_at__isnull=True).exists()
    solicitations_follow_up(now=now)
    assert OutboxMessage.objects.filter(topic="orientation.reminder").exists()

    # A second run changes nothing.
    counts = (Solicitation.objects.count(), Placement.objects.count())
    call_command("load_demo", households=90, history=0)
    assert (Solicitation.objects.count(), Placement.objects.count()) == counts
