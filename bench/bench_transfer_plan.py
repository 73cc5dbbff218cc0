"""Transfer plan of a departing GP (issue 11): 2,500 patients in about 1,100 households spread
over 40 GPs nearby, month by month for 6 months (summer avoided: July and August are not in the
months), with the allocation over months (orientation.transfers.solver). Target: under 2 s.

Prints the time (arcs, graph, solve, total), the households and persons placed, and V next to
the flow's upper bound (the gap that whole households cost) and, with `--lp`, HiGHS's LP bound.

    .venv/bin/python bench/bench_transfer_plan.py [--seed 1] [--months 6] [--lp]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from accesmt.matching.allocation import HouseholdBatch  # noqa: E402
from accesmt.matching.candidates import CandidateIndex, Declaration, Profile  # noqa: E402
from accesmt.orientation.transfers.solver import allocate_over_months, transfer_batch  # noqa: E402

CENTRE = (50.43, 2.83)  # Liévin
KM_LAT = 1 / 111.2


def instance(rng, n_households=1100, n_gps=40):
    persons = rng.choice([1, 2, 3, 4, 5], n_households, p=[0.33, 0.32, 0.16, 0.13, 0.06])
    # the practice's patients live within ~8 km, the GPs within ~12 km
    lat = CENTRE[0] + rng.normal(0, 4, n_households) * KM_LAT
    lon = CENTRE[1] + rng.normal(0, 4, n_households) * KM_LAT * 1.55
    bits = np.zeros(n_households, dtype=np.int16)
    for bit, share in (
        (Profile.ALD, 0.25),
        (Profile.AGED_70_PLUS, 0.2),
        (Profile.HOME_VISITS, 0.05),
        (Profile.CHILDREN_UNDER_6, 0.08),
    ):
        bits |= np.where(rng.random(n_households) < share, int(bit), 0).astype(np.int16)
    bits |= np.where(persons >= 2, int(Profile.HOUSEHOLDS), 0).astype(np.int16)
    households = HouseholdBatch.build(
        household_id=np.arange(1, n_households + 1),
        latitude=lat,
        longitude=lon,
        is_priority=np.zeros(n_households, dtype=bool),
        waiting_days=np.zeros(n_households, dtype=np.int64),
        required_profiles=bits,
        needs_home_visits=(bits & int(Profile.HOME_VISITS)) > 0,
        max_distance_km=15.0,
        commune_insee=np.full(n_households, "62510", dtype=object),
        persons=persons,
    )
    index = CandidateIndex.build(
        site_id=np.arange(n_gps),
        practitioner_id=np.arange(1, n_gps + 1),
        latitude=CENTRE[0] + rng.normal(0, 6, n_gps) * KM_LAT,
        longitude=CENTRE[1] + rng.normal(0, 6, n_gps) * KM_LAT * 1.55,
        declaration=np.full(n_gps, Declaration.VALID),
        accepting=np.ones(n_gps, dtype=bool),
        remaining_capacity=np.full(n_gps, 20),
        profiles=np.where(rng.random(n_gps) < 0.85, 63, 63 & ~int(Profile.HOME_VISITS)),
        visit_radius_km=rng.choice([5.0, 10.0, np.nan], n_gps),
    )
    capacity = {
        pid: int(c) for pid, c in zip(range(1, n_gps + 1), rng.integers(6, 16, n_gps), strict=True)
    }
    return index, households, capacity


def lp_bound(plan, households):
    from scipy.optimize import linprog
    from scipy.sparse import coo_matrix

    arcs = plan.arcs
    hh = transfer_batch(households)
    persons = hh.persons[arcs.household]
    value = persons * (arcs.k * hh.weight[arcs.household] - arcs.units)
    n = len(arcs)
    a_h = coo_matrix((np.ones(n), (arcs.household, np.arange(n))), shape=(len(hh), n))
    a_p = coo_matrix((persons, (arcs.practitioner, np.arange(n))), shape=(len(arcs.capacity), n))
    from scipy.sparse import vstack

    result = linprog(
        -value.astype(float),
        A_ub=vstack([a_h, a_p]).tocsr(),
        b_ub=np.concatenate([np.ones(len(hh)), arcs.capacity.astype(float)]),
        bounds=(0, 1),
        method="highs",
    )
    return -result.fun


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--months", type=int, default=6)
    parser.add_argument("--lp", action="store_true")
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    index, households, capacity = instance(rng)
    started = time.perf_counter()
    plan = allocate_over_months(index, households, capacity=capacity, months=args.months)
    total = time.perf_counter() - started
    persons = int(households.persons.sum())
    placed_rows = np.isin(households.household_id, plan.household_id)
    fragile = (transfer_batch(households).is_priority).astype(bool)
    places = sum(capacity.values()) * args.months
    print(
        f"households {len(households)}, persons {persons}, GPs {len(capacity)}, "
        f"months {args.months}, places {places}"
    )
    print(f"arcs (time-expanded) {len(plan.arcs):,}")
    s = plan.stats
    print(
        f"time: total {total:.3f} s (arcs {s['expand_arcs_s']:.3f} s, graph "
        f"{s['build_graph_s']:.3f} s, solve {s['solve_s']:.3f} s)"
    )
    print(
        f"placed: {placed_rows.sum()} households, {int(households.persons[placed_rows].sum())} "
        f"persons; fragile placed {int((placed_rows & fragile).sum())}/{int(fragile.sum())}; "
        f"split by the flow {s['split_households']}, completed {s['completed_households']}"
    )
    mean_rank = {
        "fragile": float(
            plan.month_rank[np.isin(plan.household_id, households.household_id[fragile])].mean()
        ),
        "others": float(
            plan.month_rank[np.isin(plan.household_id, households.household_id[~fragile])].mean()
        ),
    }
    print(f"mean month rank: fragile {mean_rank['fragile']:.2f}, others {mean_rank['others']:.2f}")
    print(
        f"V = {plan.objective:,}; flow bound {s['upper_bound']:,}; "
        f"ratio {plan.objective / s['upper_bound']:.5f}"
    )
    if args.lp:
        started = time.perf_counter()
        bound = lp_bound(plan, households)
        print(
            f"HiGHS LP bound {bound:,.0f} ({time.perf_counter() - started:.1f} s); "
            f"ratio {plan.objective / bound:.5f}"
        )
    print("target < 2 s:", "met" if total < 2 else "NOT met")


if __name__ == "__main__":
    main()
