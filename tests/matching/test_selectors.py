import datetime

import numpy as np
import pytest
from django.utils import timezone

from accesmt.directory.models import PROFILE_FIELDS
from accesmt.intake.models import Coverage, HomeVisits, Status
from accesmt.matching.allocation import allocate
from accesmt.matching.candidates import Declaration, Profile, explain_exclusions, rank_candidates
from accesmt.matching.selectors import (
    UNKNOWN_CAPACITY,
    candidate_index,
    household_batch,
    household_needs,
    waiting_requests,
)
from tests.directory.factories import (
    AvailabilityDeclarationFactory,
    PracticeSiteFactory,
    territory_with,
)
from tests.intake.factories import HouseholdMemberFactory, RequestFactory
from tests.matching.factories import MatchingSettingsFactory
from tests.territory.factories import CommuneFactory, CPTSFactory

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2025, 6, 15)


def years_ago(years, days=0):
    return TODAY.replace(year=TODAY.year - years) - datetime.timedelta(days=days)


@pytest.fixture
def territory():
    cpts = CPTSFactory()
    here = CommuneFactory(insee_code="44109", latitude=47.2, longitude=-1.55)
    near = CommuneFactory(insee_code="44020", latitude=47.25, longitude=-1.55)  # ≈ 5.6 km
    territory_with(cpts, here, near)
    return cpts, here, near


def test_candidate_index_reads_latest_declaration_capacity_profiles_and_zone(territory):
    cpts, here, near = territory
    fresh = PracticeSiteFactory(commune=here)
    AvailabilityDeclarationFactory(
        practitioner=fresh.practitioner,
        cpts=cpts,
        declared_at=timezone.now() - datetime.timedelta(days=30),
        accepting="no",
        monthly_capacity=None,
    )
    latest = AvailabilityDeclarationFactory(
        practitioner=fresh.practitioner,
        cpts=cpts,
        monthly_capacity=5,
        accepts_ald=True,
        accepts_home_visits=True,
        home_visit_radius_km=8,
    )
    latest.home_visit_communes.add(near)
    second_site = PracticeSiteFactory(practitioner=fresh.practitioner, commune=near)
    expired = PracticeSiteFactory(commune=near)
    AvailabilityDeclarationFactory(practitioner=expired.practitioner, cpts=cpts, expired=True)
    undeclared = PracticeSiteFactory(commune=here)
    unknown_capacity = PracticeSiteFactory(commune=here)
    AvailabilityDeclarationFactory(
        practitioner=unknown_capacity.practitioner, cpts=cpts, monthly_capacity=None
    )
    elsewhere = PracticeSiteFactory(commune=CommuneFactory())  # outside the territory
    AvailabilityDeclarationFactory(practitioner=elsewhere.practitioner, cpts=cpts)

    index = candidate_index(
        cpts,
        taken_this_month={fresh.practitioner_id: 2},
        solicitations_this_month={fresh.practitioner_id: 4},
    )
    row = {int(s): i for i, s in enumerate(index.site_id)}
    assert set(row) == {fresh.pk, second_site.pk, expired.pk, undeclared.pk, unknown_capacity.pk}
    r = row[fresh.pk]
    assert index.declaration[r] == Declaration.VALID and index.accepting[r]
    assert index.remaining_capacity[r] == 3 and index.load[r] == pytest.approx(0.8)
    assert index.profiles[r] == Profile.ALD | Profile.HOME_VISITS
    assert index.visit_radius_km[r] == 8
    assert list(index.zone_sites["44020"]) == [row[fresh.pk], row[second_site.pk]]
    assert index.declaration[row[expired.pk]] == Declaration.EXPIRED
    assert index.declaration[row[undeclared.pk]] == Declaration.NONE
    assert index.remaining_capacity[row[unknown_capacity.pk]] == UNKNOWN_CAPACITY


def test_household_needs_union_over_members_and_candidates_end_to_end(territory):
    cpts, here, near = territory
    request = RequestFactory(cpts=cpts, commune=here, coverage=Coverage.CSS)
    HouseholdMemberFactory(request=request, birth_date=years_ago(5, days=-1), has_ald=True)
    HouseholdMemberFactory(
        request=request, birth_date=years_ago(70), home_visits=HomeVisits.OCCASIONALLY
    )
    needs = household_needs(request, today=TODAY)
    assert needs.required_profiles == int(
        Profile.CHILDREN_UNDER_6
        | Profile.AGED_70_PLUS
        | Profile.ALD
        | Profile.CSS_AME
        | Profile.HOME_VISITS
        | Profile.HOUSEHOLDS
    )
    assert needs.needs_home_visits
    assert (needs.latitude, needs.longitude, needs.commune_insee) == (47.2, -1.55, "44109")

    everything = dict.fromkeys(PROFILE_FIELDS, True)
    good = PracticeSiteFactory(commune=near)
    AvailabilityDeclarationFactory(
        practitioner=good.practitioner, cpts=cpts, home_visit_radius_km=10, **everything
    )
    no_children = PracticeSiteFactory(commune=here)
    AvailabilityDeclarationFactory(
        practitioner=no_children.practitioner,
        cpts=cpts,
        home_visit_radius_km=10,
        **{**everything, "accepts_children_under_6": False},
    )
    index = candidate_index(cpts)
    (candidate,) = rank_candidates(index, needs, max_distance_km=15)
    assert candidate.practitioner_id == good.practitioner_id
    assert candidate.reasons[0] == "à 5,6 km"
    (excluded,) = explain_exclusions(index, needs, max_distance_km=15)
    assert excluded.reason == "ne prend pas les enfants de moins de 6 ans"


def test_household_batch_and_allocation_from_the_database(territory, django_assert_max_num_queries):
    cpts, here, near = territory
    MatchingSettingsFactory(cpts=cpts, max_distance_km=5)
    now = timezone.now()
    old = RequestFactory(cpts=cpts, commune=here, status=Status.WAITING)
    old.waiting_since = now - datetime.timedelta(days=70)
    old.save()
    HouseholdMemberFactory(request=old, birth_date=years_ago(30))
    HouseholdMemberFactory(request=old, birth_date=years_ago(2))
    recent = RequestFactory(
        cpts=cpts, commune=near, status=Status.WAITING, latitude=47.201, longitude=-1.55
    )
    HouseholdMemberFactory(request=recent, birth_date=years_ago(40))
    RequestFactory(cpts=cpts, commune=here, status=Status.NEW)  # not in the queue
    site = PracticeSiteFactory(commune=here)
    AvailabilityDeclarationFactory(
        practitioner=site.practitioner,
        cpts=cpts,
        monthly_capacity=2,
        accepts_children_under_6=True,
        accepts_households=True,
    )

    with django_assert_max_num_queries(4):
        batch = household_batch(waiting_requests(cpts), now=now)
    assert list(batch.household_id) == [old.pk, recent.pk]
    assert list(batch.waiting_days) == [70, 0]
    assert list(batch.persons) == [2, 1]  # places are persons
    assert list(batch.required_profiles) == [Profile.CHILDREN_UNDER_6 | Profile.HOUSEHOLDS, 0]
    assert list(batch.max_distance_km) == [5.0, 5.0]
    assert np.allclose(batch.latitude, [47.2, 47.201])
    proposal = allocate(candidate_index(cpts), batch)
    # two places, both taken by the household of two waiting for ten weeks, though the other is
    # as close
    assert [(a.household_id, a.practitioner_id) for a in proposal.assignments()] == [
        (old.pk, site.practitioner_id)
    ]
    assert [u.household_id for u in proposal.unassigned()] == [recent.pk]
