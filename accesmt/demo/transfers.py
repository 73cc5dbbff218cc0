"""The demo's transfer plan in progress (issue 11, decision 0017), through the real services.

The GP leaving in five months (`demo/departures.py`) has a plan opened about three months ago:
the practice's file of about 900 patients in 400 households was imported with the importer of
`orientation/transfers/` (preview, consent attested, bulk confirm), the GPs nearby who accept
new patients receive transfers (their declared monthly capacity), and the allocation was
computed over the months up to the departure. The past months are done: their households were
asked (signed link, origin "transfer"), most GPs accepted, the person chose and the "MT found"
was recorded — every service with its `now=` at the time; a few GPs declined. The current month
is being asked (some answers in, some pending); the months ahead wait.

Messages older than a day belong to the past: marked as sent at their date, as for the rest of
the demo's history.
"""

from __future__ import annotations

import datetime as dt
import math
import random

from django.db.models import F
from django.utils import timezone

from accesmt.accounts.models import User
from accesmt.directory.models import AvailabilityDeclaration, Practitioner
from accesmt.intake.models import Status
from accesmt.notifications.models import OutboxMessage
from accesmt.notifications.models import Status as OutboxStatus
from accesmt.orientation.models import (
    AnswerChannel,
    DeclineReason,
    Origin,
    RecordedBy,
)
from accesmt.orientation.services import (
    OrientationError,
    placement_record,
    solicitation_answer,
    solicitations_send,
)
from accesmt.orientation.transfers.importer import COLUMNS, transfer_import_confirm
from accesmt.orientation.transfers.models import TransferPlan
from accesmt.orientation.transfers.services import (
    transfer_plan_allocate,
    transfer_plan_create,
    transfer_receiver_set,
)

from .generator import _birth_date, _mobile, _street
from .names import FEMALE_FIRST_NAMES, MALE_FIRST_NAMES, SURNAMES

PLAN_HOUSEHOLDS = 400
PLAN_OPENED_DAYS_AGO = 85  # about three months: three months done, the current one under way
RECEIVERS = 30  # the nearest GPs who accept new patients
SIZES = ((1, 0.36), (2, 0.33), (3, 0.12), (4, 0.12), (5, 0.07))  # about 2.25 persons a household
ACCEPT_SHARE = 0.9


def _size(rng: random.Random) -> int:
    draw, cumulated = rng.random(), 0.0
    for size, share in SIZES:
        cumulated += share
        if draw < cumulated:
            return size
    return SIZES[-1][0]


def _km(a_lat, a_lon, b_lat, b_lon) -> float:
    dx = (a_lon - b_lon) * 111.0 * math.cos(math.radians(a_lat))
    return math.hypot(dx, (a_lat - b_lat) * 111.0)


def _people(rng: random.Random, size: int, today: dt.date) -> list[tuple]:
    """(first name, last name, birth date, sex, ALD, home visits) of one household: a retiring
    GP's patients are older than the queue's."""
    last_name = rng.choice(SURNAMES)
    if size == 1:
        ages = [rng.choice(((70, 95), (45, 69), (25, 44)))]
    elif size == 2:
        ages = [(62, 90)] * 2 if rng.random() < 0.6 else [(28, 45), (20, 44)]
    else:
        ages = [(28, 48), (26, 46)] + [(0, 17)] * (size - 2)
    people = []
    for index, (low, high) in enumerate(ages):
        sex = "F" if index == 1 else rng.choice("FM")
        first = rng.choice(FEMALE_FIRST_NAMES if sex == "F" else MALE_FIRST_NAMES)
        birth = _birth_date(rng, today, low, high)
        age = (today - birth).days // 365
        ald = rng.random() < (0.45 if age >= 70 else 0.12 if age >= 18 else 0.03)
        visits = "oui" if age >= 82 and rng.random() < 0.5 else "non"
        people.append((first, last_name, birth, sex, ald, visits))
    return people


def plan_file(rng: random.Random, places, near, *, households: int, today: dt.date) -> bytes:
    """The practice's CSV file (docs/transfer-plan-format.md): households of the communes nearest
    the departing GP's practice, most of them in its own commune."""
    ordered = sorted(places, key=lambda p: _km(near[0], near[1], p.latitude, p.longitude))[:6]
    weights = [6, 3, 2, 2, 1, 1][: len(ordered)]
    lines = [";".join(c[1] for c in COLUMNS)]
    for number in range(1, households + 1):
        place = rng.choices(ordered, weights=weights, k=1)[0]
        street, phone = _street(rng), _mobile(rng).replace("+33", "0")
        for first, last, birth, sex, ald, visits in _people(rng, _size(rng), today):
            lines.append(
                ";".join(
                    (
                        f"T{number:04d}",
                        last,
                        first,
                        birth.strftime("%d/%m/%Y"),
                        sex,
                        street,
                        place.postcode,
                        place.name,
                        phone,
                        "",
                        "oui" if ald else "non",
                        visits,
                    )
                )
            )
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def _receivers(plan: TransferPlan, near) -> None:
    declarations = (
        AvailabilityDeclaration.objects.filter(cpts=plan.cpts)
        .latest_per_practitioner()
        .accepting(include_on_request=False)
        .filter(monthly_capacity__gte=2)
        .exclude(practitioner=plan.practitioner)
        # the demo GP account keeps its capacity for the queue (its list of households)
        .exclude(practitioner__email__in=User.objects.exclude(email="").values("email"))
        .select_related("practitioner")
    )
    sites = {}
    for declaration in declarations:
        site = declaration.practitioner.sites.filter(latitude__isnull=False).first()
        if site is not None:
            sites[declaration.practitioner_id] = (declaration, site)
    nearest = sorted(
        sites.values(),
        key=lambda ds: (_km(near[0], near[1], ds[1].latitude, ds[1].longitude), ds[0].pk),
    )[:RECEIVERS]
    for declaration, _site in nearest:
        transfer_receiver_set(
            plan=plan,
            practitioner=declaration.practitioner,
            monthly_capacity=declaration.monthly_capacity,
        )


