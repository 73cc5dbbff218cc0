"""Queue-wide allocation: who should be offered to which GP, for a whole waiting list at once.

Plain Python on numpy arrays (the GP side is a `candidates.CandidateIndex`); see
docs/decisions/0007-matching-and-allocation.md for the objective and why min-cost flow.

Capacity is counted in persons: a household of n_h persons (its members) uses n_h of a GP's
places, and it is never split between GPs.

Objective (maximised by `allocate`; exactly when every household is one person, see below):

    V = Σ over assigned pairs (h → p) of  n_h·(K·W_h − u_hp)

- W_h = 1 + min(⌊waiting days / 7⌋, 104) + 105·[h is priority]  (`household_weight`): a priority
  household outweighs any non-priority one, then each full week of waiting counts (capped at two
  years), and every household is worth at least 1.
- u_hp = distance from h's address to p's nearest eligible practice, in whole 100 m units (rounded).
- K = 10·D + 1 where D is the largest distance limit in km, so K > any u_hp: one unit of weight
  (one week of waiting) is worth more than the longest allowed trip.

A pair is eligible when the GP is open (valid declaration, accepting, capacity left), accepts every
profile the household needs, covers the address with its home-visit zone when the household needs
visits, is within the household's distance limit (its CPTS setting), and has at least n_h places
left. Each household gets at most one GP (it stays together), each GP at most its remaining
capacity in persons.

Min-cost flow: every household node supplies n_h units (one per person); arcs household → GP
(capacity n_h, cost u_hp per unit), household → sink (capacity n_h, cost K·W_h per unit: "not
served"), GP → sink (capacity = remaining capacity, cost 0); the sink demands all units. Total
cost = Σ_h n_h·K·W_h − V, so the minimum-cost flow maximises V. All costs are non-negative
integers; OR-Tools `SimpleMinCostFlow` solves it exactly. Each place is thus worth the weight of the
person who takes it: a priority person still outweighs any non-priority one.

A flow cannot say "all of the household or none of it": with n_h > 1 the optimum may send part of
a household to one GP and the rest elsewhere (or nowhere). `allocate` therefore keeps every
household whose whole flow goes to one GP, then completes: the households still unplaced (split
ones, and those the flow left out), heaviest first, each whole with the GP that received most of
it in the flow if it still has room, else with the nearest eligible GP that has room. No household
is left out while an eligible GP still has room for all of it. When every household is one person
no flow is ever split and nothing is left to complete: the result is the exact optimum. Otherwise
the flow's value is an upper bound of V (`stats["upper_bound"]`), so the gap is known;
`bench/bench_allocation.py` measures it (see docs/decisions/0007-matching-and-allocation.md).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.spatial import cKDTree

from .candidates import (
    CandidateIndex,
    chord_from_km,
    format_km,
    km_from_chord,
    unit_xyz,
)

WAITING_WEEKS_CAP = 104
PRIORITY_BONUS = WAITING_WEEKS_CAP + 1
DISTANCE_UNIT_KM = 0.1

NO_ELIGIBLE_GP = "no_eligible_gp"
CAPACITY_TAKEN = "capacity_taken"
HOUSEHOLD_TOO_BIG = "household_too_big"  # eligible GPs nearby, none with n_h places this month


def household_weight(is_priority, waiting_days) -> np.ndarray:
    """W_h (see the module docstring), vectorised."""
    weeks = np.minimum(np.asarray(waiting_days, dtype=np.int64) // 7, WAITING_WEEKS_CAP)
    return 1 + np.maximum(weeks, 0) + PRIORITY_BONUS * np.asarray(is_priority, dtype=np.int64)


@dataclass(eq=False)
class HouseholdBatch:
    """The waiting households, one row each."""

    household_id: np.ndarray  # int64
    latitude: np.ndarray
    longitude: np.ndarray
    is_priority: np.ndarray  # bool
    waiting_days: np.ndarray  # int64
    required_profiles: np.ndarray  # int16 `Profile` bits (union over members)
    needs_home_visits: np.ndarray  # bool
    max_distance_km: np.ndarray  # float, the limit of the household's CPTS
    commune_insee: np.ndarray | None = None  # str, for home-visit zones given as communes
    cpts_id: np.ndarray | None = None  # int64, the CPTS of each household (per-CPTS solving)
    persons: np.ndarray | None = None  # int64 members of each household (default: 1 each)

    def __post_init__(self):
        if self.persons is None:
            self.persons = np.ones(len(self.household_id), dtype=np.int64)

    @classmethod
    def build(
        cls,
        *,
        household_id: Sequence[int] | np.ndarray,
        latitude,
        longitude,
        is_priority,
        waiting_days,
        required_profiles,
        needs_home_visits,
        max_distance_km,
        commune_insee=None,
        cpts_id=None,
        persons=None,
    ) -> HouseholdBatch:
        household_id = np.asarray(household_id, dtype=np.int64)
        n = len(household_id)
        return cls(
            household_id=household_id,
            latitude=np.asarray(latitude, dtype=float),
            longitude=np.asarray(longitude, dtype=float),
            is_priority=np.asarray(is_priority, dtype=bool),
            waiting_days=np.asarray(waiting_days, dtype=np.int64),
            required_profiles=np.asarray(required_profiles, dtype=np.int16),
            needs_home_visits=np.asarray(needs_home_visits, dtype=bool),
            max_distance_km=np.broadcast_to(np.asarray(max_distance_km, dtype=float), (n,)).copy(),
            commune_insee=None
            if commune_insee is None
            else np.asarray(commune_insee, dtype=object),
            cpts_id=None if cpts_id is None else np.asarray(cpts_id, dtype=np.int64),
            persons=None if persons is None else np.maximum(np.asarray(persons, dtype=np.int64), 1),
        )

    def subset(self, rows: np.ndarray) -> HouseholdBatch:
        """The households at `rows` (e.g. those of one CPTS), as a new batch."""
        return HouseholdBatch(
            **{name: None if value is None else value[rows] for name, value in vars(self).items()}
        )

    def __len__(self) -> int:
        return len(self.household_id)

    @property
    def weight(self) -> np.ndarray:
        return household_weight(self.is_priority, self.waiting_days)


@dataclass(frozen=True)
class Assignment:
    household_id: int
    practitioner_id: int
    site_id: int
    distance_km: float
    reason: str


@dataclass(frozen=True)
class Unassigned:
    household_id: int
    code: str
    reason: str


@dataclass(eq=False)
class Arcs:
    """Eligible (household row, practitioner) pairs, each at the GP's nearest eligible site."""

    household: np.ndarray  # row in the batch
    practitioner: np.ndarray  # row in `practitioner_id`
    site_row: np.ndarray  # row in the index
    distance_km: np.ndarray
    units: np.ndarray  # int64 distance in DISTANCE_UNIT_KM
    practitioner_id: np.ndarray  # practitioner ids of the open GPs
    capacity: np.ndarray  # their remaining capacity (persons)
    k: int  # K of the objective
    # per household: it had eligible GPs, but none with as many places as it has persons
    too_big: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.household)


