"""The coordinator's queue: order, filters, counts, pagination, query count, markers."""

import datetime
import html

import pytest
from django.urls import reverse
from django.utils import timezone

from accesmt.accounts.models import AuditLog
from accesmt.intake.models import Channel, DuplicateFlag, HomeVisits, Status
from accesmt.intake.queue import PAGE_SIZE, QueueFilters, queue_facets, queue_requests
from tests.accounts.factories import MembershipFactory

from .conftest import make_request

pytestmark = pytest.mark.django_db


def queue_url(cpts, **query):
    from urllib.parse import urlencode

    url = reverse("intake_staff:queue", kwargs={"cpts_slug": cpts.slug})
    return f"{url}?{urlencode(query)}" if query else url


def references_in(response) -> list[str]:
    page = response.content.decode()
    return [part.split('"')[0] for part in page.split('data-reference="')[1:]]


def _years_ago(years: int) -> datetime.date:
    today = timezone.localdate()
    return today.replace(year=today.year - years, day=min(today.day, 28))


def test_priority_first_then_longest_wait(coordinator_client, cpts):
    recent_plain = make_request(cpts, days_waiting=2)
    old_plain = make_request(cpts, days_waiting=40)
    recent_senior = make_request(cpts, days_waiting=1, birth_date=datetime.date(1940, 1, 1))
    old_child = make_request(
        cpts,
        days_waiting=10,
        birth_date=_years_ago(2),
    )
    make_request(cpts, days_waiting=400, closed=True)  # closed: hidden by default
    response = coordinator_client.get(queue_url(cpts))
    assert response.status_code == 200
    assert references_in(response) == [
        old_child.reference,
        recent_senior.reference,
        old_plain.reference,
        recent_plain.reference,
    ]
    page = html.unescape(response.content.decode())
    assert "Personne de " in page and "Enfant de 2 ans" in page
    assert "<caption" in page and 'scope="col"' in page and 'class="table-wrap"' in page


def test_filters_and_counts(coordinator_client, cpts, territory):
    angres = territory["communes"]["Angres"]
    lievin = territory["communes"]["Liévin"]
    referrer = MembershipFactory(cpts=cpts, role="referrer").user
    ald = make_request(cpts, commune=angres, has_ald=True)
    visits = make_request(cpts, commune=lievin, home_visits=HomeVisits.EXCLUSIVELY)
    referred = make_request(
        cpts,
        commune=lievin,
        channel=Channel.REFERRAL,
        referrer=referrer,
        referrer_attested_consent=True,
    )
    waiting = make_request(cpts, commune=lievin, status=Status.WAITING)

    def refs(**query):
        return set(references_in(coordinator_client.get(queue_url(cpts, **query))))

    assert refs(rule="ald") == {ald.reference}
    assert refs(commune=angres.pk) == {ald.reference}
    assert refs(home_visits="any") == {visits.reference}
    assert refs(home_visits=HomeVisits.OCCASIONALLY) == set()
    assert refs(channel=Channel.REFERRAL) == {referred.reference}
    assert refs(referrer=referrer.pk) == {referred.reference}
    assert refs(status=Status.WAITING) == {waiting.reference}
    assert refs(status=Status.WAITING, commune=angres.pk) == set()
    assert refs(referrer="abc") == set()

    facets = {
        f.name: {o.value: o.count for o in f.options}
        for f in queue_facets(cpts=cpts, user=_coordinator(cpts), filters=QueueFilters())
    }
    assert facets["status"] == {"open": 4, "new": 3, "waiting": 1}
    assert facets["commune"] == {angres.pk: 1, lievin.pk: 3}
    assert facets["rule"] == {"ald": 1, "home_visits": 1}
    assert facets["home_visits"] == {"any": 1, "exclusively": 1}
    assert facets["channel"] == {"online": 3, "referral": 1}
    assert facets["referrer"] == {str(referrer.pk): 1}
    # Faceted: the commune counts follow the other filters (here: ALD only).
    narrowed = queue_facets(cpts=cpts, user=_coordinator(cpts), filters=QueueFilters(rule="ald"))
    assert {o.value: o.count for o in narrowed[2].options} == {angres.pk: 1}
    page = html.unescape(coordinator_client.get(queue_url(cpts)).content.decode())
    assert "Affection de longue durée (ALD) (1)" in page


