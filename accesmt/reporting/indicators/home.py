"""The figures of a CPTS home (every member sees them; observers, GPs and referrers masked): the
queue today, the GPs' places left this month, and the last 90 days of the orientation flow. Built
on the indicator cells, so that the one masking rule of `cells.py` applies here too; a fixed
number of queries whatever the size of the queue. The queue's figures are counted up to
COUNT_CAP, each from the index `intake_request_queue` (« plus de 1 000 » above: decision 0029);
the indicator pages give the exact figures of a period."""

from __future__ import annotations

import datetime

import numpy as np
from django.db.models import Count, Q, Sum
from django.utils import timezone

from accesmt.common.pagination import bounded_count
from accesmt.intake.models import HouseholdMember, Request, Status
from accesmt.matching.selectors import candidate_index
from accesmt.orientation.models import Placement, Solicitation, SolicitationStatus
from accesmt.orientation.selectors import gp_month_counts

from ..cells import Amount, BoundedCount, Cell, Days, Rate
from ..cells import Count as CountCell
from ..tables import Scope
from .common import duration, quantile_days

HOME_DAYS = 90
ORIENTING = (Status.PROPOSING, Status.AWAITING_CHOICE)
TO_CHECK = (Status.NEW, Status.TO_VERIFY)


def _places_left(cpts, now: datetime.datetime) -> tuple[int, int]:
    """(places the GPs of the territory have left this month, in persons; GPs with places),
    as matching counts them (declarations in force, places used and reserved this month)."""
    taken, asked = gp_month_counts([cpts.pk], now)
    index = candidate_index(cpts, now=now, taken_this_month=taken, solicitations_this_month=asked)
    open_rows = index.open_rows
    gps, first = np.unique(index.practitioner_id[open_rows], return_index=True)
    return int(index.remaining_capacity[open_rows][first].sum()), len(gps)


def home_figures(
    scope: Scope, *, now: datetime.datetime | None = None, days: int = HOME_DAYS
) -> dict[str, Cell]:
    """The home's figures of `scope.cpts` as cells:

    - waiting, waiting_persons, waiting_priority: households (and their persons) waiting for a
      GP today, priority households among them;
    - being_oriented (GPs asked or the person choosing), to_check (new or to verify);
      these five counted up to COUNT_CAP (`BoundedCount`);
    - places_left (in persons) this month and gps_with_places;
    - found, found_persons: households placed with a GP over the last `days` days (placements
      that still stand) and their persons then; median_wait_days: median days from the start of
      their wait to the placement, in whole days;
    - solicitations of GPs over the last `days` days and acceptance_rate among those answered."""
    now = now or timezone.now()
    since = now - datetime.timedelta(days=days)
    cpts = scope.cpts
    requests = Request.objects.filter(scope.where())
    queue = {
        "waiting": bounded_count(requests.filter(status=Status.WAITING)),
        "waiting_priority": bounded_count(requests.filter(status=Status.WAITING, is_priority=True)),
        "being_oriented": bounded_count(requests.filter(status__in=ORIENTING)),
        "to_check": bounded_count(requests.filter(status__in=TO_CHECK)),
    }
    waiting_persons = bounded_count(
        HouseholdMember.objects.filter(
            scope.where("request__cpts", "request__commune"), request__status=Status.WAITING
        )
    )
    placements = Placement.objects.current().filter(
        scope.where("cpts", "request__commune"), at__gte=since
    )
    found = placements.aggregate(n=Count("pk"), persons=Sum("members"))
    n, quantiles = quantile_days(
        placements.annotate(wait=duration("at", "request__waiting_since")), "wait", (0.5,)
    )
    median = quantiles[0.5]
    answers = Solicitation.objects.filter(
        scope.where("cpts", "request__commune"), asked_at__gte=since
    ).aggregate(
        asked=Count("pk"),
        accepted=Count("pk", filter=Q(status=SolicitationStatus.ACCEPTED)),
        declined=Count("pk", filter=Q(status=SolicitationStatus.DECLINED)),
    )
    places_left, gps_with_places = _places_left(cpts, now)
    return {
        "waiting": BoundedCount(queue["waiting"]),
        "waiting_persons": BoundedCount(waiting_persons),
        "waiting_priority": BoundedCount(queue["waiting_priority"]),
        "being_oriented": BoundedCount(queue["being_oriented"]),
        "to_check": BoundedCount(queue["to_check"]),
        # places are what GPs declared to give: they say nothing about a person
        "places_left": Amount(places_left),
        "gps_with_places": CountCell(gps_with_places),
        "found": CountCell(found["n"]),
        "found_persons": CountCell(found["persons"] or 0),
        "median_wait_days": Days(None if median is None else round(median), n),
        "solicitations": CountCell(answers["asked"]),
        "acceptance_rate": Rate(answers["accepted"], answers["accepted"] + answers["declined"]),
    }


def home_shown(scope: Scope, **options) -> dict:
    """`home_figures` as the home shows them to the member (masked unless coordination), with
    `days`; a hidden median or rate is None (the sentence is left out)."""
    figures = {
        name: cell.shown(scope.masked) for name, cell in home_figures(scope, **options).items()
    }
    for name in ("median_wait_days", "acceptance_rate"):
        if not isinstance(figures[name], (int, float)):
            figures[name] = None
    figures["days"] = options.get("days", HOME_DAYS)
    return figures
