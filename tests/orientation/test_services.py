"""The orientation flow, service by service: ask, answer, move on, offer, choose, close."""

import datetime
import html

import pytest
from django.utils import timezone

from accesmt.intake.models import Status
from accesmt.matching.selectors import candidate_index
from accesmt.notifications.models import OutboxMessage
from accesmt.orientation.models import (
    AnswerChannel,
    Origin,
    Placement,
    RecordedBy,
    SolicitationStatus,
)
from accesmt.orientation.selectors import gp_month_counts, request_candidates
from accesmt.orientation.services import (
    OrientationError,
    orientation_restart,
    placement_record,
    solicitation_answer,
    solicitation_from_token,
    solicitations_follow_up,
    solicitations_send,
)
from tests.directory.factories import PracticeSiteFactory
from tests.intake.factories import RequestFactory
from tests.messages import token_in
from tests.orientation.factories import OrientationSettingsFactory


def _status(o):
    o.request.refresh_from_db()
    return o.request.status


def _accept(s):
    return solicitation_answer(solicitation=s, accept=True, channel=AnswerChannel.LINK)


def _decline(s, reason="full"):
    return solicitation_answer(
        solicitation=s, accept=False, channel=AnswerChannel.LINK, decline_reason=reason
    )


def test_candidates_are_ranked_by_distance_and_skip_gps_already_asked(o):
    rows, _ = request_candidates(o.request)
    assert [r.practitioner for r in rows] == o.gps
    o.ask(o.gps[0])
    rows, _ = request_candidates(o.request)
    assert [r.practitioner for r in rows] == o.gps[1:]


def test_asking_moves_to_proposing_and_emails_each_gp_a_link_without_name(o):
    created = o.ask(*o.gps[:3])
    assert _status(o) == Status.PROPOSING
    assert [s.status for s in created] == [SolicitationStatus.PENDING] * 3
    assert created[0].distance_km == pytest.approx(1.0, abs=0.05)
    mails = OutboxMessage.objects.filter(topic="orientation.ask").order_by("recipient")
    assert [m.recipient for m in mails] == ["dr1@exemple.fr", "dr2@exemple.fr", "dr3@exemple.fr"]
    body = mails[0].body
    assert "Secret-Dupont" not in body and "Jeanne" not in body and "ALD" not in body
    token = token_in(body, "/orientation/", base="https://accesmt.example")
    assert solicitation_from_token(token).practitioner.email == mails[0].recipient
    # The transition is in the history, by the coordinator.
    line = o.request.transitions.order_by("-pk").first()
    assert (line.to_status, line.by) == (Status.PROPOSING, o.coordinator)


def test_a_gp_is_asked_once_per_request(o):
    o.ask(o.gps[0])
    assert o.ask(o.gps[0], o.gps[1])[0].practitioner == o.gps[1]
    assert o.request.solicitations.count() == 2


def test_asking_a_gp_of_another_territory_or_about_a_closed_request_is_refused(o):
    outsider = PracticeSiteFactory(commune=o.world.there).practitioner
    with pytest.raises(OrientationError):
        o.ask(outsider)
    assert not o.request.solicitations.exists()
    assert _status(o) == Status.WAITING
    fresh = RequestFactory(cpts=o.cpts, commune=o.world.here)  # "new": not verified yet
    with pytest.raises(OrientationError, match="nouvelle"):
        solicitations_send(request=fresh, practitioner_ids=[o.gps[0].pk])


def test_three_acceptances_offer_the_gps_to_the_person(o):
    created = o.ask(*o.gps[:4])
    for s in created[:3]:
        _accept(s)
    assert _status(o) == Status.AWAITING_CHOICE
    created[3].refresh_from_db()
    assert created[3].status == SolicitationStatus.CANCELLED
    [mail] = OutboxMessage.objects.filter(topic="orientation.offer", channel="email")
    assert mail.recipient == "foyer@exemple.fr"
    for gp in o.gps[:3]:
        assert gp.last_name in mail.body
    assert "03 21 44 55 01" in mail.body and o.request.reference in mail.body
    assert "1 rue du Marché" in mail.body
    [sms] = OutboxMessage.objects.filter(topic="orientation.offer", channel="sms")
    assert "MEDECIN" not in sms.body and "/suivi/" in sms.body


