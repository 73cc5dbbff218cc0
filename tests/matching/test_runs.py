"""Stored queue-wide allocation runs: `allocation_run_create` on a small territory."""

import pytest
from django.db import connection

from accesmt.intake.models import Status
from accesmt.matching.allocation import CAPACITY_TAKEN, HOUSEHOLD_TOO_BIG, NO_ELIGIBLE_GP
from accesmt.matching.models import AllocationLine, AllocationStatus
from accesmt.matching.services import allocation_run_create
from tests.accounts.factories import UserFactory
from tests.intake.factories import HouseholdMemberFactory, RequestFactory
from tests.matching.factories import AllocationRunFactory
from tests.orientation.factories import PlacementFactory
from tests.worlds import NOW, gp_at, two_cpts, waiting_request

pytestmark = pytest.mark.django_db


def lines_by_request(run):
    return {line.request_id: line for line in AllocationLine.objects.filter(run=run)}


@pytest.fixture
def coordinator():
    return UserFactory()


def test_priority_then_longest_waiting_are_served_within_capacity(coordinator):
    w = two_cpts()
    near = gp_at(w.cpts, w.here, north=0.5, capacity=1)
    far = gp_at(w.cpts, w.here, north=-6, capacity=1)
    priority = waiting_request(w.cpts, w.here, days=3, priority=True)
    old = waiting_request(w.cpts, w.here, days=200)
    recent = waiting_request(w.cpts, w.here, days=20)
    RequestFactory(cpts=w.cpts, commune=w.here, status=Status.NEW)  # not in the queue yet
    RequestFactory(cpts=w.cpts, commune=w.here, closed=True)

    run = allocation_run_create(cpts=w.cpts, by=coordinator, now=NOW)

    lines = lines_by_request(run)
    assert set(lines) == {priority.pk, old.pk, recent.pk}  # only waiting requests
    assert run.status == AllocationStatus.DRAFT and run.created_by == coordinator
    assert (run.households, run.priority_households, run.gps, run.places) == (3, 1, 2, 2)
    assert (run.assigned, run.priority_assigned) == (2, 1)
    # two places: the priority household and the one waiting longest get them
    assert {lines[priority.pk].practitioner_id, lines[old.pk].practitioner_id} == {
        near.practitioner_id,
        far.practitioner_id,
    }
    assert lines[recent.pk].practitioner_id is None
    assert lines[recent.pk].unassigned_code == CAPACITY_TAKEN
    assert "n'ont plus de place" in lines[recent.pk].reason
    assert lines[priority.pk].is_priority and "foyer prioritaire" in lines[priority.pk].reason
    assert lines[old.pk].waiting_days == 200
    assert lines[old.pk].weight > lines[recent.pk].weight
    assert lines[priority.pk].weight > lines[old.pk].weight
    assert 0 < run.mean_distance_km < 7


def test_households_take_one_place_per_person_and_stay_whole(coordinator):
    w = two_cpts()
    gp_at(w.cpts, w.here, north=0.5, capacity=2)
    gp_at(w.cpts, w.here, north=1.5, capacity=2)
    family = waiting_request(w.cpts, w.here, days=300, priority=True)  # 3 persons
    HouseholdMemberFactory(request=family)
    HouseholdMemberFactory(request=family)
    couple = waiting_request(w.cpts, w.here, days=50)
    HouseholdMemberFactory(request=couple)
    alone = [waiting_request(w.cpts, w.here, days=d) for d in (40, 30, 20)]

    run = allocation_run_create(cpts=w.cpts, by=coordinator, now=NOW)

    lines = lines_by_request(run)
    assert (run.households, run.persons, run.places) == (5, 8, 4)
    # 4 places: never the family of three across two GPs; the couple, then the longest waiting
    assert lines[family.pk].practitioner_id is None
    assert lines[family.pk].unassigned_code == HOUSEHOLD_TOO_BIG
    assert lines[family.pk].reason == (
        "foyer de 3 personnes : aucun médecin adapté à moins de 15 km n'a autant de places "
        "restantes ce mois-ci (un foyer n'est pas séparé entre médecins)"
    )
    assert lines[couple.pk].practitioner_id is not None
    assert lines[couple.pk].reason.endswith("; 2 personnes, 2 places")
    assigned = {pk for pk, line in lines.items() if line.practitioner_id}
    assert assigned == {couple.pk, alone[0].pk, alone[1].pk}
    assert (run.assigned, run.assigned_persons) == (3, 4)
    assert lines[alone[2].pk].unassigned_code == CAPACITY_TAKEN


