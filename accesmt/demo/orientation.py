"""The demo's orientation history, through the product's own services (`accesmt.orientation`).

Among the waiting households of a CPTS (after the intake part of the demo is loaded):

- about 20 found a médecin traitant over the last three months ("MT found"): the coordination
  asked the first candidates, the GPs answered (some refused, the next candidate was then asked),
  the person chose, and the outcome was recorded by the GP, the person or the coordination;
- a few wait for the person's choice, with two or three GPs who accepted;
- a few are being proposed: GPs asked one to three days ago, some answered, some not yet, one of
  them past its answer delay and not reminded yet (the worker's reminder shows on `make demo`);
- one was taken by the demo GP from their list of households near them.

The demo GP account (`medecin@cpts-lievin.example.org`) is linked to a GP of the directory who
accepts every profile (same e-mail, see `directory.selectors.practitioner_of_user`): they
have requests waiting for their answer and households to take.

Deterministic: a `random.Random` seeded from the demo seed, requests and GPs in a fixed order.
Dates are in the past: every service runs with its `now=` (passed on to the life cycle and the
outbox), so transitions, placements and messages carry the date the event happened. Messages
older than a day are marked as sent at their date (they belong to the past; nothing is
delivered for them); the recent ones stay pending and the demo worker delivers them to the
local SMTP sink / the SMS log like the rest of the demo's outbox.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

from django.db.models import F
from django.utils import timezone

from accesmt.accounts.models import User
from accesmt.directory.models import PROFILE_FIELDS, AvailabilityDeclaration, Practitioner
from accesmt.intake.models import Request, RequestTransition, Status
from accesmt.notifications.models import OutboxMessage
from accesmt.notifications.models import Status as OutboxStatus
from accesmt.orientation.models import (
    AnswerChannel,
    DeclineReason,
    RecordedBy,
    Solicitation,
)
from accesmt.orientation.selectors import request_candidates, requests_a_gp_can_take
from accesmt.orientation.services import (
    household_take,
    placement_record,
    solicitation_answer,
    solicitations_send,
)

DEMO_GP_EMAIL = "medecin@cpts-lievin.example.org"
FOUND_DAYS = 90  # placements spread over the last three months
GP_LIST_KEPT = 10  # households the demo GP fits, kept waiting for their list
ACCEPT_SHARE = 0.6  # of the GPs asked, those who accept (the others refuse)
DECLINE_REASONS = (
    DeclineReason.FULL,
    DeclineReason.FULL,
    DeclineReason.TOO_FAR,
    DeclineReason.PROFILE,
    DeclineReason.HOME_VISITS,
)


@dataclass
class DemoOrientation:
    gp: Practitioner | None = None
    found: list[Request] = field(default_factory=list)
    awaiting: list[Request] = field(default_factory=list)
    proposing: list[Request] = field(default_factory=list)
    taken: Request | None = None
    overdue: Solicitation | None = None


def _demo_gp(cpts, waiting: list[Request]) -> tuple[Practitioner | None, set[int]]:
    """The GP of the demo account: accepting every profile, with the most capacity, the first who
    fits enough waiting households (else, of the first five, the one who fits the most). Returns
    the GP and the ids of the waiting requests they may take."""
    declarations = (
        AvailabilityDeclaration.objects.filter(cpts=cpts)
        .accepting(include_on_request=False)
        .filter(**dict.fromkeys(PROFILE_FIELDS, True), monthly_capacity__gte=3)
        .order_by("-monthly_capacity", "practitioner_id")
    )
    best: tuple[int, Practitioner | None, set[int]] = (-1, None, set())
    for declaration in list(declarations.select_related("practitioner"))[:5]:
        practitioner = declaration.practitioner
        fits = {
            row["request"].pk
            for row in requests_a_gp_can_take(practitioner, cpts, limit=len(waiting) + 1)
        }
        if len(fits) > best[0]:
            best = (len(fits), practitioner, fits)
        if len(fits) >= GP_LIST_KEPT + 4:  # enough for their stories and their list
            break
    return best[1], best[2]


def _link_account(practitioner: Practitioner, user: User | None) -> None:
    """The demo GP account and this GP share their e-mail (no other GP has it)."""
    Practitioner.objects.filter(email__iexact=DEMO_GP_EMAIL).exclude(pk=practitioner.pk).update(
        email=""
    )
    Practitioner.objects.filter(pk=practitioner.pk).update(email=DEMO_GP_EMAIL)
    practitioner.email = DEMO_GP_EMAIL
    if user is not None:
        user.first_name, user.last_name = practitioner.first_name, practitioner.last_name
        user.save(update_fields=["first_name", "last_name"])


def _backdate_verification(request: Request, before: dt.datetime) -> None:
    """The intake part of the demo verified every request today: date the checks a day after
    the registration instead, before the orientation history that follows."""
    created = request.created_at
    checked = min(created + dt.timedelta(hours=20), before - dt.timedelta(hours=2))
    RequestTransition.objects.filter(request=request, to_status=Status.TO_VERIFY).exclude(
        from_status=""
    ).update(at=checked - dt.timedelta(hours=1))
    RequestTransition.objects.filter(request=request, to_status=Status.WAITING).update(at=checked)


def _ask(request: Request, at: dt.datetime, coordinator, ids: list[int]) -> list[Solicitation]:
    return solicitations_send(request=request, practitioner_ids=ids, by=coordinator, now=at)


def _top_candidates(request: Request, count: int, *, skip=()) -> list[int]:
    rows, _ = request_candidates(request, limit=count + len(skip))
    return [r.candidate.practitioner_id for r in rows if r.candidate.practitioner_id not in skip][
        :count
    ]


def _answer(rng, solicitation: Solicitation, accept: bool, at: dt.datetime, coordinator) -> None:
    by_phone = rng.random() < 0.25
    solicitation_answer(
        solicitation=solicitation,
        accept=accept,
        channel=AnswerChannel.PHONE if by_phone else AnswerChannel.LINK,
        decline_reason="" if accept else rng.choice(DECLINE_REASONS),
        by=coordinator if by_phone else None,
        now=at,
    )


def _answer_all(rng, request: Request, t: dt.datetime, coordinator, decisions=None) -> dt.datetime:
    """Answer the pending solicitations in order (the next candidates asked after a refusal
    too) until the request leaves "proposing". Returns the time of the last answer."""
    decisions = list(decisions or [])
    for _ in range(12):
        request.refresh_from_db(fields=["status"])
        if request.status != Status.PROPOSING:
            break
        pending = request.solicitations.pending().order_by("asked_at", "pk").first()
        if pending is None:
            break
        t = max(t, pending.asked_at) + dt.timedelta(hours=rng.uniform(1, 16))
        accept = decisions.pop(0) if decisions else rng.random() < ACCEPT_SHARE
        _answer(rng, pending, accept, t, coordinator)
    request.refresh_from_db(fields=["status"])
    return t


def _found(rng, request, at, coordinator, gp, now) -> bool:
    ids = _top_candidates(request, 3)
    if not ids:
        return False
    _ask(request, at, coordinator, ids)
    t = _answer_all(rng, request, at, coordinator)
    placed_at = min(t + dt.timedelta(days=rng.uniform(2, 12)), now - dt.timedelta(hours=6))
    accepted = [s.practitioner for s in request.solicitations.accepted().order_by("pk")]
    others = [p for p in accepted if gp is None or p.pk != gp.pk]
    if others:
        practitioner = rng.choice(others)
        recorded_by = rng.choice((RecordedBy.PATIENT, RecordedBy.GP, RecordedBy.COORDINATOR))
    else:  # nobody accepted: the coordination found a GP outside the platform
        practitioner = Practitioner.objects.get(pk=ids[0])
        recorded_by = RecordedBy.COORDINATOR
    placement_record(
        request=request,
        practitioner=practitioner,
        recorded_by=recorded_by,
        by=coordinator if recorded_by == RecordedBy.COORDINATOR else None,
        now=placed_at,
    )
    return True


def demo_history_placement(rng, request: Request, at: dt.datetime, coordinator) -> bool:
    """A household of the demo's past placed through the same steps as `_found` (GPs asked at
    `at`, answers, choice, "MT found"), its messages marked as delivered at the time."""
    found = _found(rng, request, at, coordinator, None, at + dt.timedelta(days=14))
    _history_delivered(request.cpts, at + dt.timedelta(days=15))
    return found


def _awaiting(rng, request, at, coordinator, gp) -> bool:
    ids = _top_candidates(request, 3, skip={gp.pk} if gp else ())
    if len(ids) < 2:
        return False
    _ask(request, at, coordinator, ids)
    decisions = [True, True, rng.random() < 0.5][: len(ids)]
    rng.shuffle(decisions)
    _answer_all(rng, request, at, coordinator, decisions)
    return request.status == Status.AWAITING_CHOICE


def _proposing(rng, request, at, coordinator, gp, now, *, with_gp: bool, overdue: bool):
    """GPs asked at `at`: the demo GP (not answered yet) when `with_gp`; one answer of the
    others; the rest pending. Returns the pending solicitation of another GP when `overdue`."""
    skip = {gp.pk} if gp else set()
    ids = _top_candidates(request, 2 if with_gp else 3, skip=skip)
    if not ids:
        return False, None
    asked = _ask(request, at, coordinator, ([gp.pk] if with_gp else []) + ids)
    others = [s for s in asked if gp is None or s.practitioner_id != gp.pk]
    if len(others) >= 2:
        t = at + (now - at) * rng.uniform(0.2, 0.8)
        _answer(rng, others[0], rng.random() < 0.5, t, coordinator)
    request.refresh_from_db(fields=["status"])
    late = next((s for s in others[1:] if s.is_pending), None) if overdue else None
    return request.status == Status.PROPOSING, late


def _history_delivered(cpts, before: dt.datetime) -> None:
    """Messages of the demo's past were delivered at the time: nothing to send for them."""
    OutboxMessage.objects.filter(
        cpts=cpts,
        topic__startswith="orientation.",
        status=OutboxStatus.PENDING,
        created_at__lt=before,
    ).update(status=OutboxStatus.SENT, sent_at=F("created_at"), attempts=1)


