import itertools

import numpy as np
import pytest

from accesmt.matching.allocation import (
    CAPACITY_TAKEN,
    HOUSEHOLD_TOO_BIG,
    NO_ELIGIBLE_GP,
    PRIORITY_BONUS,
    HouseholdBatch,
    allocate,
    allocate_greedy,
    build_arcs,
    household_weight,
)
from accesmt.matching.candidates import Profile
from accesmt.territory.distances import haversine_km

from .helpers import ALL_PROFILES, gp, index_of, point_at, random_index


def households(*rows, max_km=15.0):
    """rows: dicts with north/east (km), priority, days, profiles, visits, commune, persons."""
    points = [point_at(r.get("north", 0.0), r.get("east", 0.0)) for r in rows]
    return HouseholdBatch.build(
        household_id=[r.get("id", 100 + i) for i, r in enumerate(rows)],
        latitude=[p[0] for p in points],
        longitude=[p[1] for p in points],
        is_priority=[r.get("priority", False) for r in rows],
        waiting_days=[r.get("days", 0) for r in rows],
        required_profiles=[r.get("profiles", 0) for r in rows],
        needs_home_visits=[r.get("visits", False) for r in rows],
        max_distance_km=max_km,
        commune_insee=[r.get("commune", "44109") for r in rows],
        persons=[r.get("persons", 1) for r in rows],
    )


def pairs(proposal):
    return {a.household_id: a.practitioner_id for a in proposal.assignments()}


def test_weight_puts_priority_above_any_wait_then_weeks_of_waiting():
    assert household_weight(False, 0) == 1
    assert household_weight(False, 13) == 2
    assert household_weight(False, 10_000) == 1 + 104
    assert household_weight(True, 0) == 1 + PRIORITY_BONUS > household_weight(False, 10_000)


def test_priority_household_served_first_when_capacity_is_short():
    index = index_of(gp(1, remaining_capacity=1))
    batch = households(
        {"id": 1, "north": 0.5, "days": 300}, {"id": 2, "north": 9.0, "priority": True}
    )
    for method in (allocate, allocate_greedy):
        proposal = method(index, batch)
        assert pairs(proposal) == {2: 1}
        (left,) = proposal.unassigned()
        assert (left.household_id, left.code) == (1, CAPACITY_TAKEN)


def test_longest_waiting_served_first_then_distance_decides():
    index = index_of(gp(1, remaining_capacity=1))
    assert pairs(
        allocate(
            index, households({"id": 1, "north": 1, "days": 7}, {"id": 2, "north": 9, "days": 14})
        )
    ) == {2: 1}
    # same week of waiting: the nearer one
    assert pairs(
        allocate(
            index, households({"id": 1, "north": 1, "days": 8}, {"id": 2, "north": 9, "days": 13})
        )
    ) == {1: 1}


def test_exact_uses_the_second_gp_where_greedy_blocks_it():
    # household 1 (priority) can go to GP 1 or 2, household 2 only to GP 1 (GP 2 lacks children)
    index = index_of(
        gp(1, north=1, remaining_capacity=1),
        gp(2, north=5, remaining_capacity=1, profiles=ALL_PROFILES & ~Profile.CHILDREN_UNDER_6),
    )
    batch = households(
        {"id": 1, "north": 0, "priority": True},
        {"id": 2, "north": 1.5, "profiles": Profile.CHILDREN_UNDER_6},
    )
    assert pairs(allocate_greedy(index, batch)) == {1: 1}
    assert pairs(allocate(index, batch)) == {1: 2, 2: 1}


def test_capacities_distances_profiles_and_visit_zones_respected():
    rng = np.random.default_rng(5)
    index = random_index(rng, 400, sites_per_gp=2)
    n = 3000
    batch = HouseholdBatch.build(
        household_id=np.arange(n),
        latitude=rng.uniform(46.0, 48.0, n),
        longitude=rng.uniform(-2.0, 1.0, n),
        is_priority=rng.random(n) < 0.3,
        waiting_days=rng.integers(0, 400, n),
        required_profiles=rng.choice([0, 1, 2, 4, 32, 36], n),
        needs_home_visits=rng.random(n) < 0.2,
        max_distance_km=rng.choice([10.0, 15.0, 25.0], n),
    )
    proposal = allocate(index, batch)
    assert len(proposal.assigned_rows) > 100
    assert len(set(proposal.assigned_rows.tolist())) == len(proposal.assigned_rows)
    used = dict(zip(*np.unique(proposal.practitioner_id, return_counts=True), strict=True))
    for pid, count in used.items():
        rows = index.sites_of[int(pid)]
        assert count <= index.remaining_capacity[rows[0]]
        assert index.open_mask[rows].any()
    for a, row, site_row in zip(
        proposal.assignments(), proposal.assigned_rows, proposal.site_row, strict=True
    ):
        km = haversine_km(
            batch.latitude[row],
            batch.longitude[row],
            index.latitude[site_row],
            index.longitude[site_row],
        )
        assert a.distance_km == pytest.approx(km, abs=1e-6)
        assert km <= batch.max_distance_km[row]
        need = int(batch.required_profiles[row])
        assert int(index.profiles[site_row]) & need == need
        if batch.needs_home_visits[row]:
            assert km <= index.visit_radius_km[site_row]
    served = set(proposal.assigned_rows.tolist())
    assert served.isdisjoint(proposal.unassigned_rows.tolist())
    assert len(served) + len(proposal.unassigned_rows) == n


