"""The coordinator's queue: which requests, in which order, with which filters and counts.

By default the queue shows the open requests (QUEUE_STATUSES) but those of a CPAM list still in
their opt-out period (status filter "période d'opposition" shows them).

Order: prioritaire first, then the longest wait first (`waiting_since` ascending), then the
reference (stable pages). Filters are read from the query string by `QueueFilters.from_query`;
each filter value comes with the number of requests it would show given the *other* filters
(faceted counts), so that a coordinator sees "ALD (12)" before clicking.

Cost (issue 15, docs/decisions/0029-queue-pages-bounded-cost.md): neither the number of queries
nor the time of a page grows with the queue. The page's ids are read first, in an order an index
serves (`intake_request_queue_order`…; the state and commune sorts walk one state or commune at a
time), and only those rows are annotated (GPs asked, duplicates, mediation) and prefetched
(members, priority reasons). Counts are bounded: the total and each filter's counts are counted
up to COUNT_CAP; above it the page says « plus de 1 000 » and the filter values are listed
without their number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields

from django.core.exceptions import ValidationError
from django.db.models import (
    Case,
    Count,
    Exists,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    When,
)

from accesmt.accounts.models import Role
from accesmt.common import pagination
from accesmt.common.pagination import BoundedPage as QueuePage
from accesmt.common.phones import normalise_phone

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
    normalise_name,
)
from .priority import RULE_TITLES, RULES
from .selectors import latest_outcome
from .validation import normalise_nir

PAGE_SIZE = 50
# Counts stop here: beyond, « plus de 1 000 » (the total) and no number per filter value.
COUNT_CAP = pagination.COUNT_CAP
QUEUE_ROLES = (Role.COORDINATOR,)
# Who may refer a patient (intake.views.referral): the referrers listed in the filter.
REFERRAL_ROLES = (Role.REFERRER, Role.COORDINATOR, Role.CPAM_AGENT, Role.CPAM_MEDIATOR)
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


REFERENCE = re.compile(r"MT-?([0-9A-Z]{4})-?([0-9A-Z]{4})")
NIR_TEXT = re.compile(r"[0-9][0-9 .]*(?:2A|2B|[0-9])[0-9 .]*")  # digits (Corsica: 2A/2B)
MIN_NAME_LENGTH = 2
SEARCH_REFUSED = (
    "Saisissez une référence (MT-XXXX-XXXX), un numéro de téléphone, un numéro de sécurité "
    f"sociale (13 ou 15 caractères) ou au moins {MIN_NAME_LENGTH} lettres du nom."
)


@dataclass(frozen=True)
class QueueSearch:
    """What the coordinator typed in the search box, read as one kind of key: "reference"
    (exact), "nir" (15 characters exact, 13 without the key), "phone" (E.164, exact) or "name"
    (prefix of the members' normalised "last name first name", the duplicate-detection key, so
    that accents and case do not matter and an index serves the lookup)."""

    kind: str
    value: str

    @classmethod
    def parse(cls, text: str) -> QueueSearch:
        """Raises ValidationError (French message) when the text is none of the four kinds."""
        text = (text or "").strip()[:100]
        compact = re.sub(r"[\s.]", "", text).upper()
        if match := REFERENCE.fullmatch(compact):
            return cls("reference", f"MT-{match[1]}-{match[2]}")
        if NIR_TEXT.fullmatch(text.upper()) and len(normalise_nir(text)) in (13, 15):
            return cls("nir", normalise_nir(text))
        if any(ch.isdigit() for ch in text):
            try:
                return cls("phone", normalise_phone(text))
            except ValidationError:
                raise ValidationError(SEARCH_REFUSED, code="search") from None
        key = normalise_name(text)
        if len(key) < MIN_NAME_LENGTH:
            raise ValidationError(SEARCH_REFUSED, code="search")
        return cls("name", key)

    def q(self, cpts) -> Q:
        """The requests of `cpts` that match; a name or a NIR is looked up among the CPTS's
        members only (index intake_member_cpts_name), not among all those of the platform."""
        if self.kind == "reference":
            return Q(reference=self.value)
        if self.kind == "phone":
            return Q(phone=self.value)
        members = HouseholdMember.objects.filter(cpts=cpts)
        if self.kind == "nir":
            lookup = "nir" if len(self.value) == 15 else "nir__startswith"
            members = members.filter(**{lookup: self.value})
        else:
            members = members.filter(normalised_name__startswith=self.value)
        return Q(pk__in=members.values("request_id"))


def base_queryset(*, cpts, user, search: QueueSearch | None = None) -> QuerySet:
    """Every request of `cpts` the user may see as a coordinator (tenant scoping), narrowed to
    the search when there is one."""
    requests = Request.objects.for_user(user, QUEUE_ROLES).filter(cpts=cpts)
    return requests.filter(search.q(cpts)) if search else requests


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


DEFAULT_SORT = "priority"
_STATUS_RANK = Case(
    *(When(status=value, then=rank) for rank, value in enumerate(Status.values)),
    output_field=IntegerField(),
)
# Each column's order, ascending; "-key" reverses every term. The reference ends every order
# (unique): pages are stable.
SORTS = {
    "reference": ("reference",),
    "priority": ("-is_priority", "waiting_since", "reference"),
    "waiting": ("waiting_since", "reference"),
    "commune": ("commune__name", "-is_priority", "waiting_since", "reference"),
    "status": ("status_rank", "-is_priority", "waiting_since", "reference"),
}


def sort_key(value: str) -> str:
    """The sort asked for if it is a known column ("commune", "-commune"), else the default."""
    value = (value or "").strip()
    return value if value.removeprefix("-") in SORTS else DEFAULT_SORT


def _order(sort: str) -> list[str]:
    terms = SORTS[sort.removeprefix("-")]
    if not sort.startswith("-"):
        return list(terms)
    return [term[1:] if term.startswith("-") else f"-{term}" for term in terms]


def _ordered(*, cpts, user, filters: QueueFilters, search=None, sort: str = "") -> QuerySet:
    """The filtered (and searched) queue in the order asked for, without annotations."""
    sort = sort_key(sort)
    requests = base_queryset(cpts=cpts, user=user, search=search)
    if sort.removeprefix("-") == "status":
        requests = requests.annotate(status_rank=_STATUS_RANK)
    return requests.filter(_filter_q(filters)).order_by(*_order(sort))


def _for_display(requests: QuerySet) -> QuerySet:
    """What a row of the queue shows, without a query per row."""
    return (
        requests.select_related("commune", "referrer")
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
    )


def queue_requests(
    *, cpts, user, filters: QueueFilters, search: QueueSearch | None = None, sort: str = ""
) -> QuerySet:
    """The filtered (and searched) queue, in the order asked for (`sort_key`), ready to display
    (no query per row). Every row is annotated: for an export or a selection, not for a page
    of the queue (`queue_page` annotates the page's rows only)."""
    return _for_display(_ordered(cpts=cpts, user=user, filters=filters, search=search, sort=sort))


# A state or commune sort walking more groups than this (a sparse filter over many communes)
# falls back to one ORDER BY over the filtered queue.
MAX_GROUPS_WALKED = 40


def _page_ids(
    *, cpts, user, filters, search, sort: str, offset: int, limit: int, small: bool = False
) -> list[int]:
    """The ids of rows offset…offset+limit of the queue, read from an index in its order.

    The state and commune sorts order by a rank or a joined name that no index of the request
    table holds: they walk one state (in the order of Status) or one commune (by name, the
    communes of the territory first) at a time, each served by an index, until the page is
    full — a cost bounded by the page's position, not by the queue. A `small` queue (at most
    COUNT_CAP requests) is sorted in one query."""
    sort = sort_key(sort)
    column, descending = sort.removeprefix("-"), sort.startswith("-")
    requests = base_queryset(cpts=cpts, user=user, search=search).filter(_filter_q(filters))
    if small or column not in ("status", "commune"):
        ordered = _ordered(cpts=cpts, user=user, filters=filters, search=search, sort=sort)
        return list(ordered.values_list("pk", flat=True)[offset : offset + limit])
    # (group, its order): within a group, the order after the state or commune
    rest, whole = _order(sort)[1:], _order(sort)
    if column == "status":
        groups = [(Q(status=value), rest) for value in Status.values]
    else:
        from accesmt.territory.models import Commune

        codes = list(
            Commune.objects.filter(territory__cpts=cpts)
            .order_by("name", "pk")
            .values_list("pk", flat=True)
        )
        # A request whose commune left the territory: after those of the territory.
        groups = [(Q(commune_id=code), rest) for code in codes]
        groups.append((~Q(commune_id__in=codes), whole))
    if descending:
        groups.reverse()
    need, ids = offset + limit, []
    for walked, (group, order) in enumerate(groups):
        if walked == MAX_GROUPS_WALKED:
            ordered = _ordered(cpts=cpts, user=user, filters=filters, search=search, sort=sort)
            return list(ordered.values_list("pk", flat=True)[offset : offset + limit])
        chunk = requests.filter(group).order_by(*order).values_list("pk", flat=True)
        ids += chunk[: need - len(ids)]
        if len(ids) >= need:
            break
    return ids[offset:need]


def bounded_count(requests: QuerySet) -> int:
    """The number of `requests`, counted up to COUNT_CAP + 1 (an index range, whatever the
    queue's length): above COUNT_CAP means « plus de 1 000 »."""
    return pagination.bounded_count(requests, COUNT_CAP)


@dataclass
class FacetOption:
    value: str
    label: str
    count: int | None  # None: not counted (more than COUNT_CAP requests)
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


def _filter_key(filters: QueueFilters, skip: str = "") -> tuple:
    """The filters once `skip` is left out ("" filters nothing, status included): two facets
    whose other filters are the same share their bounded count."""
    return tuple("" if f.name == skip else getattr(filters, f.name) for f in fields(filters))


def _uncounted(labels: dict[str, str], selected: str) -> list[FacetOption]:
    """A filter's values without their number (the queue is above COUNT_CAP)."""
    return [FacetOption(v, label, None, v == selected) for v, label in labels.items()]


def _territory_communes(cpts, selected: str) -> dict[str, str]:
    from accesmt.territory.models import Commune

    wanted = Q(territory__cpts=cpts)
    if selected:  # the chosen commune stays listed (and no `OR pk IS NULL`: that was a scan)
        wanted |= Q(pk=selected)
    communes = Commune.objects.filter(wanted)
    return dict(communes.order_by("name", "pk").distinct().values_list("pk", "name"))


def _referrers(cpts, selected: str) -> dict[str, str]:
    from accesmt.accounts.models import User

    chosen = Q(pk=int(selected)) if selected.isascii() and selected.isdigit() else Q(pk__in=[])
    users = User.objects.filter(
        Q(memberships__cpts=cpts, memberships__role__in=REFERRAL_ROLES) | chosen
    ).distinct()
    return {
        str(pk): f"{first} {last}".strip()
        for pk, first, last in users.order_by("last_name", "first_name", "pk").values_list(
            "pk", "first_name", "last_name"
        )
    }


def queue_facets(*, cpts, user, filters: QueueFilters, search=None, counts=None) -> list[Facet]:
    """For each filter, its values with the number of requests each would show (the other
    filters and the search applied): one GROUP BY per filter over at most COUNT_CAP requests.
    When the other filters leave more than COUNT_CAP requests, the values are listed without
    their number (`count` None). `counts` memoises the bounded counts (filters → count)."""
    base = base_queryset(cpts=cpts, user=user, search=search)
    counts = {} if counts is None else counts

    def counted(skip: str) -> bool:
        key = _filter_key(filters, skip)
        if key not in counts:
            counts[key] = bounded_count(base.filter(_filter_q(filters, skip=skip)))
        return counts[key] <= COUNT_CAP

    if counted("status"):
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
    else:
        status_options = [
            FacetOption(OPEN, OPEN_LABEL, None, filters.status == OPEN),
            *_uncounted(dict(Status.choices), filters.status),
        ]

    if counted("commune"):
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
    else:
        commune_options = _uncounted(_territory_communes(cpts, filters.commune), filters.commune)

    rule_labels = {r.code: r.title for r in RULES}
    if counted("rule"):
        rule_rows = (
            RequestPriorityReason.objects.filter(
                request__in=base.filter(_filter_q(filters, skip="rule"))
            )
            .order_by()
            .values_list("rule_code")
            .annotate(n=Count("request", distinct=True))
        )
        rule_options = _options(rule_rows, filters.rule, rule_labels)
    else:
        rule_options = _uncounted(rule_labels, filters.rule)

    visit_labels = {
        HomeVisits.OCCASIONALLY.value: "de temps en temps",
        HomeVisits.EXCLUSIVELY.value: "uniquement à domicile",
    }
    any_label = "toutes (parfois ou uniquement)"
    if counted("home_visits"):
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
        visit_options = [
            FacetOption(
                ANY_HOME_VISITS,
                any_label,
                any_visits,
                filters.home_visits == "any",
            ),
            *_options(visit_rows, filters.home_visits, visit_labels),
        ]
    else:
        visit_options = _uncounted(
            {ANY_HOME_VISITS: any_label, **visit_labels}, filters.home_visits
        )

    channel_labels = dict(Channel.choices)
    channel_labels = {
        **{k: v for k, v in channel_labels.items() if k != Channel.CPAM_LIST},
        CPAM_REFERRAL: REFERRED_BY_CPAM_LABEL,
        Channel.CPAM_LIST: channel_labels[Channel.CPAM_LIST],
    }
    if counted("channel"):
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
        channel_options = _options(channel_counts.items(), filters.channel, channel_labels)
    else:
        channel_options = _uncounted(channel_labels, filters.channel)

    if counted("referrer"):
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
    else:
        referrer_options = _uncounted(_referrers(cpts, filters.referrer), filters.referrer)

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
    page: QueuePage
    facets: list[Facet]
    filters: QueueFilters
    total: int  # exact when total_known, else COUNT_CAP + 1 (« plus de 1 000 »)
    sort: str = DEFAULT_SORT
    search: QueueSearch | None = None
    total_known: bool = True

    @property
    def facets_uncounted(self) -> bool:
        return any(o.count is None for f in self.facets for o in f.options)

    @property
    def total_text(self) -> str:
        return str(self.total) if self.total_known else f"plus de {self.cap_text}"

    @property
    def cap_text(self) -> str:
        return pagination.cap_text(COUNT_CAP)  # "1 000"


def queue_page(
    *, cpts, user, filters: QueueFilters, page_number=1, search=None, sort: str = ""
) -> Queue:
    """One page of the queue with its bounded counts: the page's ids read in an index's order
    (one more than a page: is there a next one?), then those rows only annotated. A page past
    the end shows the last one (as Django's Paginator.get_page)."""
    base = base_queryset(cpts=cpts, user=user, search=search)
    filtered = base.filter(_filter_q(filters))
    counts = {_filter_key(filters): bounded_count(filtered)}
    total = counts[_filter_key(filters)]
    number = pagination.page_number(page_number)
    if total <= COUNT_CAP:
        number = min(number, max(1, -(-total // PAGE_SIZE)))

    def read(number: int) -> list[int]:
        offset = (number - 1) * PAGE_SIZE
        return _page_ids(
            cpts=cpts,
            user=user,
            filters=filters,
            search=search,
            sort=sort,
            offset=offset,
            limit=PAGE_SIZE + 1,
            small=total <= COUNT_CAP,
        )

    ids = read(number)
    if not ids and number > 1:  # past the end of a long queue: count it, show the last page
        total = filtered.order_by().count()
        number = max(1, -(-total // PAGE_SIZE))
        ids = read(number)
    has_next = len(ids) > PAGE_SIZE
    ids = ids[:PAGE_SIZE]
    position = {pk: index for index, pk in enumerate(ids)}
    rows = sorted(_for_display(Request.objects.filter(pk__in=ids)), key=lambda r: position[r.pk])
    total_known = total <= COUNT_CAP or not has_next
    if not has_next:  # the last page: the total is known
        total = (number - 1) * PAGE_SIZE + len(rows)
    num_pages = max(1, -(-total // PAGE_SIZE)) if total_known else f"plus de {number}"
    if not total_known and number < COUNT_CAP // PAGE_SIZE:
        num_pages = f"plus de {COUNT_CAP // PAGE_SIZE}"
    return Queue(
        page=QueuePage(rows, number, pagination.BoundedPaginator(num_pages, PAGE_SIZE), has_next),
        facets=queue_facets(cpts=cpts, user=user, filters=filters, search=search, counts=counts),
        filters=filters,
        total=total,
        sort=sort_key(sort),
        search=search,
        total_known=total_known,
    )


def rule_title(code: str) -> str:
    return RULE_TITLES.get(code, code)


MAX_SELECTION = PAGE_SIZE  # the boxes of one page


def parse_references(values) -> list[str] | None:
    """The references checked on a page of the queue (deduplicated, in the order given), or None
    when there are none, too many, or one that is not a reference (a tampered form)."""
    references = list(dict.fromkeys(value.strip().upper() for value in values))
    if not references or len(references) > MAX_SELECTION:
        return None
    if any(REFERENCE.fullmatch(value) is None or "-" not in value for value in references):
        return None
    return references


def selected_requests(*, cpts, user, references: list[str]) -> list[Request] | None:
    """The requests of `cpts` named by `references`, whatever their state, in the queue's
    default order and ready to display or export; None when one of them is not a request of
    this CPTS that the user may see (another CPTS's reference is never acted on)."""
    requests = list(
        queue_requests(cpts=cpts, user=user, filters=QueueFilters(status="")).filter(
            reference__in=references
        )
    )
    return requests if len(requests) == len(references) else None