def demo_orientation_create(
    cpts, *, seed: int, coordinator, gp_user: User | None = None, now=None
) -> DemoOrientation:
    """Build the orientation history of `cpts` (see the module doc)."""
    now = now or timezone.now()
    rng = random.Random(f"{seed}-orientation")
    result = DemoOrientation()
    waiting = list(
        Request.objects.filter(cpts=cpts, status=Status.WAITING)
        .select_related("cpts", "commune")
        .order_by("waiting_since", "pk")
    )
    gp, fits = _demo_gp(cpts, waiting)
    if gp is not None:
        _link_account(gp, gp_user)
        result.gp = gp
    old = [r for r in waiting if r.waiting_since <= now - dt.timedelta(days=20)]
    recent = [r for r in waiting if r.waiting_since <= now - dt.timedelta(days=5)]
    n = len(waiting)
    wanted_found = min(20, n // 5)
    wanted_awaiting = min(4, max(1, n // 12))
    wanted_proposing = min(5, max(2, n // 10))
    used: set[int] = set()

    # The demo GP: takes one household from their list, is asked about two; GP_LIST_KEPT of
    # the households they fit are kept out of the other stories, for their list to take.
    mine = [r for r in recent if r.pk in fits]
    keep_for_gp = {r.pk for r in mine[: min(GP_LIST_KEPT, max(0, len(mine) - 3))]}
    if gp is not None and mine:
        taken = mine[-1]
        at = now - dt.timedelta(days=1, hours=rng.uniform(0, 8))
        _backdate_verification(taken, at)
        household_take(request=taken, practitioner=gp, by=gp_user, now=at)
        taken.refresh_from_db(fields=["status"])
        result.taken = taken
        used.add(taken.pk)

    stories = []
    for request in rng.sample(old, len(old)):
        if len(stories) >= wanted_found:
            break
        if request.pk in keep_for_gp or request.pk in used:
            continue
        placed_in = rng.uniform(2, FOUND_DAYS)
        at = now - dt.timedelta(days=placed_in + rng.uniform(8, 15))
        earliest = request.waiting_since + dt.timedelta(days=2)
        stories.append(("found", request, max(at, earliest)))
        used.add(request.pk)
    candidates = [r for r in rng.sample(recent, len(recent)) if r.pk not in used]
    gp_asked = [r for r in mine[-3:-1] if r.pk not in used]
    for request in gp_asked:
        at = now - dt.timedelta(hours=rng.uniform(10, 40))
        stories.append(("proposing_gp", request, at))
        used.add(request.pk)
    others = [r for r in candidates if r.pk not in keep_for_gp and r.pk not in used]
    for request in others[:wanted_awaiting]:
        stories.append(("awaiting", request, now - dt.timedelta(days=rng.uniform(5, 14))))
        used.add(request.pk)
    for index, request in enumerate(
        others[wanted_awaiting : wanted_awaiting + wanted_proposing - len(gp_asked)]
    ):
        days = 4.2 if index == 0 else rng.uniform(0.5, 2.5)  # the first: past its delay
        stories.append(("proposing", request, now - dt.timedelta(days=days)))
        used.add(request.pk)

    # Nothing happens before the request was registered and checked.
    stories = [
        (kind, request, max(at, request.waiting_since + dt.timedelta(hours=18)))
        for kind, request, at in stories
    ]
    for kind, request, at in sorted(stories, key=lambda story: (story[2], story[1].pk)):
        _backdate_verification(request, at)
        if kind == "found":
            if _found(rng, request, at, coordinator, gp, now):
                result.found.append(request)
        elif kind == "awaiting":
            if _awaiting(rng, request, at, coordinator, gp):
                result.awaiting.append(request)
        else:
            first_late = kind == "proposing" and result.overdue is None
            ok, late = _proposing(
                rng,
                request,
                at,
                coordinator,
                gp,
                now,
                with_gp=kind == "proposing_gp",
                overdue=first_late and at < now - dt.timedelta(days=4),
            )
            if ok:
                result.proposing.append(request)
            result.overdue = result.overdue or late
    _history_delivered(cpts, now - dt.timedelta(days=1))
    return result