@dataclass(eq=False)
class Proposal:
    method: str
    households: HouseholdBatch
    index: CandidateIndex
    assigned_rows: np.ndarray  # household rows
    practitioner_id: np.ndarray
    site_row: np.ndarray
    distance_km: np.ndarray
    unassigned_rows: np.ndarray
    unassigned_code: np.ndarray  # str codes
    objective: int  # V
    stats: dict = field(default_factory=dict)

    def assignment_reasons(self) -> list[str]:
        """The French reason of each assignment, in `assigned_rows` order (no health data)."""
        hh = self.households
        rows = self.assigned_rows
        return [
            _assignment_reason(km, priority, days // 7, persons)
            for km, priority, days, persons in zip(
                self.distance_km.tolist(),
                hh.is_priority[rows].tolist(),
                hh.waiting_days[rows].tolist(),
                hh.persons[rows].tolist(),
                strict=True,
            )
        ]

    def unassigned_reasons(self) -> list[str]:
        """The French reason of each household left without a GP, in `unassigned_rows` order."""
        limits = self.households.max_distance_km[self.unassigned_rows].tolist()
        persons = self.households.persons[self.unassigned_rows].tolist()
        return [
            _unassigned_reason(code, km, n)
            for code, km, n in zip(self.unassigned_code.tolist(), limits, persons, strict=True)
        ]

    def assignments(self) -> list[Assignment]:
        hh = self.households
        return [
            Assignment(
                household_id=hid,
                practitioner_id=pid,
                site_id=site_id,
                distance_km=km,
                reason=reason,
            )
            for hid, pid, site_id, km, reason in zip(
                hh.household_id[self.assigned_rows].tolist(),
                self.practitioner_id.tolist(),
                self.index.site_id[self.site_row].tolist(),
                self.distance_km.tolist(),
                self.assignment_reasons(),
                strict=True,
            )
        ]

    def unassigned(self) -> list[Unassigned]:
        return [
            Unassigned(hid, code, reason)
            for hid, code, reason in zip(
                self.households.household_id[self.unassigned_rows].tolist(),
                self.unassigned_code.tolist(),
                self.unassigned_reasons(),
                strict=True,
            )
        ]


def _assignment_reason(km: float, priority: bool, weeks: int, persons: int = 1) -> str:
    waiting = (
        f"en attente depuis {weeks} semaine{'s' if weeks > 1 else ''}"
        if weeks
        else "en attente depuis moins d'une semaine"
    )
    size = f" ; {persons} personnes, {persons} places" if persons > 1 else ""
    if priority:
        return f"médecin à {format_km(km)} ; foyer prioritaire ; {waiting}{size}"
    return f"médecin à {format_km(km)} ; {waiting}{size}"


@functools.lru_cache(maxsize=256)
def _unassigned_reason(code: str, max_km: float, persons: int = 1) -> str:
    if code == NO_ELIGIBLE_GP:
        return f"aucun médecin disponible et adapté au foyer à moins de {format_km(max_km)}"
    if code == HOUSEHOLD_TOO_BIG:
        return (
            f"foyer de {persons} personnes : aucun médecin adapté à moins de {format_km(max_km)} "
            "n'a autant de places restantes ce mois-ci (un foyer n'est pas séparé entre médecins)"
        )
    return (
        "les médecins adaptés à proximité n'ont plus de place : elles sont proposées "
        "à des foyers prioritaires ou qui attendent depuis plus longtemps"
    )


def build_arcs(index: CandidateIndex, households: HouseholdBatch, *, chunk: int = 100_000) -> Arcs:
    """All eligible pairs, vectorised: KD-tree joins of `chunk` households at a time against the
    open sites (bounded memory), then numpy masks."""
    open_rows = np.flatnonzero(index.open_mask)
    practitioner_id, site_practitioner = np.unique(
        index.practitioner_id[open_rows], return_inverse=True
    )
    capacity = np.zeros(len(practitioner_id), dtype=np.int64)
    capacity[site_practitioner] = index.remaining_capacity[open_rows]
    max_km = float(households.max_distance_km.max()) if len(households) else 0.0
    k = int(round(max_km / DISTANCE_UNIT_KM)) + 1
    empty = np.zeros(0, dtype=np.int64)
    no_household = np.zeros(len(households), dtype=bool)
    if not len(open_rows) or not len(households):
        return Arcs(
            empty, empty, empty, np.zeros(0), empty, practitioner_id, capacity, k, no_household
        )

    site_tree = cKDTree(index.xyz[open_rows])
    radius = float(chord_from_km(max_km)) * (1 + 1e-12)
    parts = []
    for start in range(0, len(households), chunk):
        rows_h = np.arange(start, min(start + chunk, len(households)))
        household_tree = cKDTree(
            unit_xyz(households.latitude[rows_h], households.longitude[rows_h]).reshape(-1, 3)
        )
        pairs = household_tree.sparse_distance_matrix(site_tree, radius, output_type="ndarray")
        parts.append(_eligible(index, households, open_rows, site_practitioner, rows_h, pairs))
        del pairs, household_tree
    h, p, rows, km = (np.concatenate([part[i] for part in parts]) for i in range(4))
    # a household is never split: a GP with fewer places than its persons cannot take it
    fits = capacity[p] >= households.persons[h]
    eligible = no_household.copy()
    eligible[h] = True
    h, p, rows, km = h[fits], p[fits], rows[fits], km[fits]
    too_big = eligible.copy()
    too_big[h] = False
    units = np.rint(km / DISTANCE_UNIT_KM).astype(np.int64)
    return Arcs(h, p, rows, km, units, practitioner_id, capacity, k, too_big)


def _eligible(index, households, open_rows, site_practitioner, rows_h, pairs):
    """Filter one chunk of KD-tree pairs with numpy masks; one arc per (household, GP)."""
    h = rows_h[pairs["i"]]
    s = pairs["j"].astype(np.int64)
    km = km_from_chord(pairs["v"])
    rows = open_rows[s]
    need = households.required_profiles[h]
    keep = (km <= households.max_distance_km[h]) & ((index.profiles[rows] & need) == need)
    visits = households.needs_home_visits[h]
    if visits.any():
        covered = km <= index.visit_radius_km[rows]
        covered |= _in_commune_zone(index, households, h, rows)
        keep &= ~visits | covered
    h, s, rows, km = h[keep], s[keep], rows[keep], km[keep]
    p = site_practitioner[s]
    # One arc per (household, GP): its nearest eligible site. Only the pairs of GPs with several
    # open sites can repeat, so only those are sorted (most GPs have one site: the sort of every
    # pair was most of the time spent here).
    multi = np.bincount(site_practitioner)[p] > 1
    if not multi.any():
        return h, p, rows, km
    repeated = np.flatnonzero(multi)
    repeated = repeated[np.lexsort((km[repeated], p[repeated], h[repeated]))]
    first = np.ones(len(repeated), dtype=bool)
    first[1:] = (h[repeated][1:] != h[repeated][:-1]) | (p[repeated][1:] != p[repeated][:-1])
    kept = np.sort(np.concatenate([np.flatnonzero(~multi), repeated[first]]))
    return h[kept], p[kept], rows[kept], km[kept]


def _in_commune_zone(index, households, h, rows) -> np.ndarray:
    if households.commune_insee is None or not index.zone_sites:
        return np.zeros(len(h), dtype=bool)
    codes = sorted(index.zone_sites)
    code_of = {code: i for i, code in enumerate(codes)}
    n_codes = len(codes)
    zone_keys = np.sort(
        np.concatenate(
            [sites * n_codes + code_of[code] for code, sites in index.zone_sites.items()]
        )
    )
    household_code = np.array(
        [code_of.get(c, -1) for c in households.commune_insee.tolist()], dtype=np.int64
    )[h]
    keys = rows * n_codes + household_code
    pos = np.minimum(np.searchsorted(zone_keys, keys), len(zone_keys) - 1)
    return (household_code >= 0) & (zone_keys[pos] == keys)


def _proposal(method, index, households, arcs, chosen, stats) -> Proposal:
    """`chosen`: indices into `arcs` of the pairs kept (at most one per household)."""
    weight = households.weight
    assigned_rows = arcs.household[chosen]
    objective = int(
        (
            households.persons[assigned_rows]
            * (arcs.k * weight[assigned_rows] - arcs.units[chosen])
        ).sum()
    )
    served = np.zeros(len(households), dtype=bool)
    served[assigned_rows] = True
    has_arc = np.zeros(len(households), dtype=bool)
    has_arc[arcs.household] = True
    unassigned_rows = np.flatnonzero(~served)
    code = np.where(has_arc[unassigned_rows], CAPACITY_TAKEN, NO_ELIGIBLE_GP)
    if arcs.too_big is not None:
        code = np.where(arcs.too_big[unassigned_rows], HOUSEHOLD_TOO_BIG, code)
    order = np.lexsort((households.household_id[assigned_rows], -weight[assigned_rows]))
    chosen = chosen[order]
    return Proposal(
        method=method,
        households=households,
        index=index,
        assigned_rows=arcs.household[chosen],
        practitioner_id=arcs.practitioner_id[arcs.practitioner[chosen]],
        site_row=arcs.site_row[chosen],
        distance_km=arcs.distance_km[chosen],
        unassigned_rows=unassigned_rows,
        unassigned_code=code,
        objective=objective,
        stats=stats,
    )


def _relabel(values: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Like np.unique(values, return_inverse=True) for integers in [0, n), in O(n) (no sort)."""
    nodes = np.flatnonzero(np.bincount(values, minlength=n))
    local = np.zeros(n, dtype=np.int64)
    local[nodes] = np.arange(len(nodes))
    return nodes, local[values]


def _flow_round(arcs: Arcs, households: HouseholdBatch, active: np.ndarray, capacity_left):
    """The min-cost flow over the arcs `active` (indices into `arcs`), each household supplying
    one unit per person, each GP taking at most `capacity_left` units. Returns the flow on each
    active arc, the flow's value of V (an upper bound: households may be split) and the seconds
    spent building the graph and solving it."""
    from ortools.graph.python import min_cost_flow

    started = time.perf_counter()
    h_rows, p_rows = arcs.household[active], arcs.practitioner[active]
    # Nodes: households that have at least one arc, GPs that have at least one arc, the sink.
    h_nodes, h_local = _relabel(h_rows, len(households))
    p_nodes, p_local = _relabel(p_rows, len(arcs.practitioner_id))
    n_h, n_p = len(h_nodes), len(p_nodes)
    sink = n_h + n_p
    weight = households.weight[h_nodes]
    persons = households.persons[h_nodes]
    smcf = min_cost_flow.SimpleMinCostFlow()
    smcf.add_arcs_with_capacity_and_unit_cost(
        np.concatenate([h_local, np.arange(n_h), n_h + np.arange(n_p)]),
        np.concatenate([n_h + p_local, np.full(n_h, sink), np.full(n_p, sink)]),
        np.concatenate(
            [households.persons[h_rows], persons, capacity_left[p_nodes].astype(np.int64)]
        ),
        np.concatenate([arcs.units[active], arcs.k * weight, np.zeros(n_p, dtype=np.int64)]),
    )
    smcf.set_nodes_supplies(
        np.arange(sink + 1),
        np.concatenate([persons, np.zeros(n_p, dtype=np.int64), [-int(persons.sum())]]),
    )
    graph_done = time.perf_counter()
    status = smcf.solve() if n_h else smcf.OPTIMAL
    if status != smcf.OPTIMAL:
        raise RuntimeError(f"min-cost flow failed with status {status}")
    flows = smcf.flows(np.arange(len(active))) if len(active) else np.zeros(0, dtype=np.int64)
    value = int((persons * arcs.k * weight).sum()) - (smcf.optimal_cost() if n_h else 0)
    return flows, value, graph_done - started, time.perf_counter() - graph_done


def _complete(arcs, households, flow, placed, capacity_left) -> list[int]:
    """Place the households still unplaced, heaviest first (then by id), whole: with the GP that
    received most of the household in the flow if it has room, else the nearest eligible GP that
    has room. Updates `placed` and `capacity_left`; returns the arcs chosen."""
    persons = households.persons
    candidates = np.flatnonzero(
        ~placed[arcs.household] & (capacity_left[arcs.practitioner] >= persons[arcs.household])
    )
    h = arcs.household[candidates]
    # units before distance: the same order for the queue (units grow with distance), and the
    # earlier month first for a transfer plan's time-expanded arcs (orientation.transfers)
    order = np.lexsort(
        (
            arcs.distance_km[candidates],
            arcs.units[candidates],
            -flow[candidates],
            households.household_id[h],
            -households.weight[h],
        )
    )
    chosen = []
    for i in candidates[order].tolist():
        hh, p = int(arcs.household[i]), int(arcs.practitioner[i])
        if not placed[hh] and capacity_left[p] >= persons[hh]:
            placed[hh] = True
            capacity_left[p] -= persons[hh]
            chosen.append(i)
    return chosen


def allocate(
    index: CandidateIndex, households: HouseholdBatch, *, arcs: Arcs | None = None
) -> Proposal:
    """The optimum of V (module docstring) by min-cost flow, completed whole household by whole
    household where the flow split one (exact when every household is one person)."""
    started = time.perf_counter()
    if arcs is None:
        arcs = build_arcs(index, households)
    built = time.perf_counter()
    persons = households.persons
    capacity_left = arcs.capacity.astype(np.int64).copy()
    everything = np.arange(len(arcs))
    flow, upper_bound, graph_s, solve_s = _flow_round(arcs, households, everything, capacity_left)
    # the households the flow sends whole to one GP (at most one such arc per household)
    whole = np.flatnonzero(flow == persons[arcs.household])
    placed = np.zeros(len(households), dtype=bool)
    placed[arcs.household[whole]] = True
    np.subtract.at(capacity_left, arcs.practitioner[whole], persons[arcs.household[whole]])
    split = np.unique(arcs.household[(flow > 0) & (flow < persons[arcs.household])])
    completed = np.array(_complete(arcs, households, flow, placed, capacity_left), dtype=np.int64)
    chosen = np.sort(np.concatenate([whole, completed]))
    stats = {
        "arcs": len(arcs),
        "households_with_arcs": len(np.unique(arcs.household)),
        "gps_with_arcs": len(np.unique(arcs.practitioner)),
        "build_arcs_s": built - started,
        "build_graph_s": graph_s,
        "solve_s": solve_s,
        "split_households": len(split),
        "completed_households": len(completed),
        "upper_bound": upper_bound,
        "total_s": time.perf_counter() - started,
    }
    return _proposal("min_cost_flow", index, households, arcs, chosen, stats)


def allocate_greedy(
    index: CandidateIndex, households: HouseholdBatch, *, arcs: Arcs | None = None
) -> Proposal:
    """Baseline: households by decreasing weight (priority, then longest waiting, then id), each
    to its nearest eligible GP that still has room for all its persons."""
    started = time.perf_counter()
    if arcs is None:
        arcs = build_arcs(index, households)
    weight = households.weight
    order = np.lexsort(
        (arcs.distance_km, households.household_id[arcs.household], -weight[arcs.household])
    )
    capacity = arcs.capacity.tolist()
    persons = households.persons.tolist()
    served = bytearray(len(households))
    chosen = []
    hs = arcs.household[order].tolist()
    ps = arcs.practitioner[order].tolist()
    for i, h, p in zip(order.tolist(), hs, ps, strict=True):
        if not served[h] and capacity[p] >= persons[h]:
            served[h] = 1
            capacity[p] -= persons[h]
            chosen.append(i)
    stats = {"arcs": len(arcs), "total_s": time.perf_counter() - started}
    return _proposal("greedy", index, households, arcs, np.array(chosen, dtype=np.int64), stats)


__all__ = [
    "Arcs",
    "Assignment",
    "HouseholdBatch",
    "Proposal",
    "Unassigned",
    "allocate",
    "allocate_greedy",
    "build_arcs",
    "household_weight",
]
