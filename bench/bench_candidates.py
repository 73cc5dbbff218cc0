"""Candidates for one request against a national-size directory (issue 5, "Speed").

About 60,000 practice sites are drawn over France from the commune reference file
(accesmt/territory/data/communes.csv.gz), weighted by population, with realistic declarations;
1,000 random households (also weighted by population) are ranked with every filter on. Prints
p50/p95/p99 per query for the KD-tree engine next to a brute-force numpy haversine scan that
applies the same filters and ranking, measured in the same run. Target: p95 ≤ 1 ms.

    .venv/bin/python bench/bench_candidates.py [--sites 60000] [--queries 1000] [--limit 10]
"""

from __future__ import annotations

import argparse
import csv
import gzip
import math
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from accesmt.matching.candidates import (  # noqa: E402
    DISTANCE_BAND_KM,
    CandidateIndex,
    Declaration,
    HouseholdNeeds,
    explain_exclusions,
    rank_candidates,
)
from accesmt.territory.distances import haversine_km_many  # noqa: E402

COMMUNES = ROOT / "accesmt" / "territory" / "data" / "communes.csv.gz"
MAINLAND = {"lat": (42.3, 51.1), "lon": (-4.8, 8.2)}


def load_communes():
    """(lat, lon, population, insee) of mainland communes, or None when the file is missing."""
    if not COMMUNES.exists():
        return None
    lat, lon, pop, insee = [], [], [], []
    with gzip.open(COMMUNES, "rt", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if not row["latitude"] or row["departement"] >= "97":
                continue
            lat.append(float(row["latitude"]))
            lon.append(float(row["longitude"]))
            pop.append(max(int(row["population"] or 0), 1))
            insee.append(row["insee"])
    return np.array(lat), np.array(lon), np.array(pop, dtype=float), np.array(insee)


def draw_points(rng, n, communes):
    """n points: a commune drawn by population, then a jitter that grows with its size."""
    if communes is None:
        return (
            rng.uniform(*MAINLAND["lat"], n),
            rng.uniform(*MAINLAND["lon"], n),
            np.array(["00000"] * n),
        )
    lat, lon, pop, insee = communes
    pick = rng.choice(len(lat), size=n, p=pop / pop.sum())
    spread_km = np.clip(0.02 * np.sqrt(pop[pick]), 0.5, 4.0)
    dlat = rng.normal(0, 1, n) * spread_km / 111.195
    dlon = rng.normal(0, 1, n) * spread_km / (111.195 * np.cos(np.radians(lat[pick])))
    return lat[pick] + dlat, lon[pick] + dlon, insee[pick]


def build_directory(rng, n_sites, communes) -> CandidateIndex:
    lat, lon, insee = draw_points(rng, n_sites, communes)
    # ~15 % of GPs have a second site nearby
    practitioner = np.arange(n_sites)
    second = rng.random(n_sites) < 0.15
    practitioner[1:][second[1:]] = practitioner[:-1][second[1:]]
    declaration = rng.choice(
        [Declaration.NONE, Declaration.EXPIRED, Declaration.VALID], n_sites, p=[0.4, 0.1, 0.5]
    )
    capacity = rng.integers(0, 8, n_sites)[practitioner]
    profiles = np.zeros(n_sites, dtype=np.int16)
    for bit, share in zip((1, 2, 4, 8, 16, 32), (0.8, 0.85, 0.8, 0.9, 0.4, 0.85), strict=True):
        profiles |= np.where(rng.random(n_sites) < share, bit, 0).astype(np.int16)
    radius = np.where(profiles & 16, rng.uniform(3, 15, n_sites), np.nan)
    communes_zone = [
        {insee[i]} if profiles[i] & 16 and rng.random() < 0.3 else None for i in range(n_sites)
    ]
    return CandidateIndex.build(
        site_id=np.arange(n_sites),
        practitioner_id=practitioner,
        latitude=lat,
        longitude=lon,
        declaration=declaration[practitioner],
        accepting=(rng.random(n_sites) < 0.6)[practitioner],
        remaining_capacity=capacity,
        profiles=profiles[practitioner],
        visit_radius_km=radius,
        visit_communes=communes_zone,
        load=np.round(rng.random(n_sites), 2)[practitioner],
    )


def draw_households(rng, n, communes):
    lat, lon, insee = draw_points(rng, n, communes)
    result = []
    for i in range(n):
        result.append(
            HouseholdNeeds.from_flags(
                latitude=float(lat[i]),
                longitude=float(lon[i]),
                commune_insee=str(insee[i]),
                children_under_6=rng.random() < 0.15,
                aged_70_plus=rng.random() < 0.25,
                ald=rng.random() < 0.3,
                css_ame=rng.random() < 0.1,
                home_visits=rng.random() < 0.08,
                members=int(rng.choice([1, 1, 1, 2, 3])),
            )
        )
    return result


def brute_force(index: CandidateIndex, household: HouseholdNeeds, max_km: float, limit: int):
    """The same answer by scanning every site with haversine (numpy, no tree)."""
    km = haversine_km_many(household.latitude, household.longitude, index.latitude, index.longitude)
    need = household.required_profiles
    ok = (
        (index.declaration == Declaration.VALID)
        & index.accepting
        & (index.remaining_capacity > 0)
        & ((index.profiles & need) == need)
        & (km <= max_km)
    )
    if household.needs_home_visits:
        covered = km <= index.visit_radius_km
        zone = index.zone_sites.get(household.commune_insee)
        if zone is not None:
            covered[zone] = True
        ok &= covered
    rows = np.flatnonzero(ok)
    order = np.lexsort(
        (
            index.practitioner_id[rows],
            km[rows],
            index.load[rows],
            np.floor(km[rows] / DISTANCE_BAND_KM),
        )
    )
    pids = index.practitioner_id[rows[order]]
    _, first = np.unique(pids, return_index=True)
    return pids[np.sort(first)][:limit].tolist()


def percentiles(samples_ns):
    ms = np.array(samples_ns) / 1e6
    return np.percentile(ms, [50, 95, 99])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=60_000)
    parser.add_argument("--queries", type=int, default=1_000)
    parser.add_argument("--limit", type=int, default=10)
    parser.add_argument("--max-km", type=float, default=15.0)
    parser.add_argument("--seed", type=int, default=2025)
    args = parser.parse_args()

    rng = np.random.default_rng(args.seed)
    communes = load_communes()
    source = "communes.csv.gz, weighted by population" if communes else "uniform (no commune file)"
    started = time.perf_counter()
    index = build_directory(rng, args.sites, communes)
    build_s = time.perf_counter() - started
    households = draw_households(rng, args.queries, communes)
    print(
        f"practice sites: {len(index):,} ({source}); open to new patients: "
        f"{int(index.open_mask.sum()):,}; GPs: {len(index.sites_of):,}"
    )
    print(f"index build: {build_s * 1000:.0f} ms")

    for household in households[:20]:  # warm-up
        rank_candidates(index, household, max_distance_km=args.max_km, limit=args.limit)

    tree_ns, scan_ns, mismatches, empty = [], [], 0, 0
    for household in households:
        t0 = time.perf_counter_ns()
        got = rank_candidates(index, household, max_distance_km=args.max_km, limit=args.limit)
        t1 = time.perf_counter_ns()
        expected = brute_force(index, household, args.max_km, args.limit)
        t2 = time.perf_counter_ns()
        tree_ns.append(t1 - t0)
        scan_ns.append(t2 - t1)
        mismatches += [c.practitioner_id for c in got] != expected
        empty += not got

    print(
        f"{args.queries} queries, all filters, top {args.limit} within {args.max_km:g} km "
        f"({empty} households with no candidate)"
    )
    print(f"{'':28}{'p50':>9}{'p95':>9}{'p99':>9}  (ms per query)")
    for name, samples in (("KD-tree engine", tree_ns), ("brute-force haversine scan", scan_ns)):
        p50, p95, p99 = percentiles(samples)
        print(f"{name:28}{p50:9.3f}{p95:9.3f}{p99:9.3f}")
    p95 = percentiles(tree_ns)[1]
    print(f"identical answers: {args.queries - mismatches}/{args.queries}")
    print(f"target p95 ≤ 1 ms: {'met' if p95 <= 1.0 else 'NOT met'} ({p95:.3f} ms)")

    # explaining exclusions for the GPs of a CPTS-sized area (~25 km around the household)
    explain_ns = []
    for household in households[:200]:
        near = index.tree.query_ball_point(
            np.array(
                [
                    math.cos(math.radians(household.latitude))
                    * math.cos(math.radians(household.longitude)),
                    math.cos(math.radians(household.latitude))
                    * math.sin(math.radians(household.longitude)),
                    math.sin(math.radians(household.latitude)),
                ]
            ),
            25 / 6371.0,
        )
        pids = np.unique(index.practitioner_id[near])
        t0 = time.perf_counter_ns()
        explain_exclusions(index, household, pids, max_distance_km=args.max_km)
        explain_ns.append(time.perf_counter_ns() - t0)
    p50, p95, p99 = percentiles(explain_ns)
    print(f"explain_exclusions for the GPs within 25 km: p50 {p50:.3f} ms, p95 {p95:.3f} ms")


if __name__ == "__main__":
    main()
