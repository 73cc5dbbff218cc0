"""Small builders for the matching tests (plain arrays, no database)."""

from __future__ import annotations

import numpy as np

from accesmt.matching.candidates import CandidateIndex, Declaration, Profile
from tests.worlds import ORIGIN, point_at

__all__ = ["ALL_PROFILES", "ORIGIN", "gp", "index_of", "point_at", "random_index"]

ALL_PROFILES = int(sum(Profile))


def gp(pid, *, north=0.0, east=0.0, site=None, **fields):
    lat, lon = point_at(north, east)
    row = {
        "site_id": site if site is not None else pid,
        "practitioner_id": pid,
        "latitude": lat,
        "longitude": lon,
        "declaration": Declaration.VALID,
        "accepting": True,
        "remaining_capacity": 3,
        "profiles": ALL_PROFILES,
        "visit_radius_km": np.nan,
        "visit_communes": None,
        "load": 0.0,
    }
    row.update(fields)
    return row


def index_of(*rows) -> CandidateIndex:
    columns = {key: [row[key] for row in rows] for key in rows[0]}
    return CandidateIndex.build(**columns)


def random_index(rng, n, *, lat=(46.0, 48.0), lon=(-2.0, 1.0), sites_per_gp=1) -> CandidateIndex:
    return CandidateIndex.build(
        site_id=np.arange(n),
        practitioner_id=np.arange(n) // sites_per_gp,
        latitude=rng.uniform(*lat, n),
        longitude=rng.uniform(*lon, n),
        declaration=rng.choice([0, 1, 2, 2, 2, 2], n),
        accepting=rng.random(n) < 0.7,
        remaining_capacity=np.repeat(rng.integers(0, 5, -(-n // sites_per_gp)), sites_per_gp)[:n],
        profiles=rng.integers(0, 64, n),
        visit_radius_km=np.where(rng.random(n) < 0.5, rng.uniform(2, 20, n), np.nan),
        load=np.round(rng.random(n), 1),
    )