def test_a_refusal_asks_the_next_candidate_automatically(o):
    [first] = o.ask(o.gps[0])
    _decline(first, "profile")
    nxt = o.request.solicitations.exclude(pk=first.pk).get()
    assert (nxt.practitioner, nxt.origin, nxt.status) == (
        o.gps[1],
        Origin.NEXT_CANDIDATE,
        SolicitationStatus.PENDING,
    )
    assert _status(o) == Status.PROPOSING


def test_when_nobody_is_left_the_request_goes_back_to_the_queue(o):
    OrientationSettingsFactory(cpts=o.cpts, accepted_target=3)
    for gp in o.gps:
        if not o.request.solicitations.filter(practitioner=gp).exists():
            o.ask(gp)
        _decline(o.request.solicitations.get(practitioner=gp))
    assert _status(o) == Status.WAITING
    assert o.request.solicitations.filter(status=SolicitationStatus.DECLINED).count() == 5


def test_one_acceptance_and_nobody_left_offers_that_one(o):
    OrientationSettingsFactory(cpts=o.cpts, accepted_target=3)
    created = o.ask(*o.gps)
    _accept(created[0])
    for s in created[1:]:
        _decline(s)
    assert _status(o) == Status.AWAITING_CHOICE


def test_declining_needs_a_reason_and_an_answer_is_final(o):
    [s] = o.ask(o.gps[0])
    with pytest.raises(OrientationError):
        solicitation_answer(solicitation=s, accept=False, channel=AnswerChannel.LINK)
    _accept(s)
    with pytest.raises(OrientationError, match="déjà"):
        _decline(s)
    s.refresh_from_db()
    assert s.status == SolicitationStatus.ACCEPTED


def test_no_answer_gets_one_reminder_then_the_next_gp(o):
    [s] = o.ask(o.gps[0])
    later = timezone.now() + datetime.timedelta(hours=73)
    assert solicitations_follow_up(now=later) == 1
    assert solicitations_follow_up(now=later) == 0  # idempotent
    s.refresh_from_db()
    assert s.reminded_at == later and s.status == SolicitationStatus.PENDING
    assert OutboxMessage.objects.filter(topic="orientation.reminder").count() == 1
    much_later = later + datetime.timedelta(hours=73)
    solicitations_follow_up(now=much_later)
    s.refresh_from_db()
    assert s.status == SolicitationStatus.EXPIRED
    nxt = o.request.solicitations.get(status=SolicitationStatus.PENDING)
    assert nxt.practitioner == o.gps[1]
    assert OutboxMessage.objects.filter(topic="orientation.reminder").count() == 1


def test_the_person_chooses_closes_as_mt_found_counts_capacity_and_tells_the_referrer(o):
    created = o.ask(*o.gps[:3])
    for s in created:
        _accept(s)
    placement = placement_record(
        request=o.request, practitioner=o.gps[1], recorded_by=RecordedBy.PATIENT
    )
    o.request.refresh_from_db()
    assert (o.request.status, o.request.closed_reason) == (Status.CLOSED, "mt_found")
    assert placement.members == 2
    assert o.request.transitions.order_by("-pk").first().by_patient
    taken, asked = gp_month_counts([o.cpts.pk])
    assert taken == {o.gps[1].pk: 2}  # the household's two persons
    assert asked == {gp.pk: 1 for gp in o.gps[:3]}
    index = candidate_index(o.cpts, taken_this_month=taken, solicitations_this_month=asked)
    remaining = dict(
        zip(index.practitioner_id.tolist(), index.remaining_capacity.tolist(), strict=True)
    )
    assert remaining[o.gps[1].pk] == 0 and remaining[o.gps[0].pk] == 2
    [mail] = OutboxMessage.objects.filter(topic="orientation.referrer_found")
    assert mail.recipient == o.referrer.email
    assert o.request.reference in mail.body and "Secret-Dupont" not in mail.body


def test_the_person_cannot_name_a_gp_who_did_not_accept(o):
    created = o.ask(*o.gps[:3])
    _accept(created[0])
    with pytest.raises(OrientationError):
        placement_record(request=o.request, practitioner=o.gps[2], recorded_by=RecordedBy.PATIENT)
    assert not Placement.objects.exists()


def test_the_coordinator_may_record_a_gp_found_outside_the_platform(o):
    placement_record(
        request=o.request,
        practitioner=o.gps[4],
        recorded_by=RecordedBy.COORDINATOR,
        by=o.coordinator,
    )
    assert _status(o) == Status.CLOSED
    with pytest.raises(OrientationError, match="déjà clôturée"):
        placement_record(
            request=o.request, practitioner=o.gps[4], recorded_by=RecordedBy.COORDINATOR
        )