def test_filter_options_are_escaped_counted_and_keep_the_choice(
    coordinator_client, cpts, territory
):
    """The filters' options (built in Python, not by template nodes): the chosen one selected,
    counts in brackets, a name typed by a person escaped."""
    lievin = territory["communes"]["Liévin"]
    referrer = MembershipFactory(cpts=cpts, role="referrer").user
    referrer.first_name, referrer.last_name = "Zoé", "O'Hara <b>"
    referrer.save()
    for _ in range(2):
        make_request(
            cpts,
            commune=lievin,
            channel=Channel.REFERRAL,
            referrer=referrer,
            referrer_attested_consent=True,
        )
    page = coordinator_client.get(queue_url(cpts, commune=lievin.pk)).content.decode()
    assert f'<option value="{lievin.pk}" selected>Liévin (2)</option>' in page
    assert f'<option value="{referrer.pk}">Zoé O&#x27;Hara &lt;b&gt; (2)</option>' in page
    assert "<b>" not in page.split('id="filter-referrer"')[1].split("</select>")[0]


def _coordinator(cpts):
    from accesmt.accounts.models import Membership

    return Membership.objects.filter(cpts=cpts, role="coordinator").first().user


def test_pagination_keeps_filters(coordinator_client, cpts):
    for _ in range(PAGE_SIZE + 3):
        make_request(cpts)
    first = coordinator_client.get(queue_url(cpts, channel="online"))
    assert len(references_in(first)) == PAGE_SIZE
    assert "channel=online&amp;page=2" in first.content.decode()
    second = coordinator_client.get(queue_url(cpts, channel="online", page=2))
    assert len(references_in(second)) == 3
    assert not set(references_in(first)) & set(references_in(second))


def test_duplicate_marker(coordinator_client, cpts):
    first = make_request(cpts, last_name="Doublon")
    second = make_request(cpts, last_name="Doublon")
    alone = make_request(cpts)
    DuplicateFlag.objects.create(request=second, other_request=first, reason="name_birth_date")
    page = coordinator_client.get(queue_url(cpts)).content.decode()
    rows = {
        ref: page.split(f'data-reference="{ref}"')[1].split("</tr>")[0]
        for ref in (first.reference, second.reference, alone.reference)
    }
    assert "doublon possible" in rows[first.reference]
    assert "doublon possible" in rows[second.reference]
    assert "doublon possible" not in rows[alone.reference]


def _fill(cpts, count, referrer):
    for index in range(count):
        make_request(
            cpts,
            days_waiting=index + 1,
            has_ald=index % 2 == 0,
            members=2,
            home_visits=HomeVisits.OCCASIONALLY if index % 3 == 0 else HomeVisits.NEVER,
            channel=Channel.REFERRAL,
            referrer=referrer,
            referrer_attested_consent=True,
        )


@pytest.mark.parametrize("rows", [5, 50])
def test_the_number_of_queries_does_not_grow_with_rows(
    coordinator_client, cpts, rows, django_assert_num_queries
):
    referrer = MembershipFactory(cpts=cpts, role="referrer").user
    _fill(cpts, rows, referrer)
    # session + user + membership, bounded COUNT, the page's ids, its rows, 2 prefetches, the
    # bounded count without the state filter (the other facets share the first), 6 facet groups
    # (+1 "any visits"), the audit lines (actor's role, one INSERT)
    with django_assert_num_queries(QUEUE_QUERIES):
        response = coordinator_client.get(queue_url(cpts))
    assert len(references_in(response)) == rows


QUEUE_QUERIES = 18


def test_queue_selector_has_no_n_plus_one(cpts, django_assert_max_num_queries):
    referrer = MembershipFactory(cpts=cpts, role="referrer").user
    _fill(cpts, 20, referrer)
    user = _coordinator(cpts) if _has_coordinator(cpts) else MembershipFactory(cpts=cpts).user
    with django_assert_max_num_queries(3):
        rows = list(queue_requests(cpts=cpts, user=user, filters=QueueFilters()))
        for row in rows:
            list(row.members.all())
            [r.member for r in row.priority_reasons.all()]
            _ = row.commune.name, row.referrer.last_name, row.has_open_duplicate
    assert len(rows) == 20


def _has_coordinator(cpts):
    from accesmt.accounts.models import Membership

    return Membership.objects.filter(cpts=cpts, role="coordinator").exists()


def test_queue_writes_one_audit_read_line_per_request_shown(
    coordinator_client, coordinator, cpts, territory
):
    shown = [make_request(cpts, days_waiting=index + 1) for index in range(PAGE_SIZE + 2)]
    other_cpts_request = make_request(territory["lens"])
    response = coordinator_client.get(queue_url(cpts))
    listed = references_in(response)
    assert len(listed) == PAGE_SIZE
    lines = AuditLog.objects.filter(actor=coordinator, action="read", object_type="intake.request")
    by_id = {request.pk: request.reference for request in shown}
    assert sorted(by_id[int(line.object_id)] for line in lines) == sorted(listed)
    assert {line.cpts_id for line in lines} == {cpts.pk}
    assert {line.actor_role for line in lines} == {"coordinator"}
    assert not AuditLog.objects.filter(object_id=str(other_cpts_request.pk)).exists()
