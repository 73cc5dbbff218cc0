"""k-anonymity of anonymised requests (issue 14): no combination (commune, birth year, ALD,
disability, coverage) among anonymised people designates fewer than 5 of them, or the attributes
are withheld; counts by status and closing reason are unchanged."""

import datetime
from collections import Counter

import pytest
from django.db.models import Count
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from accesmt.intake.coarsening import K, _Person, anonymised_coarsen, generalise, small_groups
from accesmt.intake.models import Coverage, HouseholdMember, Request, RequestPriorityReason, Status
from accesmt.intake.retention import requests_anonymise_closed
from tests.territory.factories import CPTSFactory, TerritoryCommuneFactory

from .factories import HouseholdMemberFactory, RequestFactory

NOW = timezone.now()
OLD = NOW - datetime.timedelta(days=500)


def _household(
    cpts,
    commune,
    *,
    born,
    ald=False,
    disability=False,
    coverage=Coverage.GENERAL,
    reason="mt_found",
    closed_at=OLD,
):
    request = RequestFactory(
        cpts=cpts,
        commune=commune,
        coverage=coverage,
        status=Status.CLOSED,
        closed_reason=reason,
        closed_at=closed_at,
    )
    member = HouseholdMemberFactory(
        request=request, birth_date=born, has_ald=ald, has_disability=disability
    )
    if ald:
        RequestPriorityReason.objects.create(
            request=request, member=member, rule_code="ald", label="ALD"
        )
    return request


def _anonymised_groups(cpts):
    return Counter(
        HouseholdMember.objects.filter(
            request__cpts=cpts, request__anonymised_at__isnull=False
        ).values_list(
            "request__commune_id",
            "birth_year",
            "birth_year_span",
            "has_ald",
            "has_disability",
            "request__coverage",
        )
    )


def _counts_by_outcome(cpts):
    return sorted(
        Request.objects.filter(cpts=cpts)
        .values_list("status", "closed_reason")
        .annotate(n=Count("pk"))
    )


@pytest.mark.django_db
def test_tiny_groups_are_generalised_until_five_or_withheld(settings):
    settings.CLOSED_REQUEST_RETENTION_DAYS = 365
    cpts = CPTSFactory()
    town, village = (TerritoryCommuneFactory(cpts=cpts).commune for _ in range(2))
    # Six people alike in the town: a group of 6 keeps its exact birth year and commune.
    for day in range(6):
        _household(cpts, town, born=datetime.date(1950, 1, 1 + day), reason="withdrawn")
    # Three in the village born in 1931 with an ALD and a disability on AME: a rare combination.
    for day in range(3):
        _household(
            cpts,
            village,
            born=datetime.date(1931, 3, 1 + day),
            ald=True,
            disability=True,
            coverage=Coverage.AME,
        )
    # Four in the town born 1952–1954 with an ALD: no band gathers five of them, so the ladder
    # goes on to withholding (and joins them to the village's three, withheld too).
    for year in (1952, 1953, 1953, 1954):
        _household(cpts, town, born=datetime.date(year, 6, 1), ald=True)
    kept = _household(cpts, village, born=datetime.date(1990, 1, 1), closed_at=NOW)
    before = _counts_by_outcome(cpts)

    requests_anonymise_closed(now=NOW)

    groups = _anonymised_groups(cpts)
    assert sum(groups.values()) == 13
    blank = (None, None, None, None, None, "")
    for key, n in groups.items():
        assert n >= K or key == blank, (key, n)
    assert small_groups(cpts) == []
    # The large group kept its detail.
    assert groups[(town.pk, 1950, 1, False, False, Coverage.GENERAL)] == 6
    # No priority reason tells an ALD that was withheld.
    withheld_ald = HouseholdMember.objects.filter(request__cpts=cpts, has_ald__isnull=True)
    assert not RequestPriorityReason.objects.filter(
        member__in=withheld_ald, rule_code="ald"
    ).exists()
    # Counts by status and closing reason are unchanged; the recent request is untouched.
    assert _counts_by_outcome(cpts) == before
    kept.refresh_from_db()
    assert kept.anonymised_at is None and kept.commune == village
    assert kept.members.get().birth_date == datetime.date(1990, 1, 1)
    # Idempotent: a second run changes nothing.
    assert anonymised_coarsen(cpts) == 0
    assert _anonymised_groups(cpts) == groups