def test_restart_writes_to_a_person_without_e_mail_nor_mobile(o):
    o.request.email, o.request.phone = "", ""
    o.request.save()
    _accept(o.ask(o.gps[0])[0])
    orientation_restart(request=o.request, by=o.coordinator, note="injoignable")
    [letter] = OutboxMessage.objects.filter(topic="orientation.restarted")
    assert (letter.channel, letter.status) == ("letter", "pending")
    assert "/suivi/" not in letter.body and o.request.reference in letter.body


def test_restart_ends_every_open_solicitation_and_tells_gps_and_person(o):
    created = o.ask(*o.gps[:2])
    _accept(created[0])
    orientation_restart(request=o.request, by=o.coordinator, note="injoignable")
    assert _status(o) == Status.WAITING
    statuses = sorted(o.request.solicitations.values_list("status", flat=True))
    assert statuses == ["cancelled", "cancelled"]  # the next round counts only its own
    [released] = OutboxMessage.objects.filter(topic="orientation.gp_released")
    assert released.recipient == "dr1@exemple.fr" and o.request.reference in released.body
    told = OutboxMessage.objects.filter(topic="orientation.restarted")
    assert sorted(told.values_list("channel", flat=True)) == ["email", "sms"]
    assert all("Secret-Dupont" not in m.body and "/suivi/" in m.body for m in told)
    # A second round: one acceptance is not mistaken for two.
    [again] = o.ask(o.gps[2])
    _accept(again)
    assert _status(o) == Status.AWAITING_CHOICE  # nobody else pending: offered at once
    offer = OutboxMessage.objects.filter(topic="orientation.offer", channel="email").last()
    assert o.gps[2].last_name in offer.body and o.gps[0].last_name not in offer.body


def test_closing_by_hand_cancels_the_pending_solicitations_at_the_next_run(o):
    from accesmt.intake.lifecycle import request_transition

    [s] = o.ask(o.gps[0])
    request_transition(request=o.request, to=Status.CLOSED, reason="moved_away", by=o.coordinator)
    assert solicitations_follow_up() == 1
    s.refresh_from_db()
    assert s.status == SolicitationStatus.CANCELLED
    assert not OutboxMessage.objects.filter(topic="orientation.reminder").exists()


def test_no_sms_to_a_landline(o):
    o.request.phone = "+33321000000"
    o.request.save()
    for s in o.ask(*o.gps[:3]):
        _accept(s)
    assert not OutboxMessage.objects.filter(topic="orientation.offer", channel="sms").exists()
    assert OutboxMessage.objects.filter(topic="orientation.offer", channel="email").exists()


def test_observer_sees_the_indicators_on_the_cpts_home(client, o):
    from django.urls import reverse

    from tests.accounts.factories import MembershipFactory

    observer = MembershipFactory(cpts=o.cpts, role="observer").user
    client.force_login(observer)
    page = client.get(reverse("reporting:cpts_home", kwargs={"cpts_slug": o.cpts.slug}))
    text = html.unescape(page.content.decode())
    assert "Foyers en attente d'un médecin" in text
    assert "< 5 (< 5 personnes), dont 0 prioritaire" in " ".join(text.split())
    assert o.request.reference not in text


def test_an_acceptance_reserves_a_place_until_the_person_chooses(o):
    created = o.ask(*o.gps[:3])
    _accept(created[0])
    taken, _ = gp_month_counts([o.cpts.pk])
    assert taken == {o.gps[0].pk: 2}  # both persons reserved while the request is still open
    index = candidate_index(o.cpts, taken_this_month=taken)
    remaining = dict(
        zip(index.practitioner_id.tolist(), index.remaining_capacity.tolist(), strict=True)
    )
    assert remaining[o.gps[0].pk] == 0  # capacity 2: nobody else is offered to this GP
    orientation_restart(request=o.request, by=o.coordinator)
    taken, _ = gp_month_counts([o.cpts.pk])
    assert taken == {}  # back to the queue: the place is free again


def test_only_the_coordination_closes_before_the_person_is_told(o):
    created = o.ask(*o.gps[:3])
    _accept(created[0])  # still proposing: the person has not been told yet
    for who in (RecordedBy.GP, RecordedBy.PATIENT):
        with pytest.raises(OrientationError, match="n'attend pas de choix"):
            placement_record(request=o.request, practitioner=o.gps[0], recorded_by=who)
    fresh = RequestFactory(cpts=o.cpts, commune=o.world.here)  # "new": not verified yet
    with pytest.raises(OrientationError, match="Vérifiez d'abord"):
        placement_record(request=fresh, practitioner=o.gps[0], recorded_by=RecordedBy.COORDINATOR)
    assert not Placement.objects.exists()


