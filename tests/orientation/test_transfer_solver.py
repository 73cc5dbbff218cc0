"""The allocation over months of a transfer plan (orientation.transfers.solver): exact against
HiGHS on small cases, fragile first, summer avoided, households whole, home-visit zones."""

import datetime

import numpy as np
import pytest
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_matrix

from accesmt.matching.allocation import HouseholdBatch
from accesmt.matching.candidates import Profile
from accesmt.orientation.transfers.solver import allocate_over_months, plan_months, transfer_batch
from tests.matching.helpers import gp, index_of, point_at


def batch(rows, max_km=15.0):
    points = [point_at(r.get("north", 0.0), r.get("east", 0.0)) for r in rows]
    return HouseholdBatch.build(
        household_id=[r.get("id", 100 + i) for i, r in enumerate(rows)],
        latitude=[p[0] for p in points],
        longitude=[p[1] for p in points],
        is_priority=[False] * len(rows),
        waiting_days=[0] * len(rows),
        required_profiles=[r.get("profiles", 0) for r in rows],
        needs_home_visits=[bool(r.get("profiles", 0) & Profile.HOME_VISITS) for r in rows],
        max_distance_km=max_km,
        commune_insee=["44109"] * len(rows),
        persons=[r.get("persons", 1) for r in rows],
    )


def milp_optimum(plan, households):
    """The best whole-household allocation over the same time-expanded arcs, by HiGHS (binary
    x per arc; each household at most once; each (GP, month) within its capacity)."""
    arcs = plan.arcs
    hh = transfer_batch(households)
    persons = hh.persons[arcs.household]
    value = persons * (arcs.k * hh.weight[arcs.household] - arcs.units)
    n = len(arcs)
    rows_h = coo_matrix((np.ones(n), (arcs.household, np.arange(n))), shape=(len(hh), n))
    rows_p = coo_matrix((persons, (arcs.practitioner, np.arange(n))), shape=(len(arcs.capacity), n))
    result = milp(
        -value.astype(float),
        constraints=[
            LinearConstraint(rows_h, 0, 1),
            LinearConstraint(rows_p, 0, arcs.capacity.astype(float)),
        ],
        integrality=np.ones(n),
        bounds=Bounds(0, 1),
    )
    assert result.success
    return round(-result.fun)


def test_months_before_departure_without_summer():
    months = plan_months(datetime.date(2027, 5, 10), datetime.date(2027, 10, 15), avoid_summer=True)
    assert months == [datetime.date(2027, m, 1) for m in (5, 6, 9, 10)]
    months = plan_months(datetime.date(2027, 5, 10), datetime.date(2027, 10, 1), avoid_summer=False)
    assert months == [datetime.date(2027, m, 1) for m in (5, 6, 7, 8, 9)]


def test_fragile_households_first_then_nearest():
    index = index_of(gp(1, north=1.0), gp(2, north=8.0))
    households = batch(
        [
            {"id": 1, "north": 0.0},
            {"id": 2, "north": 0.5, "profiles": int(Profile.ALD)},
            {"id": 3, "north": 7.5},
            {"id": 4, "north": 0.2, "profiles": int(Profile.AGED_70_PLUS)},
        ]
    )
    plan = allocate_over_months(index, households, capacity={1: 1, 2: 1}, months=2)
    got = {
        h: (p, m)
        for h, p, m in zip(plan.household_id, plan.practitioner_id, plan.month_rank, strict=True)
    }
    # month 0: the two fragile households (one per GP); month 1: the others, nearest GP
    assert got[2][1] == 0 and got[4][1] == 0
    assert got[1][1] == 1 and got[3] == (2, 1)
    assert plan.objective == milp_optimum(plan, households)


def test_household_never_split_and_zone_respected():
    index = index_of(
        gp(1, north=0.0, visit_radius_km=2.0),
        gp(2, north=5.0, visit_radius_km=10.0),
    )
    households = batch(
        [
            {"id": 1, "north": 4.0, "profiles": int(Profile.HOME_VISITS)},
            {"id": 2, "north": 0.0, "persons": 3, "profiles": int(Profile.HOUSEHOLDS)},
        ]
    )
    plan = allocate_over_months(index, households, capacity={1: 2, 2: 3}, months=2)
    got = dict(zip(plan.household_id.tolist(), plan.practitioner_id.tolist(), strict=True))
    assert got[1] == 2  # GP 1's zone (2 km) does not reach 4 km
    assert got[2] == 2  # three persons: only GP 2 has three places a month
    assert list(plan.unplaced_id) == []


def test_capacity_already_used_is_respected():
    index = index_of(gp(1))
    households = batch([{"id": i} for i in range(1, 4)])
    plan = allocate_over_months(index, households, capacity={1: 2}, months=2, used={(1, 0): 2})
    assert sorted(plan.month_rank.tolist()) == [1, 1]
    assert len(plan.unplaced_id) == 1


@pytest.mark.parametrize("seed", range(6))
def test_exact_against_highs_on_random_small_cases(seed):
    rng = np.random.default_rng(seed)
    gps = [
        gp(
            pid,
            north=float(rng.uniform(-6, 6)),
            east=float(rng.uniform(-6, 6)),
            profiles=int(rng.choice([63, 63, 31, 59])),
            visit_radius_km=float(rng.choice([np.nan, 3.0, 8.0])),
        )
        for pid in range(1, 6)
    ]
    index = index_of(*gps)
    rows = [
        {
            "id": i,
            "north": float(rng.uniform(-8, 8)),
            "east": float(rng.uniform(-8, 8)),
            "profiles": int(rng.choice([0, 0, 0, Profile.ALD, Profile.AGED_70_PLUS, 8])),
        }
        for i in range(1, 31)
    ]
    households = batch(rows)
    capacity = {pid: int(rng.integers(1, 3)) for pid in range(1, 6)}
    plan = allocate_over_months(index, households, capacity=capacity, months=3)
    # one-person households: the flow is the exact optimum over months
    assert plan.objective == milp_optimum(plan, households)
    # and no (GP, month) over its capacity
    taken = {}
    for p, m in zip(plan.practitioner_id.tolist(), plan.month_rank.tolist(), strict=True):
        taken[(p, m)] = taken.get((p, m), 0) + 1
    assert all(n <= capacity[p] for (p, _m), n in taken.items())


def test_households_of_several_persons_close_to_highs():
    rng = np.random.default_rng(42)
    index = index_of(*(gp(pid, north=float(rng.uniform(-5, 5))) for pid in range(1, 5)))
    households = batch(
        [
            {"id": i, "north": float(rng.uniform(-5, 5)), "persons": int(rng.integers(1, 4))}
            for i in range(1, 25)
        ]
    )
    plan = allocate_over_months(index, households, capacity={1: 3, 2: 4, 3: 2, 4: 5}, months=3)
    best = milp_optimum(plan, households)
    assert plan.objective <= best <= plan.stats["upper_bound"]
    # whole households: flow then completion, as the queue (docs/decisions/0007): not always
    # the optimum, within a measured gap of it (92 % here, a tight adversarial case)
    assert plan.objective >= 0.9 * best
    assert len(set(plan.household_id.tolist())) == len(plan.household_id)