def test_capacity_and_distance_are_respected(coordinator):
    w = two_cpts(max_distance_km=5)
    gp = gp_at(w.cpts, w.here, capacity=2)
    served = [waiting_request(w.cpts, w.here, days=30 + i) for i in range(4)]
    too_far = waiting_request(w.cpts, w.here, north=8, days=400, priority=True)

    run = allocation_run_create(cpts=w.cpts, by=coordinator, now=NOW)

    lines = lines_by_request(run)
    assigned = [line for line in lines.values() if line.practitioner_id]
    assert len(assigned) == 2 and {line.practitioner_id for line in assigned} == {
        gp.practitioner_id
    }
    assert {line.request_id for line in assigned} == {served[3].pk, served[2].pk}  # longest
    assert lines[too_far.pk].unassigned_code == NO_ELIGIBLE_GP
    assert "5,0 km" in lines[too_far.pk].reason


def test_a_household_is_never_offered_a_gp_of_another_cpts(coordinator):
    w = two_cpts()
    # B's GP sits next to A's household; A's own GP is 6 km away
    gp_at(w.other, w.there, north=0.2, capacity=5)
    own = gp_at(w.cpts, w.here, north=-6, capacity=5)
    household = waiting_request(w.cpts, w.here, north=0.2)
    waiting_request(w.other, w.there, north=2)  # B's queue: not in A's run

    run = allocation_run_create(cpts=w.cpts, by=coordinator, now=NOW)

    lines = lines_by_request(run)
    assert list(lines) == [household.pk]
    assert lines[household.pk].practitioner_id == own.practitioner_id
    assert lines[household.pk].cpts_id == w.cpts.pk


def test_a_platform_run_solves_each_cpts_with_its_own_gps(coordinator):
    w = two_cpts()
    gp_a = gp_at(w.cpts, w.here, capacity=1)
    gp_b = gp_at(w.other, w.there, capacity=1)
    # both households sit between the two GPs, nearer to B's GP; each needs its own CPTS's GP
    a = waiting_request(w.cpts, w.here, north=1.5)
    b = waiting_request(w.other, w.there, north=1.4)
    a_without = waiting_request(w.cpts, w.here, north=1.6, days=1)

    run = allocation_run_create(cpts=None, by=UserFactory(platform_admin=True), now=NOW)

    lines = lines_by_request(run)
    assert run.cpts is None and run.households == 3 and run.assigned == 2
    assert lines[a.pk].practitioner_id == gp_a.practitioner_id
    assert lines[b.pk].practitioner_id == gp_b.practitioner_id
    assert lines[a_without.pk].unassigned_code == CAPACITY_TAKEN
    assert {line.cpts_id for line in lines.values()} == {w.cpts.pk, w.other.pk}


def test_this_month_s_taken_patients_reduce_the_capacity(coordinator):
    w = two_cpts()
    gp = gp_at(w.cpts, w.here, capacity=3)
    for days in (10, 20, 30):
        waiting_request(w.cpts, w.here, days=days)
    calls = []

    def counts(cpts_ids, *, now=None):
        calls.append(sorted(cpts_ids))
        return {gp.practitioner_id: 2}, {gp.practitioner_id: 5}

    run = allocation_run_create(cpts=w.cpts, by=coordinator, now=NOW, month_counts=counts)

    assert calls == [[w.cpts.pk]]
    assert (run.places, run.assigned) == (1, 1)


