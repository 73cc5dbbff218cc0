"""Allocation over months: the departing GP's households spread over the receiving GPs, month by
month before the departure — the queue-wide allocation's min-cost flow
(`accesmt.matching.allocation`, docs/decisions/0007) with a time dimension.

Plain Python on numpy arrays. The receiving GPs' sites form a `CandidateIndex` whose remaining
capacity is each GP's monthly capacity for transfers; `allocation.build_arcs` gives the eligible
(household, GP) pairs with the same rules as the queue (profiles accepted, home-visit zone,
distance limit, a household never larger than the places of one GP-month). Each pair is then
repeated for every month of the plan: the capacity nodes are (GP, month) pairs, each with that
GP's monthly transfer capacity (less what the plan already placed or proposed there).

Objective (maximised; the flow's cost is Σ n_h·k·W_h − V):

    V = Σ_(h→p,m) n_h·( k·W_h − u_hp − K·W_h·m )        m = 0, 1, … the month's rank
    W_h = 1 + 105·[h fragile]   (allocation.household_weight, no waiting: all registered together)
                                fragile: a member in ALD, 70+, needing home visits, or under 6
    K = 10·D_max + 1 (> any u_hp, as in the queue)       k = K·M (M months)

so serving a person always beats leaving them out (k·W_h > K·W_h·(M−1) + u), a month earlier
for a fragile person is worth more than for anyone else (fragile first), and within one month
the shorter trip wins. July and August are simply not among the months when the plan avoids
summer. The households of several persons are handled as the queue's solver does: the flow,
then whole households heaviest first (`allocation.allocate` with these arcs); when every
household is one person the result is the exact optimum (tested against HiGHS).
"""

from __future__ import annotations

import datetime
import time
from dataclasses import dataclass

import numpy as np

from accesmt.matching.allocation import Arcs, HouseholdBatch, allocate, build_arcs
from accesmt.matching.candidates import CandidateIndex, Profile

FRAGILE_BITS = int(
    Profile.ALD | Profile.AGED_70_PLUS | Profile.HOME_VISITS | Profile.CHILDREN_UNDER_6
)
SUMMER = (7, 8)


def plan_months(
    start: datetime.date, departure: datetime.date, *, avoid_summer: bool
) -> list[datetime.date]:
    """The first day of each month from `start`'s month to the last month that begins before
    the departure, without July and August when asked."""
    months = []
    month = start.replace(day=1)
    while month < departure:
        if not (avoid_summer and month.month in SUMMER):
            months.append(month)
        month = (month + datetime.timedelta(days=32)).replace(day=1)
    return months


def transfer_batch(households: HouseholdBatch) -> HouseholdBatch:
    """The households with the plan's weight: `is_priority` = fragile, no waiting time (all were
    registered together), so that `weight` = 1 + 105·[fragile]."""
    fragile = (households.required_profiles.astype(np.int64) & FRAGILE_BITS) > 0
    return HouseholdBatch(
        **{
            **vars(households),
            "is_priority": fragile,
            "waiting_days": np.zeros(len(households), dtype=np.int64),
        }
    )


def receivers_index(index: CandidateIndex, capacity: dict[int, int]) -> CandidateIndex:
    """The sites of the receiving GPs (`capacity`: practitioner id → persons a month), their
    remaining capacity being the monthly capacity for transfers."""
    rows = np.flatnonzero(np.isin(index.practitioner_id, list(capacity)))
    communes: list[list[str]] = [[] for _ in rows]
    position = {int(r): i for i, r in enumerate(rows)}
    for code, sites in index.zone_sites.items():
        for site in sites.tolist():
            if site in position:
                communes[position[site]].append(code)
    return CandidateIndex.build(
        site_id=index.site_id[rows],
        practitioner_id=index.practitioner_id[rows],
        latitude=index.latitude[rows],
        longitude=index.longitude[rows],
        declaration=index.declaration[rows],
        accepting=index.accepting[rows],
        remaining_capacity=[capacity[int(p)] for p in index.practitioner_id[rows]],
        profiles=index.profiles[rows],
        visit_radius_km=index.visit_radius_km[rows],
        visit_communes=communes,
        load=index.load[rows],
    )


@dataclass
class MonthPlan:
    household_id: np.ndarray  # the households placed
    practitioner_id: np.ndarray
    month_rank: np.ndarray  # index into `months`
    site_id: np.ndarray
    distance_km: np.ndarray
    unplaced_id: np.ndarray
    unplaced_code: np.ndarray
    objective: int
    stats: dict
    arcs: Arcs  # the time-expanded arcs (for checks)


def allocate_over_months(
    index: CandidateIndex,
    households: HouseholdBatch,
    *,
    capacity: dict[int, int],
    months: int,
    used: dict[tuple[int, int], int] | None = None,
) -> MonthPlan:
    """Spread `households` over the receivers (`capacity`: practitioner id → persons a month)
    and `months` months; `used`: (practitioner id, month rank) → persons already there."""
    started = time.perf_counter()
    batch = transfer_batch(households)
    receivers = receivers_index(index, capacity)
    base = build_arcs(receivers, batch)
    used_array = None
    if used:
        used_array = np.zeros((len(base.practitioner_id), months), dtype=np.int64)
        row_of = {int(p): i for i, p in enumerate(base.practitioner_id)}
        for (pid, rank), n in used.items():
            if pid in row_of and 0 <= rank < months:
                used_array[row_of[pid], rank] += n
    if months < 1:
        raise ValueError("no month left before the departure")
    expanded = _expand(base, batch, months, used_array)
    proposal = allocate(receivers, batch, arcs=expanded)
    proposal.stats["expand_arcs_s"] = proposal.stats["build_arcs_s"] = (
        time.perf_counter() - started - proposal.stats["total_s"]
    )
    virtual = proposal.practitioner_id
    return MonthPlan(
        household_id=batch.household_id[proposal.assigned_rows],
        practitioner_id=base.practitioner_id[virtual // months],
        month_rank=virtual % months,
        site_id=receivers.site_id[proposal.site_row],
        distance_km=proposal.distance_km,
        unplaced_id=batch.household_id[proposal.unassigned_rows],
        unplaced_code=proposal.unassigned_code,
        objective=proposal.objective,
        stats=proposal.stats,
        arcs=expanded,
    )


def _expand(base: Arcs, batch: HouseholdBatch, months: int, used) -> Arcs:
    """Time-expanded arcs whose month penalty is K·W_h·m with allocation's own W_h."""
    weight = batch.weight  # 1 + 105·[fragile]
    m = np.arange(months, dtype=np.int64)
    n = len(base)
    h = np.repeat(base.household, months)
    month = np.tile(m, n)
    node = np.repeat(base.practitioner, months) * months + month
    capacity = np.repeat(base.capacity, months).astype(np.int64)
    if used is not None:
        capacity = np.maximum(capacity - used.reshape(-1), 0)
    fits = capacity[node] >= batch.persons[h]
    units = np.repeat(base.units, months) + base.k * weight[h] * month
    return Arcs(
        household=h[fits],
        practitioner=node[fits],
        site_row=np.repeat(base.site_row, months)[fits],
        distance_km=np.repeat(base.distance_km, months)[fits],
        units=units[fits],
        practitioner_id=np.arange(len(base.practitioner_id) * months, dtype=np.int64),
        capacity=capacity,
        k=base.k * months,
        too_big=base.too_big,
    )
