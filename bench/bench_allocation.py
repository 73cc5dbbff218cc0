"""Queue-wide allocation (issue 5, "Speed"): waiting households × GPs with capacity.

Default: 100,000 households × 5,000 GPs (15 km limit), solved as one problem and then the way the
product solves it, one sub-problem per CPTS (here one per département: a household is matched
only with GPs of its own département), in a pool of `--workers` forked processes (2), with the
ratio of the two objectives (what the CPTS borders cost). `--country`: 1,000,000 × 50,000, per
CPTS only (`--global` adds the single whole-country problem: about 4 minutes and 10 GiB).
Prints the time to build the arcs and solve, peak memory, the objective V of the product's
allocation next to an independent bound (the linear programme solved by HiGHS through scipy) and
next to the greedy baseline.

Households have 1 to 5 persons (50 / 25 / 12 / 9 / 4 %, 1.92 on average, like the 187,851 members
of the 100,000 households of `bench_allocation_db.py`); capacity is counted in persons and a
household is never split. `--singles` gives every household one person: then the constraint
matrix of this bipartite b-matching is totally unimodular, the LP optimum is the integer optimum
and the product's flow is exact (ratio 1). With larger households the LP (each household served
whole or not, fractions allowed) is only an upper bound of the best whole-household allocation;
the ratio printed is to that bound, so the true gap is at most that.

Points: `--spread communes` (default) draws a commune uniformly, then a point around it, which
spreads people over the country much like the reference instance (≈ 3.6 arcs per household);
`--spread population` weights communes by population (dense cities: far more arcs).

    .venv/bin/python bench/bench_allocation.py [--country [--global]] [--workers 2]
                                               [--spread population] [--no-lp] [--singles]
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_candidates import MAINLAND, load_communes  # noqa: E402

from accesmt.matching.allocation import (  # noqa: E402
    HouseholdBatch,
    allocate,
    allocate_greedy,
    build_arcs,
)
from accesmt.matching.candidates import CandidateIndex, Declaration  # noqa: E402


def draw(rng, n, communes, spread):
    if communes is None:
        return rng.uniform(*MAINLAND["lat"], n), rng.uniform(*MAINLAND["lon"], n), None
    lat, lon, pop, insee = communes
    p = pop / pop.sum() if spread == "population" else None
    pick = rng.choice(len(lat), size=n, p=p)
    km = np.clip(0.02 * np.sqrt(pop[pick]), 0.5, 4.0)
    return (
        lat[pick] + rng.normal(0, 1, n) * km / 111.195,
        lon[pick] + rng.normal(0, 1, n) * km / (111.195 * np.cos(np.radians(lat[pick]))),
        insee[pick],
    )


PERSONS = np.array([1, 2, 3, 4, 5])
PERSONS_SHARE = np.array([0.50, 0.25, 0.12, 0.09, 0.04])


def instance(rng, n_households, n_gps, communes, spread, max_km, singles=False):
    """(index, households, INSEE code of each GP's commune)."""
    lat, lon, gp_insee = draw(rng, n_gps, communes, spread)
    profiles = np.zeros(n_gps, dtype=np.int16)
    for bit, share in zip((1, 2, 4, 8, 16, 32), (0.8, 0.85, 0.8, 0.9, 0.4, 0.85), strict=True):
        profiles |= np.where(rng.random(n_gps) < share, bit, 0).astype(np.int16)
    index = CandidateIndex.build(
        site_id=np.arange(n_gps),
        practitioner_id=np.arange(n_gps),
        latitude=lat,
        longitude=lon,
        declaration=np.full(n_gps, Declaration.VALID),
        accepting=np.ones(n_gps, dtype=bool),
        remaining_capacity=rng.integers(1, 13, n_gps),
        profiles=profiles,
        visit_radius_km=np.where(profiles & 16, rng.uniform(3, 15, n_gps), np.nan),
    )
    lat, lon, insee = draw(rng, n_households, communes, spread)
    required = np.zeros(n_households, dtype=np.int16)
    for bit, share in zip((1, 2, 4, 8, 16), (0.12, 0.25, 0.3, 0.1, 0.06), strict=True):
        required |= np.where(rng.random(n_households) < share, bit, 0).astype(np.int16)
    if singles:
        persons = np.ones(n_households, dtype=np.int64)
        required |= np.where(rng.random(n_households) < 0.35, 32, 0).astype(np.int16)
    else:
        persons = rng.choice(PERSONS, size=n_households, p=PERSONS_SHARE)
        required |= np.where(persons >= 2, 32, 0).astype(np.int16)  # "foyers de plusieurs"
    households = HouseholdBatch.build(
        household_id=np.arange(n_households),
        latitude=lat,
        longitude=lon,
        is_priority=rng.random(n_households) < 0.35,
        waiting_days=rng.integers(0, 540, n_households),
        required_profiles=required,
        needs_home_visits=(required & 16) > 0,
        max_distance_km=max_km,
        commune_insee=insee,
        persons=persons,
    )
    return index, households, gp_insee


def lp_optimum(arcs, households) -> tuple[float, float]:
    """Independent check: max Σ n·(K·W − u)·x over the same arcs with HiGHS (scipy), each
    household at most once (Σ x ≤ 1), each GP at most its places (Σ n·x ≤ capacity), 0 ≤ x ≤ 1:
    the exact optimum when every household is one person, an upper bound otherwise."""
    from scipy.optimize import linprog
    from scipy.sparse import coo_matrix, vstack

    started = time.perf_counter()
    n = len(arcs)
    persons = households.persons[arcs.household].astype(float)
    value = persons * (arcs.k * households.weight[arcs.household] - arcs.units)
    cols = np.arange(n)
    per_household = coo_matrix((np.ones(n), (arcs.household, cols)), shape=(len(households), n))
    per_gp = coo_matrix((persons, (arcs.practitioner, cols)), shape=(len(arcs.capacity), n))
    result = linprog(
        -value.astype(float),
        A_ub=vstack([per_household, per_gp]).tocsr(),
        b_ub=np.concatenate([np.ones(len(households)), arcs.capacity.astype(float)]),
        bounds=(0, 1),
        method="highs",
    )
    if result.status != 0:
        raise RuntimeError(result.message)
    return -result.fun, time.perf_counter() - started


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def peak_children_mib() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


# --- per-CPTS decomposition: one département = one CPTS here -------------------------------

_SHARED: dict = {}
SITE_FIELDS = (
    "site_id",
    "practitioner_id",
    "latitude",
    "longitude",
    "declaration",
    "accepting",
    "remaining_capacity",
    "profiles",
    "visit_radius_km",
    "load",
)


def departement_groups(households, gp_insee) -> list[tuple[np.ndarray, np.ndarray]]:
    """(site rows, household rows) of each département, largest first. Like the product's
    CPTS, a household is only matched with the GPs of its own département."""
    hh_dep = np.array([code[:2] for code in households.commune_insee.tolist()])
    gp_dep = np.array([code[:2] for code in gp_insee.tolist()])
    groups = []
    for dep in np.unique(hh_dep):
        groups.append((np.flatnonzero(gp_dep == dep), np.flatnonzero(hh_dep == dep)))
    groups.sort(key=lambda g: -len(g[1]))
    return groups


def _solve_group(i: int) -> dict:
    index, households = _SHARED["index"], _SHARED["households"]
    site_rows, rows = _SHARED["groups"][i]
    started = time.perf_counter()
    sub_index = CandidateIndex.build(
        **{name: getattr(index, name)[site_rows] for name in SITE_FIELDS}
    )
    sub = households.subset(rows)
    proposal = allocate(sub_index, sub)
    return {
        "objective": proposal.objective,
        "upper_bound": proposal.stats["upper_bound"],
        "split": proposal.stats["split_households"],
        "persons": int(sub.persons[proposal.assigned_rows].sum()),
        "assigned": len(proposal.assigned_rows),
        "priority": int(sub.is_priority[proposal.assigned_rows].sum()),
        "km": float(proposal.distance_km.sum()),
        "arcs": proposal.stats["arcs"],
        "arcs_s": proposal.stats["build_arcs_s"],
        "graph_s": proposal.stats["build_graph_s"],
        "solve_s": proposal.stats["solve_s"],
        "seconds": time.perf_counter() - started,
    }


def solve_per_departement(index, households, gp_insee, workers: int) -> tuple[list[dict], float]:
    """Every département solved exactly and separately; `workers` > 1: a pool of forked
    processes (they share the instance copy-on-write). Returns the results and the wall time."""
    started = time.perf_counter()
    groups = departement_groups(households, gp_insee)
    _SHARED.update(index=index, households=households, groups=groups)
    if workers > 1:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            results = pool.map(_solve_group, range(len(groups)), chunksize=1)
    else:
        results = [_solve_group(i) for i in range(len(groups))]
    _SHARED.clear()
    return results, time.perf_counter() - started


def report_per_departement(results, wall_s, households, workers, global_objective=None):
    assigned = sum(r["assigned"] for r in results)
    priority = sum(r["priority"] for r in results)
    objective = sum(r["objective"] for r in results)
    served_priority = priority / max(int(households.is_priority.sum()), 1)
    print(
        f"per CPTS (one per département, {len(results)} sub-problems, {workers} process"
        f"{'es' if workers > 1 else ''}): {wall_s:.2f} s wall (arcs + graph + solve; the "
        f"largest sub-problem {max(r['seconds'] for r in results):.2f} s, "
        f"{sum(r['arcs'] for r in results):,} arcs)"
    )
    print(
        "  CPU time summed over the sub-problems: build arcs "
        f"{sum(r['arcs_s'] for r in results):.1f} s, graph {sum(r['graph_s'] for r in results):.1f}"
        f" s, solve {sum(r['solve_s'] for r in results):.1f} s"
    )
    bound = sum(r["upper_bound"] for r in results)
    print(
        f"  served {assigned:,} households ({sum(r['persons'] for r in results):,} persons), "
        f"priority served {100 * served_priority:.1f} %, mean distance "
        f"{sum(r['km'] for r in results) / max(assigned, 1):.2f} km; objective V {objective:,}; "
        f"ratio to the flow's bound (households may be split) {objective / max(bound, 1):.6f}, "
        f"{sum(r['split'] for r in results):,} households split by the flow and placed whole"
    )
    if global_objective:
        print(
            f"  ratio to the optimum without CPTS borders (a household may cross into the next "
            f"département): {objective / global_objective:.6f}"
        )
    return objective


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--country", action="store_true", help="1,000,000 households × 50,000 GPs")
    parser.add_argument("--households", type=int)
    parser.add_argument("--gps", type=int)
    parser.add_argument("--spread", choices=["communes", "population"], default="communes")
    parser.add_argument("--max-km", type=float, default=15.0)
    parser.add_argument("--no-lp", action="store_true", help="skip the HiGHS cross-check")
    parser.add_argument("--workers", type=int, default=2, help="processes for the per-CPTS solve")
    parser.add_argument(
        "--global",
        dest="whole",
        action="store_true",
        help="with --country: also solve the whole country as one problem (slow, ~10 GiB)",
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--singles", action="store_true", help="every household one person (exact case)"
    )
    args = parser.parse_args()
    n_h = args.households or (1_000_000 if args.country else 100_000)
    n_g = args.gps or (50_000 if args.country else 5_000)

    rng = np.random.default_rng(args.seed)
    t0 = time.perf_counter()
    index, households, gp_insee = instance(
        rng, n_h, n_g, load_communes(), args.spread, args.max_km, singles=args.singles
    )
    print(
        f"instance: {n_h:,} households ({int(households.persons.sum()):,} persons) × {n_g:,} "
        f"GPs, spread={args.spread}, limit {args.max_km:g} km, capacity "
        f"{int(index.remaining_capacity.sum()):,} places (persons) "
        f"(generated in {time.perf_counter() - t0:.1f} s)"
    )
    per_cpts_objective = None
    if args.country:
        results, wall = solve_per_departement(index, households, gp_insee, args.workers)
        per_cpts_objective = report_per_departement(results, wall, households, args.workers)
        print(
            f"peak memory (ru_maxrss): main process {peak_mib():,.0f} MiB (holds the whole "
            f"instance), largest worker {peak_children_mib():,.0f} MiB"
        )
        print(
            f"target: ≤ 60 s {'met' if wall <= 60 else 'NOT met'} ({wall:.1f} s); --global "
            "compares with the problem without CPTS borders"
        )
        if not args.whole:
            return
    global_objective = solve_whole(args, index, households, n_h)
    if per_cpts_objective is not None:
        print(
            "per CPTS / one problem without CPTS borders: "
            f"{per_cpts_objective / global_objective:.6f}"
        )
    else:
        results, wall = solve_per_departement(index, households, gp_insee, args.workers)
        report_per_departement(results, wall, households, args.workers, global_objective)


def solve_whole(args, index, households, n_h) -> int:
    """The whole instance as one problem (no CPTS borders), with the LP and greedy comparisons."""
    t0 = time.perf_counter()
    arcs = build_arcs(index, households)
    arcs_s = time.perf_counter() - t0
    exact = allocate(index, households, arcs=arcs)
    total_s = arcs_s + exact.stats["total_s"]
    print(f"eligible arcs: {len(arcs):,} ({len(arcs) / n_h:.1f} per household)")
    print(
        f"one problem (min-cost flow, then whole households): build arcs {arcs_s:.2f} s + graph "
        f"{exact.stats['build_graph_s']:.2f} s + solve {exact.stats['solve_s']:.2f} s "
        f"= {total_s:.2f} s; peak memory {peak_mib():,.0f} MiB; "
        f"{exact.stats['split_households']:,} households split by the flow, "
        f"{exact.stats['completed_households']:,} placed whole afterwards"
    )
    greedy = allocate_greedy(index, households, arcs=arcs)

    def describe(proposal):
        rows = proposal.assigned_rows
        served_priority = households.is_priority[rows].sum() / max(households.is_priority.sum(), 1)
        return (
            f"served {len(rows):,} households, {int(households.persons[rows].sum()):,} persons, "
            f"priority served {100 * served_priority:.1f} %, "
            f"mean distance {proposal.distance_km.mean() if len(rows) else 0:.2f} km"
        )

    print(f"objective V, product:          {exact.objective:,}  ({describe(exact)})")
    if not args.no_lp:
        lp_value, lp_s = lp_optimum(arcs, households)
        print(f"objective V, LP (HiGHS):       {lp_value:,.0f}  (solved in {lp_s:.1f} s)")
        print(
            f"ratio product / LP:            {exact.objective / lp_value:.6f}"
            + (
                " (exact)"
                if args.singles
                else " (the LP is an upper bound: the gap is at most this)"
            )
        )
    print(
        f"ratio product / flow bound:    {exact.objective / max(exact.stats['upper_bound'], 1):.6f}"
    )
    print(
        f"objective V, greedy:           {greedy.objective:,}  ({describe(greedy)}; "
        f"{greedy.stats['total_s']:.2f} s)"
    )
    print(f"ratio greedy / product:        {greedy.objective / exact.objective:.4f}")
    t0 = time.perf_counter()
    assignments, unassigned = exact.assignments(), exact.unassigned()
    print(
        f"French reasons for {len(assignments):,} assignments and {len(unassigned):,} "
        f"unassigned: {time.perf_counter() - t0:.2f} s"
    )
    print(f"peak memory (ru_maxrss): {peak_mib():,.0f} MiB")
    return exact.objective


if __name__ == "__main__":
    main()
