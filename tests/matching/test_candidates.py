import math

import numpy as np
import pytest

from accesmt.matching.candidates import (
    DISTANCE_BAND_KM,
    Declaration,
    HouseholdNeeds,
    Profile,
    chord_from_km,
    explain_exclusions,
    format_km,
    km_from_chord,
    rank_candidates,
    unit_xyz,
)
from accesmt.territory.distances import haversine_km, haversine_km_many

from .helpers import ALL_PROFILES, ORIGIN, gp, index_of, point_at, random_index

HOME = HouseholdNeeds(latitude=ORIGIN[0], longitude=ORIGIN[1], commune_insee="44109")


def ids(candidates):
    return [c.practitioner_id for c in candidates]


def test_format_km_uses_decimal_comma_and_whole_km_beyond_ten():
    assert format_km(2.34) == "2,3 km"
    assert format_km(23.4) == "23 km"
    assert format_km(15) == "15 km"


@pytest.mark.parametrize(
    ("fields", "household", "expected"),
    [
        (
            {"declaration": Declaration.NONE, "accepting": False},
            HOME,
            "n'a pas déclaré ses disponibilités",
        ),
        ({"accepting": False}, HOME, "n'accepte pas de nouveaux patients"),
        ({"declaration": Declaration.EXPIRED}, HOME, "déclaration expirée"),
        ({"remaining_capacity": 0}, HOME, "capacité du mois atteinte"),
        (
            {"remaining_capacity": 2},
            HouseholdNeeds.from_flags(latitude=ORIGIN[0], longitude=ORIGIN[1], members=3),
            "foyer de 3 personnes pour 2 places restantes ce mois-ci "
            "(un foyer n'est pas séparé entre médecins)",
        ),
        (
            {"profiles": ALL_PROFILES & ~Profile.CHILDREN_UNDER_6},
            HouseholdNeeds.from_flags(
                latitude=ORIGIN[0], longitude=ORIGIN[1], children_under_6=True
            ),
            "ne prend pas les enfants de moins de 6 ans",
        ),
        (
            {"profiles": ALL_PROFILES & ~Profile.ALD},
            HouseholdNeeds.from_flags(latitude=ORIGIN[0], longitude=ORIGIN[1], ald=True),
            "n'accepte pas les patients en ALD",
        ),
        (
            {"profiles": ALL_PROFILES & ~Profile.HOUSEHOLDS},
            HouseholdNeeds.from_flags(latitude=ORIGIN[0], longitude=ORIGIN[1], members=3),
            "ne prend pas les foyers de plusieurs personnes",
        ),
        (
            {"visit_radius_km": 1.0},
            HouseholdNeeds.from_flags(latitude=ORIGIN[0], longitude=ORIGIN[1], home_visits=True),
            "zone de visites à domicile ne couvre pas l'adresse",
        ),
        ({"north": 23.0}, HOME, "trop loin (23 km > 15 km)"),
    ],
)
def test_each_exclusion_reason(fields, household, expected):
    fields = {"north": 2.0, **fields}
    index = index_of(gp(1, **fields), gp(2, north=3.0, visit_radius_km=10.0))
    assert ids(rank_candidates(index, household, max_distance_km=15, limit=10)) == [2]
    (exclusion,) = explain_exclusions(index, household, [1, 2], max_distance_km=15)
    assert (exclusion.practitioner_id, exclusion.reason) == (1, expected)


def test_first_reason_wins_when_several_checks_fail():
    index = index_of(gp(1, north=40, accepting=False, remaining_capacity=0))
    (exclusion,) = explain_exclusions(index, HOME, max_distance_km=15)
    assert exclusion.reason == "n'accepte pas de nouveaux patients"


def test_home_visits_covered_by_radius_or_by_commune_list():
    visits = HouseholdNeeds.from_flags(
        latitude=ORIGIN[0], longitude=ORIGIN[1], commune_insee="44109", home_visits=True
    )
    index = index_of(
        gp(1, north=4, visit_radius_km=5.0),
        gp(2, north=6, visit_radius_km=5.0),
        gp(3, north=7, visit_communes={"44109", "44020"}),
        gp(4, north=8, visit_communes={"44020"}),
        gp(5, north=9, profiles=ALL_PROFILES & ~Profile.HOME_VISITS, visit_radius_km=20.0),
    )
    assert ids(rank_candidates(index, visits, max_distance_km=15, limit=None)) == [1, 3]
    reasons = {
        e.practitioner_id: e.reason for e in explain_exclusions(index, visits, max_distance_km=15)
    }
    assert reasons == {
        2: "zone de visites à domicile ne couvre pas l'adresse",
        4: "zone de visites à domicile ne couvre pas l'adresse",
        5: "ne fait pas de visites à domicile",
    }
    # without a home-visit need every one of them qualifies
    assert len(rank_candidates(index, HOME, max_distance_km=15, limit=None)) == 5