def test_home_visit_zone_given_as_communes_and_no_eligible_gp_reason():
    index = index_of(gp(1, north=3, visit_communes={"44109"}), gp(2, north=2))
    batch = households(
        {"id": 1, "visits": True, "commune": "44109"},
        {"id": 2, "visits": True, "commune": "44020"},
    )
    proposal = allocate(index, batch)
    assert pairs(proposal) == {1: 1}
    (left,) = proposal.unassigned()
    assert (left.household_id, left.code) == (2, NO_ELIGIBLE_GP)
    assert left.reason == "aucun médecin disponible et adapté au foyer à moins de 15 km"
    (assignment,) = proposal.assignments()
    assert assignment.reason == "médecin à 3,0 km ; en attente depuis moins d'une semaine"


def brute_force_optimum(arcs, weight, n_households, persons=None):
    """Every way of giving each household one GP or none, whole households, places in persons."""
    persons = np.ones(n_households, dtype=np.int64) if persons is None else persons
    options = [[None] for _ in range(n_households)]
    for i in range(len(arcs)):
        options[arcs.household[i]].append(i)
    best = 0
    for choice in itertools.product(*options):
        chosen = [i for i in choice if i is not None]
        used = np.bincount(
            arcs.practitioner[chosen],
            weights=persons[arcs.household[chosen]],
            minlength=len(arcs.capacity),
        )
        if (used <= arcs.capacity).all():
            value = sum(
                persons[arcs.household[i]] * (arcs.k * weight[arcs.household[i]] - arcs.units[i])
                for i in chosen
            )
            best = max(best, int(value))
    return best


def places_used(proposal, index):
    """Persons placed with each practitioner id by a proposal."""
    used = {}
    for row, pid in zip(proposal.assigned_rows, proposal.practitioner_id, strict=True):
        used[int(pid)] = used.get(int(pid), 0) + int(proposal.households.persons[row])
    return used


def test_a_household_uses_one_place_per_person():
    index = index_of(gp(1, remaining_capacity=3))
    batch = households(
        {"id": 1, "north": 1.0, "days": 70, "persons": 3, "profiles": int(Profile.HOUSEHOLDS)},
        {"id": 2, "north": 2.0, "days": 7},
    )
    for method in (allocate, allocate_greedy):
        proposal = method(index, batch)
        # the household of three fills the three places: the person alone waits
        assert pairs(proposal) == {1: 1}
        (left,) = proposal.unassigned()
        assert (left.household_id, left.code) == (2, CAPACITY_TAKEN)
        (assignment,) = proposal.assignments()
        assert assignment.reason == (
            "médecin à 1,0 km ; en attente depuis 10 semaines ; 3 personnes, 3 places"
        )


def test_a_household_larger_than_any_gp_places_is_not_proposed_nor_split():
    index = index_of(gp(1, north=1.0, remaining_capacity=2), gp(2, north=2.0, remaining_capacity=2))
    batch = households(
        {"id": 1, "priority": True, "persons": 3, "profiles": int(Profile.HOUSEHOLDS)},
        {"id": 2, "north": 0.5},
    )
    for method in (allocate, allocate_greedy):
        proposal = method(index, batch)
        assert pairs(proposal) == {2: 1}
        (left,) = proposal.unassigned()
        assert (left.household_id, left.code) == (1, HOUSEHOLD_TOO_BIG)
        assert left.reason == (
            "foyer de 3 personnes : aucun médecin adapté à moins de 15 km n'a autant de places "
            "restantes ce mois-ci (un foyer n'est pas séparé entre médecins)"
        )


