"""Candidates for one request: which GPs can take this household, nearest and least solicited first.

Plain Python on numpy arrays, no Django: `selectors.py` builds the arrays from the models.

- `CandidateIndex.build(...)` takes one row per practice site (a GP with two practices has two
  rows sharing `practitioner_id`, capacity and declaration) and builds a `cKDTree` over the sites'
  3-D unit-sphere coordinates. The chord c between two points of the unit sphere and their
  great-circle distance d are tied exactly by d = 2R·asin(c/2), so a chord radius is an exact
  great-circle radius (the same sphere as `accesmt.territory.distances`).
- `rank_candidates(index, household, max_distance_km=…, limit=…)` returns the qualifying GPs
  (each once, at its nearest qualifying site), ranked by the key documented in `rank_key`.
- `explain_exclusions(index, household, practitioner_ids, max_distance_km=…)` gives, for every
  other GP, the first reason it is excluded, in the order of `EXCLUSION_ORDER`.

A GP qualifies at a site when: it has an availability declaration, accepting new patients, not
expired; it has enough places left this month for every person of the household (capacity is
counted in persons and a household is never split between GPs); its accepted profiles cover every
profile the household needs (`Profile` bits: the household stays together, so the union over its
members); when a member needs home visits, its home-visit zone (a radius around the site and/or a
set of communes) covers the address; and the site is within `max_distance_km` of the address.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import IntFlag

import numpy as np
from scipy.spatial import cKDTree

from accesmt.territory.distances import EARTH_RADIUS_KM

# Within one band the trip is considered the same and the least solicited GP comes first.
DISTANCE_BAND_KM = 1.0


class Profile(IntFlag):
    """Profiles a GP accepts (declaration) and a household needs (union over its members)."""

    CHILDREN_UNDER_6 = 1
    AGED_70_PLUS = 2
    ALD = 4
    CSS_AME = 8
    HOME_VISITS = 16
    HOUSEHOLDS = 32  # households of two people or more


PROFILE_ACCEPTED = {
    Profile.CHILDREN_UNDER_6: "prend les enfants de moins de 6 ans",
    Profile.AGED_70_PLUS: "prend les personnes de 70 ans et plus",
    Profile.ALD: "accepte les patients en ALD",
    Profile.CSS_AME: "accepte les patients bénéficiaires de la CSS ou de l'AME",
    Profile.HOME_VISITS: "fait des visites à domicile",
    Profile.HOUSEHOLDS: "prend les foyers de plusieurs personnes",
}
PROFILE_REFUSED = {
    Profile.CHILDREN_UNDER_6: "ne prend pas les enfants de moins de 6 ans",
    Profile.AGED_70_PLUS: "ne prend pas les personnes de 70 ans et plus",
    Profile.ALD: "n'accepte pas les patients en ALD",
    Profile.CSS_AME: "n'accepte pas les patients bénéficiaires de la CSS ou de l'AME",
    Profile.HOME_VISITS: "ne fait pas de visites à domicile",
    Profile.HOUSEHOLDS: "ne prend pas les foyers de plusieurs personnes",
}


class Declaration:
    """`CandidateIndex.declaration` values."""

    NONE = 0
    EXPIRED = 1
    VALID = 2


# Exclusion codes, in the order they are checked (the first that fails is the one shown).
NO_DECLARATION = "no_declaration"
NOT_ACCEPTING = "not_accepting"
EXPIRED = "expired"
CAPACITY_REACHED = "capacity_reached"
HOUSEHOLD_TOO_BIG = "household_too_big"  # places left, but fewer than the household's persons
PROFILE = "profile"
VISIT_ZONE = "visit_zone"
TOO_FAR = "too_far"
EXCLUSION_ORDER = (
    NO_DECLARATION,
    NOT_ACCEPTING,
    EXPIRED,
    CAPACITY_REACHED,
    HOUSEHOLD_TOO_BIG,
    PROFILE,
    VISIT_ZONE,
    TOO_FAR,
)
# One short label per code, for counts of the excluded GPs by reason (the row's own reason
# says more: the places left, the profile refused, the distance).
EXCLUSION_LABELS = {
    NO_DECLARATION: "disponibilités non déclarées",
    NOT_ACCEPTING: "n'acceptent pas de nouveaux patients",
    EXPIRED: "déclaration expirée",
    CAPACITY_REACHED: "capacité du mois atteinte",
    HOUSEHOLD_TOO_BIG: "pas assez de places pour ce foyer",
    PROFILE: "ne prennent pas ce profil de patient",
    VISIT_ZONE: "zone de visites à domicile hors de l'adresse",
    TOO_FAR: "trop loin",
}


def format_km(km: float) -> str:
    """2.34 → '2,3 km'; 23.4 → '23 km' (French decimal comma)."""
    if km >= 10:
        return f"{round(km):d} km"
    return f"{km:.1f} km".replace(".", ",")


def chord_from_km(km: float | np.ndarray) -> float | np.ndarray:
    """Great-circle distance (km) → chord on the unit sphere."""
    return 2.0 * np.sin(
        np.minimum(np.asarray(km, dtype=float) / (2.0 * EARTH_RADIUS_KM), np.pi / 2)
    )


def km_from_chord(chord: float | np.ndarray) -> np.ndarray:
    """Chord on the unit sphere → great-circle distance (km), exact on the sphere."""
    return 2.0 * EARTH_RADIUS_KM * np.arcsin(np.minimum(np.asarray(chord, dtype=float) / 2.0, 1.0))


def unit_xyz(lat, lon) -> np.ndarray:
    """Degrees → (n, 3) points on the unit sphere."""
    phi = np.radians(np.asarray(lat, dtype=float))
    lam = np.radians(np.asarray(lon, dtype=float))
    cos_phi = np.cos(phi)
    return np.stack([cos_phi * np.cos(lam), cos_phi * np.sin(lam), np.sin(phi)], axis=-1)


@dataclass(frozen=True)
class HouseholdNeeds:
    """What matters about one household for matching (no name, no health detail beyond bits)."""

    latitude: float
    longitude: float
    commune_insee: str = ""
    required_profiles: int = 0  # `Profile` bits, union over the members
    needs_home_visits: bool = False
    persons: int = 1  # members of the household: the places it takes with one GP

    @classmethod
    def from_flags(
        cls,
        *,
        latitude: float,
        longitude: float,
        commune_insee: str = "",
        children_under_6: bool = False,
        aged_70_plus: bool = False,
        ald: bool = False,
        css_ame: bool = False,
        home_visits: bool = False,
        members: int = 1,
    ) -> HouseholdNeeds:
        bits = Profile(0)
        for flag, bit in (
            (children_under_6, Profile.CHILDREN_UNDER_6),
            (aged_70_plus, Profile.AGED_70_PLUS),
            (ald, Profile.ALD),
            (css_ame, Profile.CSS_AME),
            (home_visits, Profile.HOME_VISITS),
            (members >= 2, Profile.HOUSEHOLDS),
        ):
            if flag:
                bits |= bit
        return cls(
            latitude=latitude,
            longitude=longitude,
            commune_insee=commune_insee,
            required_profiles=int(bits),
            needs_home_visits=home_visits,
            persons=max(members, 1),
        )


@dataclass(frozen=True)
class Candidate:
    practitioner_id: int
    site_id: int
    distance_km: float
    load: float
    remaining_capacity: int
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Exclusion:
    practitioner_id: int
    site_id: int
    distance_km: float
    code: str
    reason: str


@dataclass(eq=False)
class CandidateIndex:
    """Arrays over practice sites (one row each) and KD-trees over them. Build with `build`.

    `tree` covers every site; `open_tree` only the sites of GPs who can take someone this month
    (valid declaration, accepting, capacity left: `open_rows`), which is what a candidate search
    walks. The index is a snapshot: rebuild it when declarations or capacities change."""

    site_id: np.ndarray  # int64
    practitioner_id: np.ndarray  # int64
    latitude: np.ndarray
    longitude: np.ndarray
    xyz: np.ndarray  # (n, 3) unit sphere
    declaration: np.ndarray  # int8, `Declaration`
    accepting: np.ndarray  # bool
    remaining_capacity: np.ndarray  # int32, this month, per practitioner (repeated on its sites)
    profiles: np.ndarray  # int16 `Profile` bits accepted
    visit_radius_km: np.ndarray  # float, NaN = no radius
    load: np.ndarray  # float: solicitations this month / monthly capacity
    tree: cKDTree
    open_rows: np.ndarray  # int64 rows of the open sites, in `open_tree` order
    open_tree: cKDTree
    # commune INSEE code → sorted site row numbers whose home-visit zone lists that commune
    zone_sites: dict[str, np.ndarray] = field(default_factory=dict)
    # practitioner id → its site row numbers
    sites_of: dict[int, np.ndarray] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        *,
        site_id: Sequence[int] | np.ndarray,
        practitioner_id: Sequence[int] | np.ndarray,
        latitude: Sequence[float] | np.ndarray,
        longitude: Sequence[float] | np.ndarray,
        declaration: Sequence[int] | np.ndarray,
        accepting: Sequence[bool] | np.ndarray,
        remaining_capacity: Sequence[int] | np.ndarray,
        profiles: Sequence[int] | np.ndarray,
        visit_radius_km: Sequence[float] | np.ndarray | None = None,
        visit_communes: Sequence[Iterable[str] | None] | None = None,
        load: Sequence[float] | np.ndarray | None = None,
    ) -> CandidateIndex:
        site_id = np.asarray(site_id, dtype=np.int64)
        n = len(site_id)
        practitioner_id = np.asarray(practitioner_id, dtype=np.int64)
        latitude = np.asarray(latitude, dtype=float)
        longitude = np.asarray(longitude, dtype=float)
        if visit_radius_km is None:
            visit_radius_km = np.full(n, np.nan)
        zone_lists: dict[str, list[int]] = {}
        if visit_communes is not None:
            for row, communes in enumerate(visit_communes):
                for code in communes or ():
                    zone_lists.setdefault(code, []).append(row)
        order = np.argsort(practitioner_id, kind="stable")
        ids, starts = np.unique(practitioner_id[order], return_index=True)
        sites_of = {
            int(pid): rows
            for pid, rows in zip(
                ids, np.split(order, starts[1:]) if len(order) else [], strict=True
            )
        }
        xyz = unit_xyz(latitude, longitude)
        declaration = np.asarray(declaration, dtype=np.int8)
        accepting = np.asarray(accepting, dtype=bool)
        remaining_capacity = np.asarray(remaining_capacity, dtype=np.int32)
        open_rows = np.flatnonzero(
            (declaration == Declaration.VALID) & accepting & (remaining_capacity > 0)
        )
        return cls(
            site_id=site_id,
            practitioner_id=practitioner_id,
            latitude=latitude,
            longitude=longitude,
            xyz=xyz,
            declaration=declaration,
            accepting=accepting,
            remaining_capacity=remaining_capacity,
            profiles=np.asarray(profiles, dtype=np.int16),
            visit_radius_km=np.asarray(visit_radius_km, dtype=float),
            load=np.zeros(n) if load is None else np.asarray(load, dtype=float),
            tree=cKDTree(xyz.reshape(-1, 3)),
            open_rows=open_rows,
            open_tree=cKDTree(xyz.reshape(-1, 3)[open_rows]),
            zone_sites={code: np.array(rows, dtype=np.int64) for code, rows in zone_lists.items()},
            sites_of=sites_of,
        )

    def __len__(self) -> int:
        return len(self.site_id)

    @property
    def open_mask(self) -> np.ndarray:
        """Sites of GPs that can take someone this month, whatever the household."""
        return (
            (self.declaration == Declaration.VALID) & self.accepting & (self.remaining_capacity > 0)
        )


def _in_zone(index: CandidateIndex, rows: np.ndarray, km: np.ndarray, commune: str) -> np.ndarray:
    covered = km <= index.visit_radius_km[rows]  # NaN radius compares False
    zone = index.zone_sites.get(commune)
    if zone is not None and len(zone):
        covered |= np.isin(rows, zone, assume_unique=False)
    return covered


def _qualifies(
    index: CandidateIndex, rows: np.ndarray, km: np.ndarray, household: HouseholdNeeds, max_km
) -> np.ndarray:
    ok = (
        (index.declaration[rows] == Declaration.VALID)
        & index.accepting[rows]
        & (index.remaining_capacity[rows] >= max(household.persons, 1))
    )
    ok &= (index.profiles[rows] & household.required_profiles) == household.required_profiles
    ok &= km <= max_km
    if household.needs_home_visits:
        ok &= _in_zone(index, rows, km, household.commune_insee)
    return ok


def rank_key(distance_km: np.ndarray, load: np.ndarray, practitioner_id: np.ndarray):
    """The ranking, as `np.lexsort` keys (last key is the primary one):

    1. distance band: floor(distance / DISTANCE_BAND_KM) — within 1 km the trip is the same;
    2. load: solicitations this month / declared monthly capacity, lowest first, so that the same
       GPs are not always asked;
    3. exact distance, then practitioner id (a total, reproducible order).
    """
    band = np.floor(distance_km / DISTANCE_BAND_KM)
    return (practitioner_id, distance_km, load, band)


_ACCEPTED_TEXTS = tuple((int(bit), text) for bit, text in PROFILE_ACCEPTED.items())
_REFUSED_TEXTS = tuple((int(bit), text) for bit, text in PROFILE_REFUSED.items())


def _profile_reasons(household: HouseholdNeeds) -> list[str]:
    reasons = [text for bit, text in _ACCEPTED_TEXTS if household.required_profiles & bit]
    if household.needs_home_visits:
        reasons.append("l'adresse est dans sa zone de visites à domicile")
    return reasons


def places_left_text(left: int) -> str:
    """'encore 3 personnes ce mois-ci': places are counted in persons."""
    return f"encore {left} personne{'s' if left > 1 else ''} ce mois-ci"


def _candidate_reasons(
    index: CandidateIndex, row: int, km: float, profile_reasons: list[str]
) -> tuple[str, ...]:
    left = int(index.remaining_capacity[row])
    return (
        f"à {format_km(km)}",
        f"accepte de nouveaux patients : {places_left_text(left)}",
        *profile_reasons,
        f"sollicitations du mois : {round(100 * float(index.load[row]))} % de sa capacité",
    )


def _select(
    index: CandidateIndex,
    rows: np.ndarray,
    km: np.ndarray,
    household: HouseholdNeeds,
    limit: int | None,
) -> list[Candidate]:
    pids = index.practitioner_id[rows]
    order = np.lexsort(rank_key(km, index.load[rows], pids))
    # one entry per GP: its best-ranked site (all of a GP's rows share its load, so the nearest)
    _, first = np.unique(pids[order], return_index=True)
    order = order[np.sort(first)]
    if limit is not None:
        order = order[:limit]
    profile_reasons = _profile_reasons(household)
    return [
        Candidate(
            practitioner_id=int(pids[i]),
            site_id=int(index.site_id[rows[i]]),
            distance_km=float(km[i]),
            load=float(index.load[rows[i]]),
            remaining_capacity=int(index.remaining_capacity[rows[i]]),
            reasons=_candidate_reasons(index, int(rows[i]), float(km[i]), profile_reasons),
        )
        for i in order
    ]


def rank_candidates(
    index: CandidateIndex,
    household: HouseholdNeeds,
    *,
    max_distance_km: float,
    limit: int | None = 10,
) -> list[Candidate]:
    """The GPs who can take `household`, best first (see `rank_key`), at most `limit` of them.

    Grows k in k-nearest queries (bounded by the distance limit) until the `limit` best are
    certain: every site not yet returned lies in a farther distance band than the last kept
    candidate, so it would rank after it. `limit=None` returns every qualifying GP.
    """
    n = len(index.open_rows)
    if n == 0:
        return []
    point = unit_xyz(household.latitude, household.longitude)
    radius = float(chord_from_km(max_distance_km)) * (1 + 1e-12)
    if limit is None:
        found = np.asarray(index.open_tree.query_ball_point(point, radius), dtype=np.int64)
        rows = index.open_rows[found]
        km = km_from_chord(np.linalg.norm(index.xyz[rows] - point, axis=1))
        keep = _qualifies(index, rows, km, household, max_distance_km)
        return _select(index, rows[keep], km[keep], household, None)
    k = min(n, max(32, 8 * limit))
    while True:
        chord, found = index.open_tree.query(point, k=k, distance_upper_bound=radius)
        chord, found = np.atleast_1d(chord), np.atleast_1d(found)
        inside = found < n
        exhausted = not inside.all() or k == n
        rows, km = index.open_rows[found[inside]], km_from_chord(chord[inside])
        keep = _qualifies(index, rows, km, household, max_distance_km)
        if exhausted:
            return _select(index, rows[keep], km[keep], household, limit)
        kept_pids = index.practitioner_id[rows[keep]]
        if len(np.unique(kept_pids)) >= limit:
            chosen = _select(index, rows[keep], km[keep], household, limit)
            last_band = math.floor(chosen[-1].distance_km / DISTANCE_BAND_KM)
            if math.floor(km[-1] / DISTANCE_BAND_KM) > last_band:
                return chosen
        k = min(n, k * 4)


def _exclusion_codes(
    index: CandidateIndex, rows: np.ndarray, km: np.ndarray, household: HouseholdNeeds, max_km
) -> np.ndarray:
    """Per site: the index in EXCLUSION_ORDER of the first failing check, len(ORDER) if none."""
    stage = np.full(len(rows), len(EXCLUSION_ORDER), dtype=np.int8)
    checks = [
        index.declaration[rows] != Declaration.NONE,
        index.accepting[rows],
        index.declaration[rows] == Declaration.VALID,
        index.remaining_capacity[rows] > 0,
        index.remaining_capacity[rows] >= max(household.persons, 1),
        (index.profiles[rows] & household.required_profiles) == household.required_profiles,
        _in_zone(index, rows, km, household.commune_insee)
        if household.needs_home_visits
        else np.ones(len(rows), dtype=bool),
        km <= max_km,
    ]
    for position in range(len(checks) - 1, -1, -1):
        stage[~checks[position]] = position
    return stage


def household_too_big_text(persons: int, left: int) -> str:
    """The reason a GP is not proposed a household larger than their places left (kept whole)."""
    places = "1 place restante" if left == 1 else f"{left} places restantes"
    return (
        f"foyer de {persons} personnes pour {places} ce mois-ci "
        "(un foyer n'est pas séparé entre médecins)"
    )


def _exclusion_reason(
    code: str, index: CandidateIndex, row: int, km: float, household, max_km
) -> str:
    if code == NO_DECLARATION:
        return "n'a pas déclaré ses disponibilités"
    if code == NOT_ACCEPTING:
        return "n'accepte pas de nouveaux patients"
    if code == EXPIRED:
        return "déclaration expirée"
    if code == CAPACITY_REACHED:
        return "capacité du mois atteinte"
    if code == HOUSEHOLD_TOO_BIG:
        return household_too_big_text(household.persons, int(index.remaining_capacity[row]))
    if code == PROFILE:
        missing = household.required_profiles & ~int(index.profiles[row])
        return next(text for bit, text in _REFUSED_TEXTS if missing & bit)
    if code == VISIT_ZONE:
        return "zone de visites à domicile ne couvre pas l'adresse"
    return f"trop loin ({format_km(km)} > {format_km(max_km)})"


def explain_exclusions(
    index: CandidateIndex,
    household: HouseholdNeeds,
    practitioner_ids: Iterable[int] | None = None,
    *,
    max_distance_km: float,
) -> list[Exclusion]:
    """For each GP of `practitioner_ids` (default: the whole index) that does not qualify, the first
    reason it is excluded. A GP with several sites is judged at the site that passes the most
    checks (then the nearest). Qualifying GPs are left out. Sorted by distance."""
    if practitioner_ids is None:
        rows = np.arange(len(index), dtype=np.int64)
    else:
        wanted = np.unique(np.fromiter(practitioner_ids, dtype=np.int64))
        if len(wanted) > 256:  # many GPs: one vectorised pass beats dictionary look-ups
            rows = np.flatnonzero(np.isin(index.practitioner_id, wanted))
        else:
            parts = [index.sites_of.get(int(pid)) for pid in wanted.tolist()]
            parts = [p for p in parts if p is not None]
            rows = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
    if not len(rows):
        return []
    point = unit_xyz(household.latitude, household.longitude)
    km = km_from_chord(np.linalg.norm(index.xyz[rows] - point, axis=1))
    stage = _exclusion_codes(index, rows, km, household, max_distance_km)
    pids = index.practitioner_id[rows]
    # best site per GP: highest stage, then nearest
    order = np.lexsort((km, -stage.astype(np.int16), pids))
    _, first = np.unique(pids[order], return_index=True)
    best = order[first]
    best = best[stage[best] < len(EXCLUSION_ORDER)]
    best = best[np.argsort(km[best], kind="stable")]
    result = []
    for i in best:
        code = EXCLUSION_ORDER[stage[i]]
        row = int(rows[i])
        result.append(
            Exclusion(
                practitioner_id=int(pids[i]),
                site_id=int(index.site_id[row]),
                distance_km=float(km[i]),
                code=code,
                reason=_exclusion_reason(
                    code, index, row, float(km[i]), household, max_distance_km
                ),
            )
        )
    return result