def test_ranked_by_distance_band_then_load():
    index = index_of(
        gp(1, north=0.2, load=0.9),
        gp(2, north=0.7, load=0.1),  # same 1 km band as 1, less solicited: first
        gp(3, north=1.5, load=0.0),  # next band: after both, whatever its load
        gp(4, north=1.9, load=0.0),  # same band and load as 3, farther: after 3
    )
    assert DISTANCE_BAND_KM == 1.0
    assert ids(rank_candidates(index, HOME, max_distance_km=15, limit=10)) == [2, 1, 3, 4]
    assert ids(rank_candidates(index, HOME, max_distance_km=15, limit=2)) == [2, 1]


def test_candidate_shows_distance_and_reasons():
    household = HouseholdNeeds.from_flags(latitude=ORIGIN[0], longitude=ORIGIN[1], ald=True)
    index = index_of(gp(7, north=2.3, remaining_capacity=2, load=0.5))
    (candidate,) = rank_candidates(index, household, max_distance_km=15)
    assert candidate.distance_km == pytest.approx(2.3, abs=0.01)
    assert candidate.reasons[0] == "à 2,3 km"
    assert "accepte les patients en ALD" in candidate.reasons
    assert "accepte de nouveaux patients : encore 2 personnes ce mois-ci" in candidate.reasons
    assert "sollicitations du mois : 50 % de sa capacité" in candidate.reasons


def test_a_household_takes_one_place_per_person_and_is_never_split():
    family = HouseholdNeeds.from_flags(latitude=ORIGIN[0], longitude=ORIGIN[1], members=3)
    assert family.persons == 3
    index = index_of(
        gp(1, north=1, remaining_capacity=1),
        gp(2, north=2, remaining_capacity=2),
        gp(3, north=3, remaining_capacity=3),
        gp(4, north=4, remaining_capacity=5),
    )
    # GP 1 and 2 together have 3 places, but the household stays with one GP
    assert ids(rank_candidates(index, family, max_distance_km=15, limit=None)) == [3, 4]
    reasons = {
        e.practitioner_id: e.reason
        for e in explain_exclusions(index, family, [1, 2], max_distance_km=15)
    }
    assert reasons == {
        1: "foyer de 3 personnes pour 1 place restante ce mois-ci "
        "(un foyer n'est pas séparé entre médecins)",
        2: "foyer de 3 personnes pour 2 places restantes ce mois-ci "
        "(un foyer n'est pas séparé entre médecins)",
    }
    # a person alone fits every one of them
    assert ids(rank_candidates(index, HOME, max_distance_km=15, limit=None)) == [1, 2, 3, 4]


def test_gp_with_several_sites_listed_once_at_its_nearest_qualifying_site():
    visits = HouseholdNeeds.from_flags(
        latitude=ORIGIN[0], longitude=ORIGIN[1], commune_insee="44109", home_visits=True
    )
    index = index_of(
        gp(1, site=10, north=1, visit_radius_km=0.5),  # nearest, zone does not reach the address
        gp(1, site=11, north=5, visit_radius_km=8.0),
        gp(1, site=12, north=6, visit_radius_km=8.0),
    )
    (candidate,) = rank_candidates(index, visits, max_distance_km=15, limit=None)
    assert candidate.site_id == 11
    assert explain_exclusions(index, visits, max_distance_km=15) == []


def test_excluded_gp_judged_at_its_most_favourable_site():
    visits = HouseholdNeeds.from_flags(latitude=ORIGIN[0], longitude=ORIGIN[1], home_visits=True)
    # near site fails on the visit zone, far site only on distance: the far one is shown
    index = index_of(
        gp(1, site=10, north=1, visit_radius_km=0.5), gp(1, site=11, north=30, visit_radius_km=40)
    )
    (exclusion,) = explain_exclusions(index, visits, max_distance_km=15)
    assert (exclusion.site_id, exclusion.reason) == (11, "trop loin (30 km > 15 km)")
    # both fail at the same check: the nearest site is shown
    index = index_of(gp(1, site=10, north=20), gp(1, site=11, north=30))
    (exclusion,) = explain_exclusions(index, HOME, max_distance_km=15)
    assert (exclusion.site_id, exclusion.reason) == (10, "trop loin (20 km > 15 km)")


