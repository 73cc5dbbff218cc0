"""Sending an allocation run: each proposed GP is asked through the orientation flow, once."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accesmt.intake.lifecycle import request_transition
from accesmt.intake.models import Request, Status
from accesmt.matching.models import AllocationLine, AllocationStatus, LineOutcome
from accesmt.matching.services import (
    AllocationRefused,
    allocation_run_create,
    allocation_run_discard,
)
from accesmt.notifications.models import OutboxMessage
from accesmt.orientation.allocation_send import allocation_run_send
from accesmt.orientation.models import Solicitation
from tests.accounts.factories import MembershipFactory
from tests.worlds import NOW, gp_at, two_cpts, waiting_request

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(settings):
    settings.PUBLIC_BASE_URL = "https://accesmt.example"
    w = two_cpts()
    w.gps = []
    for km in (1, 2):
        site = gp_at(w.cpts, w.here, north=km, capacity=1)
        site.practitioner.email = f"dr{km}@exemple.fr"
        site.practitioner.save()
        w.gps.append(site.practitioner)
    w.priority = waiting_request(w.cpts, w.here, days=2, priority=True)
    w.old = waiting_request(w.cpts, w.here, days=90)
    w.recent = waiting_request(w.cpts, w.here, days=1)  # no place left for it
    w.coordinator = MembershipFactory(cpts=w.cpts, role="coordinator").user
    w.run = allocation_run_create(cpts=w.cpts, by=w.coordinator, now=NOW)
    return w


def line_of(w, request):
    return AllocationLine.objects.get(run=w.run, request=request)


def test_sending_asks_each_proposed_gp_once_and_moves_the_requests_on(world):
    w = world
    report = allocation_run_send(run=w.run, by=w.coordinator)

    assert sorted(report.sent) == sorted([w.priority.reference, w.old.reference])
    assert report.skipped == [] and report.failed == []
    for request in (w.priority, w.old):
        request.refresh_from_db()
        line = line_of(w, request)
        assert request.status == Status.PROPOSING
        assert line.outcome == LineOutcome.SENT and line.outcome_at is not None
        [asked] = Solicitation.objects.filter(request=request)
        assert (asked.practitioner_id, asked.origin) == (line.practitioner_id, "allocation")
        assert asked.asked_by == w.coordinator
    w.recent.refresh_from_db()
    assert w.recent.status == Status.WAITING  # unassigned lines are never sent
    assert (
        OutboxMessage.objects.filter(recipient__in=["dr1@exemple.fr", "dr2@exemple.fr"]).count()
        == 2
    )
    w.run.refresh_from_db()
    assert w.run.status == AllocationStatus.SENT and w.run.sent_by == w.coordinator

    again = allocation_run_send(run=w.run, by=w.coordinator)
    assert (again.sent, again.already_sent) == ([], 2)
    assert Solicitation.objects.count() == 2 and OutboxMessage.objects.count() == 2


def test_a_request_no_longer_waiting_is_skipped_and_reported(world):
    w = world
    request_transition(request=w.old, to=Status.TO_VERIFY, by=w.coordinator)

    report = allocation_run_send(run=w.run, by=w.coordinator)

    assert report.sent == [w.priority.reference] and report.skipped == [w.old.reference]
    assert line_of(w, w.old).outcome == LineOutcome.SKIPPED
    assert not Solicitation.objects.filter(request=w.old).exists()
    # back in the queue later: the skipped line stays handled, never sent from this run
    request_transition(request=w.old, to=Status.WAITING, by=w.coordinator)
    assert allocation_run_send(run=w.run, by=w.coordinator).sent == []


def test_a_gp_already_asked_about_the_request_is_reported_not_sent(world):
    from accesmt.orientation.models import AnswerChannel
    from accesmt.orientation.services import (
        orientation_restart,
        solicitation_answer,
        solicitations_send,
    )

    w = world
    line = line_of(w, w.old)
    # Asked earlier, declined, back in the queue: the run proposes the same GP again.
    [asked] = solicitations_send(request=w.old, practitioner_ids=[line.practitioner_id])
    solicitation_answer(
        solicitation=asked, accept=False, channel=AnswerChannel.PHONE, decline_reason="full"
    )
    w.old.refresh_from_db()
    assert w.old.status == Status.PROPOSING  # the next GP was asked automatically
    orientation_restart(request=w.old, by=w.coordinator)

    report = allocation_run_send(run=w.run, by=w.coordinator, line_ids=[line.pk])

    assert report.failed == [w.old.reference] and report.sent == []
    assert line_of(w, w.old).outcome == LineOutcome.FAILED
    w.old.refresh_from_db()
    assert w.old.status == Status.WAITING


def test_only_the_selected_lines_are_sent(world):
    w = world
    first = line_of(w, w.old)
    report = allocation_run_send(run=w.run, by=w.coordinator, line_ids=[first.pk])
    assert report.sent == [w.old.reference]
    assert line_of(w, w.priority).outcome == ""
    assert allocation_run_send(run=w.run, by=w.coordinator).sent == [w.priority.reference]


def test_a_discarded_run_cannot_be_sent(world):
    w = world
    allocation_run_discard(run=w.run, by=w.coordinator)
    with pytest.raises(AllocationRefused):
        allocation_run_send(run=w.run, by=w.coordinator)
    assert not Solicitation.objects.exists()


def send_url(cpts, run):
    return reverse("orientation:allocation_run_send", kwargs={"cpts_slug": cpts.slug, "pk": run.pk})


def test_the_coordinator_sends_all_or_the_checked_lines_from_the_page(client, world):
    w = world
    client.force_login(w.coordinator)
    response = client.post(send_url(w.cpts, w.run), {"scope": "selected"}, follow=True)
    assert "Cochez au moins une ligne" in response.content.decode()
    assert not Solicitation.objects.exists()

    line = line_of(w, w.priority)
    response = client.post(
        send_url(w.cpts, w.run), {"scope": "selected", "line": [str(line.pk)]}, follow=True
    )
    assert "1 demande envoyée" in response.content.decode()
    assert list(Solicitation.objects.values_list("request_id", flat=True)) == [w.priority.pk]

    response = client.post(send_url(w.cpts, w.run), {"scope": "all"}, follow=True)
    assert "1 demande envoyée" in response.content.decode()
    assert Solicitation.objects.count() == 2


def test_no_one_else_can_send(client, world):
    w = world
    theirs = allocation_run_create(cpts=w.other, by=None, now=NOW)
    client.force_login(w.coordinator)
    assert client.post(send_url(w.cpts, theirs), {"scope": "all"}).status_code == 404
    for role in ("observer", "gp", "referrer"):
        client.force_login(MembershipFactory(cpts=w.cpts, role=role).user)
        assert client.post(send_url(w.cpts, w.run), {"scope": "all"}).status_code == 404
    assert not Solicitation.objects.exists()


# --- in batches (issue 15: tens of thousands of lines) ------------------------------------------


def a_bigger_world(households: int):
    """`households` waiting households, each with room at a GP of its own (with an e-mail), and
    the run that proposes them all."""
    w = two_cpts()
    for i in range(households):
        site = gp_at(w.cpts, w.here, north=3 * i, capacity=4)
        site.practitioner.email = f"dr{i}@exemple.fr"
        site.practitioner.save()
        waiting_request(w.cpts, w.here, north=3 * i, days=10 + i)
    w.coordinator = MembershipFactory(cpts=w.cpts, role="coordinator").user
    w.run = allocation_run_create(cpts=w.cpts, by=w.coordinator, now=NOW)
    assert w.run.assigned == households
    return w


def test_the_queries_of_a_send_do_not_grow_with_its_lines(settings):
    settings.PUBLIC_BASE_URL = "https://accesmt.example"
    w = a_bigger_world(6)
    line_ids = list(w.run.lines.assigned().order_by("pk").values_list("pk", flat=True))
    counts = []
    for chosen in (line_ids[:2], line_ids[2:]):
        with CaptureQueriesContext(connection) as queries:
            report = allocation_run_send(run=w.run, by=w.coordinator, line_ids=chosen)
        assert len(report.sent) == len(chosen)
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
    assert OutboxMessage.objects.filter(topic="orientation.ask").count() == 6


def test_batches_report_progress_and_a_failed_batch_leaves_its_lines_to_send(monkeypatch, settings):
    from accesmt.orientation import allocation_send
    from accesmt.orientation.services import solicitations

    settings.PUBLIC_BASE_URL = "https://accesmt.example"
    w = a_bigger_world(5)
    monkeypatch.setattr(allocation_send, "BATCH_SIZE", 2)
    calls = []
    real = solicitations.outbox_enqueue_many

    def third_batch_fails(messages, **kwargs):
        if len(calls) == 3:  # progress was told 0, 0 and 2 before this (third) batch
            raise RuntimeError("panne au milieu de l'envoi")
        return real(messages, **kwargs)

    monkeypatch.setattr(solicitations, "outbox_enqueue_many", third_batch_fails)
    with pytest.raises(RuntimeError):
        allocation_run_send(
            run=w.run, by=w.coordinator, progress=lambda **kw: calls.append(kw.get("done"))
        )
    # the first two batches went out with their messages; the third wrote nothing at all
    sent = AllocationLine.objects.filter(run=w.run, outcome=LineOutcome.SENT)
    assert sent.count() == 2 and Solicitation.objects.count() == 2
    assert OutboxMessage.objects.count() == 2
    assert set(OutboxMessage.objects.values_list("related_id", flat=True)) == {
        str(pk) for pk in Solicitation.objects.values_list("pk", flat=True)
    }
    assert AllocationLine.objects.filter(run=w.run, outcome="").count() == 3
    assert Request.objects.filter(status=Status.PROPOSING).count() == 2

    monkeypatch.setattr(solicitations, "outbox_enqueue_many", real)
    calls.clear()
    report = allocation_run_send(
        run=w.run, by=w.coordinator, progress=lambda **kw: calls.append(kw.get("done"))
    )
    assert (len(report.sent), report.already_sent) == (3, 2)
    assert calls == [0, 0, 2, 4]
    assert Solicitation.objects.count() == OutboxMessage.objects.count() == 5
    assert Request.objects.filter(status=Status.PROPOSING).count() == 5