@pytest.mark.django_db
def test_a_newly_anonymised_person_joins_the_band_earlier_records_use(settings):
    settings.CLOSED_REQUEST_RETENTION_DAYS = 365
    cpts = CPTSFactory()
    town = TerritoryCommuneFactory(cpts=cpts).commune
    for year in (1960, 1961, 1962, 1963, 1964):  # five different years: one 5-year band
        _household(cpts, town, born=datetime.date(year, 5, 5))
    requests_anonymise_closed(now=NOW)
    assert _anonymised_groups(cpts) == {(town.pk, 1960, 5, False, False, "regime_general"): 5}
    _household(cpts, town, born=datetime.date(1962, 7, 7), closed_at=NOW - datetime.timedelta(400))
    requests_anonymise_closed(now=NOW)
    assert _anonymised_groups(cpts) == {(town.pk, 1960, 5, False, False, "regime_general"): 6}


# Property: over random small populations, the ladder leaves no group below K except the fully
# withheld one, only ever coarsens, and is idempotent.
person = st.tuples(
    st.integers(1, 3),  # commune
    st.integers(1925, 2024),  # birth year
    st.booleans(),  # ALD
    st.booleans(),  # disability
    st.sampled_from(["regime_general", "css", "ame"]),  # coverage
)


@settings(max_examples=150, deadline=None)
@given(households=st.lists(st.lists(person, min_size=1, max_size=3), min_size=1, max_size=40))
def test_generalise_property(households):
    people, commune, coverage, original = [], {}, {}, {}
    pk = 0
    for rid, members in enumerate(households):
        commune[rid], coverage[rid] = members[0][0], members[0][4]
        for _, year, ald, disability, _ in members:
            pk += 1
            people.append(_Person(pk, rid, year, 1, ald, disability))
            original[pk] = (year, ald, disability)
    generalise(people, commune, coverage)

    def key(p):
        return (commune[p.request_id], p.year, p.span, p.ald, p.disability, coverage[p.request_id])

    sizes = Counter(key(p) for p in people)
    blank = (None, None, None, None, None, "")
    for p in people:
        assert sizes[key(p)] >= K or key(p) == blank
        year, ald, disability = original[p.pk]
        if p.year is not None:  # a band that contains the true year
            assert p.year <= year < p.year + p.span
        assert p.ald in (ald, None) and p.disability in (disability, None)
    snapshot = [key(p) for p in people]
    generalise(people, commune, coverage)
    assert [key(p) for p in people] == snapshot


@pytest.mark.django_db
def test_the_coordinator_still_opens_the_data_of_a_coarsened_request(client, settings):
    from django.urls import reverse

    from accesmt.accounts.models import Role
    from tests.accounts.factories import MembershipFactory

    settings.CLOSED_REQUEST_RETENTION_DAYS = 365
    cpts = CPTSFactory()
    request = _household(
        cpts, TerritoryCommuneFactory(cpts=cpts).commune, born=datetime.date(1931, 1, 1), ald=True
    )
    requests_anonymise_closed(now=NOW)
    request.refresh_from_db()
    assert request.commune is None  # alone: withheld
    client.force_login(MembershipFactory(cpts=cpts, role=Role.COORDINATOR).user)
    kwargs = {"cpts_slug": cpts.slug, "reference": request.reference}
    assert client.get(reverse("intake_staff:request_detail", kwargs=kwargs)).status_code == 200
    data = client.get(reverse("intake_staff:request_data_json", kwargs=kwargs))
    assert data.status_code == 200
    assert "1931" not in data.content.decode()