def test_a_reopened_request_can_find_its_gp_again(o):
    from accesmt.intake.lifecycle import request_transition

    placement_record(request=o.request, practitioner=o.gps[0], recorded_by=RecordedBy.COORDINATOR)
    request_transition(request=o.request, to=Status.TO_VERIFY, by=o.coordinator)
    taken, _ = gp_month_counts([o.cpts.pk])
    assert taken == {}  # reopened: the place is no longer counted
    request_transition(request=o.request, to=Status.WAITING, by=o.coordinator)
    placement_record(request=o.request, practitioner=o.gps[1], recorded_by=RecordedBy.COORDINATOR)
    assert Placement.objects.get().practitioner == o.gps[1]
    taken, _ = gp_month_counts([o.cpts.pk])
    assert taken == {o.gps[1].pk: 2}


def test_without_email_or_mobile_the_offer_is_a_letter_to_print(o):
    o.request.email = ""
    o.request.phone = "+33321000000"  # a landline: no SMS
    o.request.save()
    for s in o.ask(*o.gps[:3]):
        _accept(s)
    [letter] = OutboxMessage.objects.filter(topic="orientation.offer")
    assert (letter.channel, letter.status) == ("letter", "pending")
    assert letter.recipient == o.request.reference
    assert all(gp.last_name in letter.body for gp in o.gps[:3])
    assert not OutboxMessage.objects.filter(
        channel__in=["email", "sms"], topic="orientation.offer"
    ).exists()


def test_asking_more_gps_while_the_person_chooses_keeps_their_choice_open(o):
    for s in o.ask(*o.gps[:3]):
        _accept(s)
    assert _status(o) == Status.AWAITING_CHOICE
    [more] = o.ask(o.gps[3])
    assert _status(o) == Status.AWAITING_CHOICE  # the person can still choose meanwhile
    _accept(more)
    offers = OutboxMessage.objects.filter(topic="orientation.offer", channel="email")
    assert offers.count() == 2
    assert o.gps[3].last_name in offers.order_by("pk").last().body
    placement_record(request=o.request, practitioner=o.gps[3], recorded_by=RecordedBy.PATIENT)
    assert _status(o) == Status.CLOSED


def test_a_pending_gp_while_the_person_chooses_is_not_cancelled_by_the_worker(o):
    for s in o.ask(*o.gps[:3]):
        _accept(s)
    [more] = o.ask(o.gps[3])
    solicitations_follow_up()
    more.refresh_from_db()
    assert more.status == SolicitationStatus.PENDING


def test_the_flow_states_are_request_states():
    from accesmt.orientation.models import ASKABLE, ORIENTING

    assert set(ORIENTING) == {Status.PROPOSING, Status.AWAITING_CHOICE}
    assert set(ASKABLE) == {Status.WAITING, *ORIENTING}


def test_the_follow_up_at_a_frozen_now_uses_that_months_capacity(o):
    """GP 2 is full this month (a household of two placed with them today): a follow-up run
    dated next month finds their places free again and asks them next, not GP 3."""
    from accesmt.intake.models import ClosedReason
    from accesmt.orientation.selectors import month_start
    from tests.worlds import waiting_request

    placed = waiting_request(o.cpts, o.world.here)
    placed.status, placed.closed_reason = Status.CLOSED, ClosedReason.MT_FOUND
    placed.closed_at = timezone.now()
    placed.save()
    Placement.objects.create(
        cpts=o.cpts,
        request=placed,
        practitioner=o.gps[1],
        members=2,
        recorded_by=RecordedBy.COORDINATOR,
        at=timezone.now(),
    )
    this_month, _ = request_candidates(o.request)
    assert o.gps[1] not in [r.practitioner for r in this_month]  # full this month
    [s] = o.ask(o.gps[0])
    next_month = (month_start() + datetime.timedelta(days=40)).replace(day=10)
    solicitations_follow_up(now=next_month)  # reminder
    solicitations_follow_up(now=next_month + datetime.timedelta(hours=73))  # expired: next GP
    s.refresh_from_db()
    assert s.status == SolicitationStatus.EXPIRED
    nxt = o.request.solicitations.get(status=SolicitationStatus.PENDING)
    assert nxt.practitioner == o.gps[1]