def _month_run(rng, plan, month, coordinator, *, asked_at, now, done: bool) -> None:
    """Ask the month's receivers as `transfer_month_send` does (one signed-link solicitation per
    household, origin "transfer"), at `asked_at`; then the answers and the persons' choices —
    all of them when the month is `done`, about half of them for the current month."""
    rows = (
        plan.households.filter(
            month=month, request__status=Status.WAITING, practitioner__isnull=False
        )
        .select_related("request", "request__cpts", "practitioner")
        .order_by("household_key")
    )
    for row in rows:
        at = asked_at + dt.timedelta(minutes=rng.randint(0, 90))
        try:
            asked = solicitations_send(
                request=row.request,
                practitioner_ids=[row.practitioner_id],
                by=coordinator,
                origin=Origin.TRANSFER,
                now=at,
            )
        except OrientationError:
            continue
        if not asked or (not done and rng.random() < 0.5):
            continue
        answered = min(at + dt.timedelta(hours=rng.uniform(4, 60)), now - dt.timedelta(hours=2))
        accept = rng.random() < ACCEPT_SHARE
        solicitation_answer(
            solicitation=asked[0],
            accept=accept,
            channel=AnswerChannel.LINK,
            decline_reason="" if accept else DeclineReason.FULL,
            now=answered,
        )
        request = row.request
        if not accept:
            # The ordinary flow asks the next candidate of the queue's ranking: in a month
            # done, they accepted.
            following = request.solicitations.pending().order_by("asked_at", "pk").first()
            if not done or following is None:
                continue
            answered = max(answered, following.asked_at) + dt.timedelta(hours=rng.uniform(4, 30))
            solicitation_answer(
                solicitation=following, accept=True, channel=AnswerChannel.LINK, now=answered
            )
        chosen = answered + dt.timedelta(days=rng.uniform(1, 6))
        if chosen > now - dt.timedelta(hours=1):
            continue  # the person has not chosen yet
        request.refresh_from_db(fields=["status"])
        accepted = request.solicitations.accepted().order_by("pk").first()
        if request.status == Status.AWAITING_CHOICE and accepted is not None:
            placement_record(
                request=request,
                practitioner=accepted.practitioner,
                recorded_by=RecordedBy.PATIENT,
                now=chosen,
            )


def demo_transfer_plan_create(
    cpts, places, *, leaving: Practitioner | None, departure: dt.date, coordinator, seed: int
) -> TransferPlan | None:
    """The plan of the leaving GP (see the module doc); None without a GP or a place."""
    site = leaving and leaving.sites.filter(latitude__isnull=False).first()
    if site is None or not places:
        return None
    now = timezone.now()
    today = timezone.localdate(now)
    rng = random.Random(f"{seed}-transfers")
    near = (site.latitude, site.longitude)
    plan = transfer_plan_create(
        cpts=cpts,
        practitioner=leaving,
        departure_date=departure,
        # every month counts, whatever the date of `make demo` (past and ahead months show)
        avoid_summer=False,
        by=coordinator,
    )
    opened = now - dt.timedelta(days=PLAN_OPENED_DAYS_AGO)
    TransferPlan.objects.filter(pk=plan.pk).update(created_at=opened)
    plan.created_at = opened
    _receivers(plan, near)
    data = plan_file(rng, places, near, households=PLAN_HOUSEHOLDS, today=today)
    transfer_import_confirm(
        data,
        plan=plan,
        consent_attested=True,
        by=coordinator,
        now=opened + dt.timedelta(days=4),
    )
    transfer_plan_allocate(plan=plan, now=opened + dt.timedelta(days=5))
    current = today.replace(day=1)
    months = sorted(set(plan.households.exclude(month=None).values_list("month", flat=True)))
    for month in months:
        if month > current:
            break
        asked_at = max(
            dt.datetime.combine(month, dt.time(9), tzinfo=now.tzinfo) + dt.timedelta(days=1),
            opened + dt.timedelta(days=6),
        )
        if month == current:
            asked_at = min(asked_at, now - dt.timedelta(days=1, hours=3))
        _month_run(rng, plan, month, coordinator, asked_at=asked_at, now=now, done=month < current)
    OutboxMessage.objects.filter(
        cpts=cpts,
        status=OutboxStatus.PENDING,
        created_at__lt=now - dt.timedelta(days=1),
    ).update(status=OutboxStatus.SENT, sent_at=F("created_at"), attempts=1)
    return plan
