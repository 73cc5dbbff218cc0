"""The coordinator's queue: which requests, in which order, with which filters and counts.

By default the queue shows the open requests (QUEUE_STATUSES) but those of a CPAM list still in
their opt-out period (status filter "période d'opposition" shows them).

Order: prioritaire first, then the longest wait first (`waiting_since` ascending), then the
reference (stable pages). Filters are read from the query string by `QueueFilters.from_query`;
each filter value comes with the number of requests it would show given the *other* filters
(faceted counts), so that a coordinator sees "ALD (12)" before clicking.

The number of queries does not depend on the number of rows: one COUNT, one page of requests
(with commune and referrer joined and the open-duplicate marker as an EXISTS subquery), two
prefetches (members, priority reasons) and one GROUP BY per filter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields

from django.core.paginator import Page, Paginator
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet

from accesmt.accounts.models import Role

from .models import (
    OPEN_STATUSES,
    QUEUE_STATUSES,
    REFERRED_BY_CPAM_LABEL,
    Channel,
    DuplicateFlag,
    HomeVisits,
    HouseholdMember,
    Request,
    RequestPriorityReason,
    Status,
)
from .priority import RULE_TITLES, RULES
from .selectors import latest_outcome

PAGE_SIZE = 50
QUEUE_ROLES = (Role.COORDINATOR,)
OPEN = "open"  # the default status filter: every status but closed and opt-out period
OPEN_LABEL = "à traiter (toutes sauf clôturées et en période d'opposition)"
ANY_HOME_VISITS = "any"  # occasionally or exclusively
# The "channel" filter splits referrals by source: a professional, or the Assurance Maladie
# (a referrer holding a CPAM role, `Request.referred_by_cpam`).
CPAM_REFERRAL = "referral_cpam"


@dataclass(frozen=True)
class QueueFilters:
    """The filters of the queue, as typed in the query string (all strings, "" = no filter)."""

    status: str = OPEN
    commune: str = ""  # INSEE code
    rule: str = ""  # a priority rule code
    home_visits: str = ""  # a HomeVisits value or "any"
    channel: str = ""
    referrer: str = ""  # a user id

    @classmethod
    def from_query(cls, query) -> QueueFilters:
        """A value that is not one of the filter's choices (a typo, a NUL byte) is ignored, as
        if absent: the database never sees it."""
        values = {f.name: (query.get(f.name) or "").strip()[:40] for f in fields(cls)}
        if "status" not in query or not _is_valid("status", values["status"]):
            values["status"] = OPEN
        for name, value in values.items():
            if not _is_valid(name, value):
                values[name] = ""
        return cls(**values)

    def as_query(self, **changes) -> dict[str, str]:
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update(changes)
        return {k: v for k, v in values.items() if v or k == "status"}

    def is_default(self) -> bool:
        return self == QueueFilters()


INSEE_CODE = re.compile(r"[0-9][0-9AB][0-9]{3}")
CHOICES = {
    "status": {OPEN, "", *Status.values},
    "rule": {rule.code for rule in RULES},
    "home_visits": {ANY_HOME_VISITS, *HomeVisits.values},
    "channel": {*Channel.values, CPAM_REFERRAL},
}


def _is_valid(name: str, value: str) -> bool:
    if not value:
        return True
    if name in CHOICES:
        return value in CHOICES[name]
    if name == "commune":
        return INSEE_CODE.fullmatch(value) is not None
    return value.isascii() and value.isprintable()  # referrer: digits checked by _filter_q


def base_queryset(*, cpts, user) -> QuerySet:
    """Every request of `cpts` the user may see as a coordinator (tenant scoping)."""
    return Request.objects.for_user(user, QUEUE_ROLES).filter(cpts=cpts)


def _filter_q(filters: QueueFilters, *, skip: str = "") -> Q:
    q = Q()
    if skip != "status" and filters.status:
        if filters.status == OPEN:
            q &= Q(status__in=QUEUE_STATUSES, held_for_transfer=False)
        else:
            q &= Q(status=filters.status)
    if skip != "commune" and filters.commune:
        q &= Q(commune_id=filters.commune)
    if skip != "rule" and filters.rule:
        q &= Q(
            Exists(
                RequestPriorityReason.objects.filter(request=OuterRef("pk"), rule_code=filters.rule)
            )
        )
    if skip != "home_visits" and filters.home_visits:
        wanted = (
            [HomeVisits.OCCASIONALLY, HomeVisits.EXCLUSIVELY]
            if filters.home_visits == ANY_HOME_VISITS
            else [filters.home_visits]
        )
        q &= Q(
            Exists(HouseholdMember.objects.filter(request=OuterRef("pk"), home_visits__in=wanted))
        )
    if skip != "channel" and filters.channel:
        if filters.channel == CPAM_REFERRAL:
            q &= Q(channel=Channel.REFERRAL, referred_by_cpam=True)
        elif filters.channel == Channel.REFERRAL:
            q &= Q(channel=Channel.REFERRAL, referred_by_cpam=False)
        else:
            q &= Q(channel=filters.channel)
    if skip != "referrer" and filters.referrer:
        valid = filters.referrer.isascii() and filters.referrer.isdigit()
        q &= Q(referrer_id=filters.referrer) if valid else Q(pk__in=[])
    return q


def open_duplicate_exists() -> Exists:
    """True when an unresolved duplicate flag links the request to another open request."""
    return Exists(
        DuplicateFlag.objects.filter(resolved_at__isnull=True).filter(
            Q(request=OuterRef("pk"), other_request__status__in=OPEN_STATUSES)
            | Q(other_request=OuterRef("pk"), request__status__in=OPEN_STATUSES)
        )
    )


def queue_requests(*, cpts, user, filters: QueueFilters) -> QuerySet:
    """The filtered queue, in order, ready to display (no query per row)."""
    return (
        base_queryset(cpts=cpts, user=user)
        .filter(_filter_q(filters))
        .select_related("commune", "referrer")
        .annotate(
            has_open_duplicate=open_duplicate_exists(),
            # GPs asked about the request (accesmt.orientation): shown next to its state.
            gps_pending=Count("solicitations", filter=Q(solicitations__status="pending")),
            gps_accepted=Count("solicitations", filter=Q(solicitations__status="accepted")),
            # The mediation's latest outcome ("droits ouverts le …"), as two scalar subqueries.
            rights_last_kind=latest_outcome("kind"),
            rights_last_on=latest_outcome("on"),
        )
        .prefetch_related(
            Prefetch("members", queryset=HouseholdMember.objects.order_by("position", "pk")),
            Prefetch(
                "priority_reasons",
                queryset=RequestPriorityReason.objects.select_related("member").order_by("pk"),
            ),
        )
        .order_by("-is_priority", "waiting_since", "reference")
    )


@dataclass
class FacetOption:
    value: str
    label: str
    count: int
    selected: bool


@dataclass
class Facet:
    name: str
    label: str
    options: list[FacetOption] = field(default_factory=list)


def _options(rows, selected: str, labels: dict[str, str]) -> list[FacetOption]:
    counts = {str(value): count for value, count in rows if value not in (None, "")}
    ordered = [v for v in labels if v in counts] + sorted(v for v in counts if v not in labels)
    return [
        FacetOption(value=v, label=labels.get(v, v), count=counts[v], selected=v == selected)
        for v in ordered
    ]


def queue_facets(*, cpts, user, filters: QueueFilters) -> list[Facet]:
    """For each filter, its values with the number of requests each would show (the other
    filters applied). One GROUP BY query per filter."""
    base = base_queryset(cpts=cpts, user=user)

    # Grouped by state and hold: "ouvertes" leaves out the requests held for a transfer plan,
    # as its list does (_filter_q); a state's own filter shows them, so its count includes them.
    held_rows = list(
        base.filter(_filter_q(filters, skip="status"))
        .order_by()
        .values_list("status", "held_for_transfer")
        .annotate(n=Count("pk", distinct=True))
    )
    open_count = sum(n for value, held, n in held_rows if value in QUEUE_STATUSES and not held)
    status_totals: dict[str, int] = {}
    for value, _held, n in held_rows:
        status_totals[value] = status_totals.get(value, 0) + n
    status_rows = list(status_totals.items())
    status_options = [
        FacetOption(OPEN, OPEN_LABEL, open_count, filters.status == OPEN),
        *_options(status_rows, filters.status, dict(Status.choices)),
    ]

    commune_rows = (
        base.filter(_filter_q(filters, skip="commune"))
        .order_by()
        .values_list("commune_id", "commune__name")
        .annotate(n=Count("pk"))
    )
    commune_names = {code: name for code, name, _n in commune_rows}
    commune_options = _options(
        [(code, n) for code, _name, n in commune_rows],
        filters.commune,
        dict(sorted(commune_names.items(), key=lambda item: item[1])),
    )

    rule_rows = (
        RequestPriorityReason.objects.filter(
            request__in=base.filter(_filter_q(filters, skip="rule"))
        )
        .order_by()
        .values_list("rule_code")
        .annotate(n=Count("request", distinct=True))
    )
    rule_options = _options(rule_rows, filters.rule, {r.code: r.title for r in RULES})

    visit_rows = list(
        HouseholdMember.objects.filter(
            request__in=base.filter(_filter_q(filters, skip="home_visits"))
        )
        .exclude(home_visits=HomeVisits.NEVER)
        .order_by()
        .values_list("home_visits")
        .annotate(n=Count("request", distinct=True))
    )
    any_visits = (
        HouseholdMember.objects.filter(
            request__in=base.filter(_filter_q(filters, skip="home_visits")),
            home_visits__in=[HomeVisits.OCCASIONALLY, HomeVisits.EXCLUSIVELY],
        )
        .values("request")
        .distinct()
        .count()
    )
    visit_labels = {
        HomeVisits.OCCASIONALLY.value: "de temps en temps",
        HomeVisits.EXCLUSIVELY.value: "uniquement à domicile",
    }
    visit_options = [
        FacetOption(
            ANY_HOME_VISITS,
            "toutes (parfois ou uniquement)",
            any_visits,
            filters.home_visits == "any",
        ),
        *_options(visit_rows, filters.home_visits, visit_labels),
    ]

    channel_counts: dict[str, int] = {}
    channel_rows = (
        base.filter(_filter_q(filters, skip="channel"))
        .order_by()
        .values_list("channel", "referred_by_cpam")
        .annotate(n=Count("pk"))
    )
    for channel, by_cpam, n in channel_rows:
        key = CPAM_REFERRAL if channel == Channel.REFERRAL and by_cpam else channel
        channel_counts[key] = channel_counts.get(key, 0) + n
    channel_labels = dict(Channel.choices)
    channel_labels = {
        **{k: v for k, v in channel_labels.items() if k != Channel.CPAM_LIST},
        CPAM_REFERRAL: REFERRED_BY_CPAM_LABEL,
        Channel.CPAM_LIST: channel_labels[Channel.CPAM_LIST],
    }
    channel_options = _options(channel_counts.items(), filters.channel, channel_labels)

    referrer_rows = (
        base.filter(_filter_q(filters, skip="referrer"))
        .filter(referrer__isnull=False)
        .order_by()
        .values_list("referrer_id", "referrer__first_name", "referrer__last_name")
        .annotate(n=Count("pk"))
    )
    referrer_names = {
        str(pk): f"{first} {last}".strip()
        for pk, first, last, _n in sorted(referrer_rows, key=lambda r: (r[2], r[1]))
    }
    referrer_options = _options(
        [(pk, n) for pk, _f, _l, n in referrer_rows], filters.referrer, referrer_names
    )

    return [
        Facet("status", "État", status_options),
        Facet("rule", "Critère de priorité", rule_options),
        Facet("commune", "Commune", commune_options),
        Facet("home_visits", "Visites à domicile", visit_options),
        Facet("channel", "Canal", channel_options),
        Facet("referrer", "Professionnel orienteur", referrer_options),
    ]


@dataclass
class Queue:
    page: Page
    facets: list[Facet]
    filters: QueueFilters
    total: int


def queue_page(*, cpts, user, filters: QueueFilters, page_number=1) -> Queue:
    requests = queue_requests(cpts=cpts, user=user, filters=filters)
    paginator = Paginator(requests, PAGE_SIZE)
    page = paginator.get_page(page_number)
    return Queue(
        page=page,
        facets=queue_facets(cpts=cpts, user=user, filters=filters),
        filters=filters,
        total=paginator.count,
    )


def rule_title(code: str) -> str:
    return RULE_TITLES.get(code, code)