def test_the_greedy_method_is_stored_too(coordinator):
    w = two_cpts()
    gp_at(w.cpts, w.here, capacity=1)
    waiting_request(w.cpts, w.here)
    run = allocation_run_create(cpts=w.cpts, by=coordinator, method="greedy", now=NOW)
    assert run.method == "greedy" and run.assigned == 1


def test_an_empty_queue_gives_an_empty_run(coordinator):
    w = two_cpts()
    gp_at(w.cpts, w.here)
    run = allocation_run_create(cpts=w.cpts, by=coordinator, now=NOW)
    assert (run.households, run.assigned, run.mean_distance_km, run.gps) == (0, 0, None, 1)
    assert not AllocationLine.objects.filter(run=run).exists()


def writers():
    return (
        ["copy", "executemany", "bulk_create"]
        if connection.vendor == "postgresql"
        else [
            "executemany",
            "bulk_create",
        ]
    )


def test_every_writer_writes_the_same_lines(coordinator):
    w = two_cpts()
    gp_at(w.cpts, w.here, capacity=2)
    for days in (5, 50, 500):
        waiting_request(w.cpts, w.here, days=days, priority=days == 5)
    fields = (
        "cpts_id",
        "request_id",
        "practitioner_id",
        "site_id",
        "distance_km",
        "weight",
        "is_priority",
        "waiting_days",
        "unassigned_code",
        "reason",
        "outcome",
    )

    def written(writer):
        run = allocation_run_create(cpts=w.cpts, by=coordinator, now=NOW, writer=writer)
        return sorted(AllocationLine.objects.filter(run=run).values_list(*fields))

    results = [written(writer) for writer in writers()]
    assert len(results[0]) == 3 and all(result == results[0] for result in results)


@pytest.mark.parametrize("writer", ["copy", "executemany", "bulk_create"])
def test_text_with_tabs_backslashes_and_new_lines_is_written_as_is(coordinator, writer):
    from accesmt.matching.services import LINE_COLUMNS, write_lines

    if writer not in writers():
        pytest.skip("COPY is PostgreSQL only")
    w = two_cpts()
    request = waiting_request(w.cpts, w.here)
    run = AllocationRunFactory(cpts=w.cpts, created_by=coordinator)
    reason = "a\tb\\c\nd\re — « é »"
    values = [run.pk, w.cpts.pk, request.pk, None, None, None, 3, True, 4, "x", reason, ""]
    write_lines(
        {name: [value] for name, value in zip(LINE_COLUMNS, values, strict=True)}, writer=writer
    )
    line = AllocationLine.objects.get(run=run)
    assert (line.reason, line.practitioner_id, line.is_priority, line.waiting_days) == (
        reason,
        None,
        True,
        4,
    )


def test_patients_taken_and_gps_asked_this_month_come_from_the_orientation_records(coordinator):
    w = two_cpts()
    busy = gp_at(w.cpts, w.here, capacity=2)
    free = gp_at(w.cpts, w.here, north=3, capacity=1)
    taken = RequestFactory(cpts=w.cpts, commune=w.here, closed=True, closed_reason="mt_found")
    PlacementFactory(cpts=w.cpts, request=taken, practitioner=busy.practitioner)
    households = [waiting_request(w.cpts, w.here, days=d) for d in (10, 20, 30)]

    run = allocation_run_create(cpts=w.cpts, by=coordinator, now=NOW)

    lines = lines_by_request(run)
    assert (run.places, run.assigned) == (2, 2)  # 2 − 1 taken + 1
    served = {lines[h.pk].practitioner_id for h in households if lines[h.pk].practitioner_id}
    assert served == {busy.practitioner_id, free.practitioner_id}
