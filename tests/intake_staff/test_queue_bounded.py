"""The queue above its count cap (issue 15): bounded counts, the sorts walked one state or commune
at a time, pages past the cap. COUNT_CAP and PAGE_SIZE are made small so that a few requests
stand for a long queue."""

import html

import pytest

from accesmt.intake import queue as queue_module
from accesmt.intake.models import Status
from accesmt.intake.queue import QueueFilters, queue_page, queue_requests

from .conftest import make_request
from .test_queue import queue_url

pytestmark = pytest.mark.django_db

STATES = [Status.NEW, Status.WAITING, Status.TO_VERIFY, Status.PROPOSING, Status.WAITING]


@pytest.fixture
def small_cap(monkeypatch):
    monkeypatch.setattr(queue_module, "COUNT_CAP", 3)
    monkeypatch.setattr(queue_module, "PAGE_SIZE", 2)


@pytest.fixture
def long_queue(cpts, territory):
    """Eleven requests over two communes and four open states (one closed, one priority)."""
    communes = [tc.commune for tc in cpts.territory.order_by("commune__name")[:2]]
    requests = []
    for index in range(11):
        requests.append(
            make_request(
                cpts,
                commune=communes[index % 2],
                days_waiting=30 - index,
                status=STATES[index % len(STATES)],
                has_ald=index == 7,
            )
        )
    requests.append(make_request(cpts, days_waiting=90, closed=True))
    return requests


def _every_page(cpts, user, filters, sort) -> list[str]:
    references, number = [], 1
    while True:
        result = queue_page(cpts=cpts, user=user, filters=filters, page_number=number, sort=sort)
        references += [row.reference for row in result.page]
        if not result.page.has_next():
            return references
        number += 1


@pytest.mark.parametrize(
    "sort",
    ["priority", "-priority", "waiting", "reference", "status", "-status", "commune", "-commune"],
)
@pytest.mark.parametrize("status", ["open", ""])
def test_pages_above_the_cap_follow_the_order_of_one_sorted_query(
    small_cap, cpts, coordinator, long_queue, sort, status
):
    filters = QueueFilters(status=status)
    expected = [
        r.reference for r in queue_requests(cpts=cpts, user=coordinator, filters=filters, sort=sort)
    ]
    assert len(expected) > queue_module.COUNT_CAP
    assert _every_page(cpts, coordinator, filters, sort) == expected


def test_a_walk_over_too_many_communes_falls_back_to_one_sorted_query(
    small_cap, monkeypatch, cpts, coordinator, long_queue
):
    monkeypatch.setattr(queue_module, "MAX_GROUPS_WALKED", 1)
    filters = QueueFilters()
    expected = [
        r.reference
        for r in queue_requests(cpts=cpts, user=coordinator, filters=filters, sort="commune")
    ]
    assert _every_page(cpts, coordinator, filters, "commune") == expected


def test_counts_stop_at_the_cap_and_say_so(small_cap, coordinator_client, cpts, long_queue):
    response = coordinator_client.get(queue_url(cpts))
    page = html.unescape(response.content.decode())
    assert "plus de 3 demandes" in page and "décompte arrêté à 3" in page
    assert "Page 1 / plus de 1</li>" in page  # more than 3 requests: more than one page of 2
    # Filter values listed without their number, with a sentence saying why.
    assert "data-facets-uncounted" in page
    assert "nouvelle (" not in page and ">nouvelle</option>" in page
    result = queue_page(
        cpts=cpts, user=response.wsgi_request.user, filters=QueueFilters(), page_number=1
    )
    assert not result.total_known and result.total == queue_module.COUNT_CAP + 1
    assert all(o.count is None for f in result.facets for o in f.options)
    communes = {o.value for f in result.facets if f.name == "commune" for o in f.options}
    assert communes == set(cpts.territory.values_list("commune_id", flat=True))


def test_a_filter_within_the_cap_counts_again(small_cap, coordinator_client, cpts, long_queue):
    response = coordinator_client.get(queue_url(cpts, status=Status.TO_VERIFY))
    page = html.unescape(response.content.decode())
    # Two requests to verify: the total is exact; the state's own values are over the cap.
    assert "2 demandes" in page and "décompte arrêté" not in page
    assert "nouvelle (" not in page
    # The other filters' values, counted among the two (one of them has an ALD).
    assert "Affection de longue durée (ALD) (1)</option>" in page


def test_the_last_page_knows_the_total_and_a_page_past_the_end_shows_it(
    small_cap, coordinator, cpts, long_queue
):
    open_count = sum(1 for r in long_queue if r.status != Status.CLOSED)  # 11
    last = -(-open_count // queue_module.PAGE_SIZE)
    result = queue_page(cpts=cpts, user=coordinator, filters=QueueFilters(), page_number=last)
    assert result.total_known and result.total == open_count
    assert result.page.paginator.num_pages == last and not result.page.has_next()
    past = queue_page(cpts=cpts, user=coordinator, filters=QueueFilters(), page_number=last + 7)
    assert past.page.number == last
    assert [r.reference for r in past.page] == [r.reference for r in result.page]
    middle = queue_page(cpts=cpts, user=coordinator, filters=QueueFilters(), page_number=2)
    assert not middle.total_known and middle.page.paginator.num_pages == "plus de 2"