def test_priority_person_outweighs_a_larger_household_for_the_last_places():
    index = index_of(gp(1, remaining_capacity=2))
    batch = households(
        {"id": 1, "days": 700, "persons": 2, "profiles": int(Profile.HOUSEHOLDS)},
        {"id": 2, "priority": True},
    )
    for method in (allocate, allocate_greedy):
        assert pairs(method(index, batch)) == {2: 1}


@pytest.mark.parametrize("seed", range(40))
def test_households_of_several_persons_kept_whole_within_capacity_none_left_with_room(seed):
    rng = np.random.default_rng(1000 + seed)
    n_gp, n_h = int(rng.integers(1, 4)), int(rng.integers(2, 7))
    index = index_of(
        *(
            gp(
                pid,
                north=float(rng.uniform(-8, 8)),
                east=float(rng.uniform(-8, 8)),
                remaining_capacity=int(rng.integers(1, 6)),
            )
            for pid in range(1, n_gp + 1)
        )
    )
    batch = households(
        *(
            {
                "north": float(rng.uniform(-8, 8)),
                "east": float(rng.uniform(-8, 8)),
                "priority": bool(rng.random() < 0.3),
                "days": int(rng.integers(0, 60)),
                "persons": int(rng.choice([1, 1, 2, 3, 4])),
            }
            for _ in range(n_h)
        ),
        max_km=10.0,
    )
    arcs = build_arcs(index, batch)
    exact = allocate(index, batch, arcs=arcs)
    capacity = dict(zip(arcs.practitioner_id.tolist(), arcs.capacity.tolist(), strict=True))
    for proposal in (exact, allocate_greedy(index, batch, arcs=arcs)):
        used = places_used(proposal, index)
        assert all(n <= capacity[pid] for pid, n in used.items())
        assert len(set(proposal.assigned_rows.tolist())) == len(proposal.assigned_rows)
        # no household left out while an eligible GP still has room for all of it
        for row in proposal.unassigned_rows.tolist():
            for pid in arcs.practitioner_id[arcs.practitioner[arcs.household == row]].tolist():
                assert capacity[pid] - used.get(pid, 0) < batch.persons[row]
    # the flow is an upper bound of the best whole-household proposal
    optimum = brute_force_optimum(arcs, batch.weight, n_h, batch.persons)
    assert exact.objective <= optimum <= exact.stats["upper_bound"]


@pytest.mark.parametrize("seed", range(25))
def test_exact_equals_enumerated_optimum_and_greedy_never_beats_it(seed):
    rng = np.random.default_rng(seed)
    n_gp, n_h = int(rng.integers(1, 4)), int(rng.integers(2, 7))
    index = index_of(
        *(
            gp(
                pid,
                north=float(rng.uniform(-8, 8)),
                east=float(rng.uniform(-8, 8)),
                remaining_capacity=int(rng.integers(1, 3)),
                profiles=int(rng.integers(0, 64)),
            )
            for pid in range(1, n_gp + 1)
        )
    )
    batch = households(
        *(
            {
                "north": float(rng.uniform(-8, 8)),
                "east": float(rng.uniform(-8, 8)),
                "priority": bool(rng.random() < 0.3),
                "days": int(rng.integers(0, 60)),
                "profiles": int(rng.choice([0, 1, 4, 32])),
            }
            for _ in range(n_h)
        ),
        max_km=10.0,
    )
    arcs = build_arcs(index, batch)
    exact = allocate(index, batch, arcs=arcs)
    assert exact.objective == brute_force_optimum(arcs, batch.weight, n_h)
    assert allocate_greedy(index, batch, arcs=arcs).objective <= exact.objective


def test_greedy_below_exact_on_random_instances():
    rng = np.random.default_rng(11)
    index = random_index(rng, 300)
    n = 4000
    batch = HouseholdBatch.build(
        household_id=np.arange(n),
        latitude=rng.uniform(46.0, 48.0, n),
        longitude=rng.uniform(-2.0, 1.0, n),
        is_priority=rng.random(n) < 0.3,
        waiting_days=rng.integers(0, 400, n),
        required_profiles=rng.choice([0, 1, 4, 32], n),
        needs_home_visits=np.zeros(n, dtype=bool),
        max_distance_km=15.0,
    )
    arcs = build_arcs(index, batch)
    exact = allocate(index, batch, arcs=arcs)
    greedy = allocate_greedy(index, batch, arcs=arcs)
    assert 0 < greedy.objective < exact.objective


def test_nothing_to_allocate():
    index = index_of(gp(1, accepting=False))
    proposal = allocate(index, households({"id": 1}))
    assert proposal.assignments() == [] and proposal.objective == 0
    assert [u.code for u in proposal.unassigned()] == [NO_ELIGIBLE_GP]