def test_chord_distance_matches_haversine_within_one_metre_up_to_50_km():
    rng = np.random.default_rng(3)
    lat = rng.uniform(41.3, 51.1, 2000)
    lon = rng.uniform(-5.2, 9.6, 2000)
    bearing = rng.uniform(0, 2 * math.pi, 2000)
    km = rng.uniform(0, 50, 2000)
    lat2 = lat + km * np.cos(bearing) / 111.195
    lon2 = lon + km * np.sin(bearing) / (111.195 * np.cos(np.radians(lat)))
    chord = np.linalg.norm(unit_xyz(lat, lon) - unit_xyz(lat2, lon2), axis=1)
    ours = km_from_chord(chord)
    reference = np.array([haversine_km(*args) for args in zip(lat, lon, lat2, lon2, strict=True)])
    assert np.abs(ours - reference).max() < 0.001
    assert km_from_chord(chord_from_km(37.5)) == pytest.approx(37.5, abs=1e-9)


def brute_force(index, household, max_km, limit):
    """Scan every site with haversine and the rules written out again, independently."""
    km = haversine_km_many(household.latitude, household.longitude, index.latitude, index.longitude)
    need = household.required_profiles
    ok = (
        (index.declaration == Declaration.VALID)
        & index.accepting
        & (index.remaining_capacity >= household.persons)
        & ((index.profiles & need) == need)
        & (km <= max_km)
    )
    if household.needs_home_visits:
        in_list = np.zeros(len(index), dtype=bool)
        in_list[index.zone_sites.get(household.commune_insee, [])] = True
        ok &= (km <= index.visit_radius_km) | in_list
    rows = [int(r) for r in np.flatnonzero(ok)]
    rows.sort(
        key=lambda r: (math.floor(km[r]), index.load[r], km[r], int(index.practitioner_id[r]))
    )
    seen, result = set(), []
    for r in rows:
        if int(index.practitioner_id[r]) not in seen:
            seen.add(int(index.practitioner_id[r]))
            result.append((int(index.practitioner_id[r]), int(index.site_id[r]), km[r]))
    return result if limit is None else result[:limit]


@pytest.mark.parametrize("limit", [1, 3, 10, None])
def test_kd_tree_equals_brute_force_scan_on_random_data(limit):
    rng = np.random.default_rng(limit or 99)
    index = random_index(rng, 3000)
    for _ in range(60):
        household = HouseholdNeeds.from_flags(
            latitude=rng.uniform(46.0, 48.0),
            longitude=rng.uniform(-2.0, 1.0),
            children_under_6=rng.random() < 0.3,
            ald=rng.random() < 0.3,
            home_visits=rng.random() < 0.3,
            members=int(rng.integers(1, 4)),
        )
        max_km = float(rng.choice([5.0, 15.0, 40.0]))
        got = rank_candidates(index, household, max_distance_km=max_km, limit=limit)
        expected = brute_force(index, household, max_km, limit)
        assert [(c.practitioner_id, c.site_id) for c in got] == [e[:2] for e in expected]
        assert np.allclose([c.distance_km for c in got], [e[2] for e in expected], atol=1e-6)
        # every GP is either a candidate or excluded with a reason, never both
        if limit is None:
            excluded = explain_exclusions(index, household, max_distance_km=max_km)
            assert {e.practitioner_id for e in excluded}.isdisjoint(ids(got))
            assert len(excluded) + len(got) == len(index)


def test_explain_exclusions_only_for_given_gps_and_empty_index():
    index = index_of(gp(1, north=1, accepting=False), gp(2, north=2, accepting=False))
    assert [e.practitioner_id for e in explain_exclusions(index, HOME, [2], max_distance_km=5)] == [
        2
    ]
    assert explain_exclusions(index, HOME, [99], max_distance_km=5) == []
    assert rank_candidates(index, HOME, max_distance_km=5) == []
    lat, lon = point_at(0, 0)
    assert (lat, lon) == ORIGIN
