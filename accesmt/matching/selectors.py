"""From the models to the arrays of `candidates` and `allocation` (reads only, few queries).

- `candidate_index(cpts)` — the GPs of a CPTS (present practitioners, their present geolocated
  sites in the territory) with their latest declaration in that CPTS: none, expired or valid;
  accepting ("oui" or "au cas par cas"); capacity left this month; profiles; home-visit zone.
  `candidate_indexes(cpts_list)` builds one per CPTS, still in three queries.
- `household_needs(request)` — one request as `HouseholdNeeds` (the household stays together:
  the profile bits are the union over its members; it takes one place per member).
- `household_batch(requests)` — many requests as a `HouseholdBatch` for the allocation, in three
  queries whatever their number (the database computes the waiting time and aggregates the
  members' profile flags per household: no row per member crosses the wire).

Capacity is counted in persons (the declaration asks for new patients per month): capacity left
this month = declared monthly capacity − persons the GP took (or reserved) this month, and
load = solicitations this month / declared capacity. Who was asked and who took whom are recorded
by the orientation app (`accesmt.orientation.selectors.gp_month_counts`); callers pass those
counts (`taken_this_month`, `solicitations_this_month`, practitioner id → count); without them
nothing is subtracted. A declaration that accepts without a number counts as `UNKNOWN_CAPACITY`
place this month, so that no GP is offered more patients than they may want.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping

import numpy as np
from django.db.models import (
    Case,
    Count,
    DateTimeField,
    DurationField,
    ExpressionWrapper,
    F,
    Max,
    Q,
    QuerySet,
    Value,
    When,
)
from django.http import Http404
from django.utils import timezone

from accesmt.directory.models import (
    PROFILE_FIELDS,
    Accepting,
    AvailabilityDeclaration,
    PracticeSite,
)
from accesmt.intake.models import Coverage, HomeVisits, HouseholdMember, Request, Status

from .allocation import HouseholdBatch
from .candidates import CandidateIndex, Declaration, HouseholdNeeds, Profile
from .models import DEFAULT_MAX_DISTANCE_KM, AllocationRun, MatchingSettings

UNKNOWN_CAPACITY = 1
ACCEPTING_VALUES = (Accepting.YES, Accepting.ON_REQUEST)
CHILD_AGE_BELOW = 6
SENIOR_AGE = 70  # the declaration's profile is "70 ans et plus", whatever the priority setting


def candidate_index(
    cpts,
    *,
    now: datetime.datetime | None = None,
    taken_this_month: Mapping[int, int] | None = None,
    solicitations_this_month: Mapping[int, int] | None = None,
) -> CandidateIndex:
    """The CandidateIndex of the GPs of `cpts` (three queries)."""
    return candidate_indexes(
        [cpts],
        now=now,
        taken_this_month=taken_this_month,
        solicitations_this_month=solicitations_this_month,
    )[cpts.pk]


def candidate_indexes(
    cpts_list,
    *,
    now: datetime.datetime | None = None,
    taken_this_month: Mapping[int, int] | None = None,
    solicitations_this_month: Mapping[int, int] | None = None,
) -> dict[int, CandidateIndex]:
    """One CandidateIndex per CPTS of `cpts_list` (by CPTS id), in three queries whatever their
    number: each holds the sites in that CPTS's territory and the declarations made in it."""
    now = now or timezone.now()
    taken = taken_this_month or {}
    asked = solicitations_this_month or {}
    cpts_ids = [c.pk for c in cpts_list]
    sites = list(
        PracticeSite.objects.present()
        .filter(
            commune__territory__cpts_id__in=cpts_ids,
            practitioner__is_gone=False,
            latitude__isnull=False,
            longitude__isnull=False,
        )
        .order_by("pk")
        .values_list(
            "pk", "practitioner_id", "latitude", "longitude", "commune__territory__cpts_id"
        )
    )
    declarations = AvailabilityDeclaration.objects.filter(cpts_id__in=cpts_ids)
    if len(cpts_ids) == 1:  # one CPTS: only its GPs' declarations
        declarations = declarations.filter(practitioner_id__in={s[1] for s in sites})
    declared_by = {
        (row["cpts_id"], row["practitioner_id"]): row
        for row in declarations.latest_per_practitioner().values(
            "pk",
            "cpts_id",
            "practitioner_id",
            "valid_until",
            "accepting",
            "monthly_capacity",
            "home_visit_radius_km",
            *PROFILE_FIELDS,
        )
    }
    # a join rather than thousands of ids; zones of older declarations are simply not used
    zone_links = AvailabilityDeclaration.home_visit_communes.through.objects.filter(
        availabilitydeclaration__cpts_id__in=cpts_ids
    ).values_list("availabilitydeclaration_id", "commune_id")
    zones: dict[int, set[str]] = {}
    for declaration_id, insee in zone_links:
        zones.setdefault(declaration_id, set()).add(insee)
    sites_by_cpts: dict[int, list] = {cid: [] for cid in cpts_ids}
    for site in sites:
        sites_by_cpts[site[4]].append(site)
    return {
        cid: _index_of(rows, cid, declared_by, zones, taken, asked, now)
        for cid, rows in sites_by_cpts.items()
    }


def _index_of(sites, cpts_id, declared_by, zones, taken, asked, now) -> CandidateIndex:
    n = len(sites)
    state = np.zeros(n, dtype=np.int8)
    accepting = np.zeros(n, dtype=bool)
    remaining = np.zeros(n, dtype=np.int32)
    profiles = np.zeros(n, dtype=np.int16)
    radius = np.full(n, np.nan)
    load = np.zeros(n)
    communes: list[set[str] | None] = [None] * n
    for row, site in enumerate(sites):
        pid = site[1]
        declared = declared_by.get((cpts_id, pid))
        if declared is None:
            continue
        state[row] = Declaration.VALID if declared["valid_until"] > now else Declaration.EXPIRED
        accepting[row] = declared["accepting"] in ACCEPTING_VALUES
        capacity = declared["monthly_capacity"]
        if capacity is None:
            capacity = UNKNOWN_CAPACITY if accepting[row] else 0
        remaining[row] = max(capacity - taken.get(pid, 0), 0)
        load[row] = asked.get(pid, 0) / max(capacity, 1)
        profiles[row] = sum(
            int(bit) for bit, name in zip(Profile, PROFILE_FIELDS, strict=True) if declared[name]
        )
        if declared["home_visit_radius_km"] is not None:
            radius[row] = declared["home_visit_radius_km"]
        communes[row] = zones.get(declared["pk"])
    return CandidateIndex.build(
        site_id=[s[0] for s in sites],
        practitioner_id=[s[1] for s in sites],
        latitude=[s[2] for s in sites],
        longitude=[s[3] for s in sites],
        declaration=state,
        accepting=accepting,
        remaining_capacity=remaining,
        profiles=profiles,
        visit_radius_km=radius,
        visit_communes=communes,
        load=load,
    )


def years_before(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _member_bits(birth_dates, has_ald, home_visits, today: datetime.date) -> np.ndarray:
    """Profile bits of each member (vectorised over numpy arrays)."""
    born = np.asarray(birth_dates, dtype="datetime64[D]")
    under_6 = born > np.datetime64(years_before(today, CHILD_AGE_BELOW))
    senior = born <= np.datetime64(years_before(today, SENIOR_AGE))
    visits = np.asarray(home_visits, dtype=object) != HomeVisits.NEVER
    return (
        np.where(under_6, int(Profile.CHILDREN_UNDER_6), 0)
        | np.where(senior, int(Profile.AGED_70_PLUS), 0)
        | np.where(np.asarray(has_ald, dtype=bool), int(Profile.ALD), 0)
        | np.where(visits, int(Profile.HOME_VISITS), 0)
    ).astype(np.int16)


def _household_bits(member_bits, member_count, coverage) -> int:
    bits = int(np.bitwise_or.reduce(member_bits)) if len(member_bits) else 0
    if coverage in (Coverage.CSS, Coverage.AME):
        bits |= int(Profile.CSS_AME)
    if member_count >= 2:
        bits |= int(Profile.HOUSEHOLDS)
    return bits


def household_needs(request: Request, *, today: datetime.date | None = None) -> HouseholdNeeds:
    """The needs of one request (its own point, else its commune centre)."""
    today = today or timezone.localdate()
    # .all(): served by a prefetch of "members" when the caller made one (list pages)
    members = [(m.birth_date, m.has_ald, m.home_visits) for m in request.members.all()]
    bits = _household_bits(
        _member_bits(
            [m[0] for m in members], [m[1] for m in members], [m[2] for m in members], today
        ),
        len(members),
        request.coverage,
    )
    latitude, longitude = request.latitude, request.longitude
    if latitude is None:
        latitude, longitude = request.commune.latitude, request.commune.longitude
    return HouseholdNeeds(
        latitude=latitude,
        longitude=longitude,
        commune_insee=request.commune_id,
        required_profiles=bits,
        needs_home_visits=bool(bits & Profile.HOME_VISITS),
        persons=max(len(members), 1),
    )


def max_distance_by_cpts(cpts_ids) -> dict[int, float]:
    stored = dict(
        MatchingSettings.objects.filter(cpts_id__in=list(cpts_ids)).values_list(
            "cpts_id", "max_distance_km"
        )
    )
    return {cid: float(stored.get(cid, DEFAULT_MAX_DISTANCE_KM)) for cid in cpts_ids}


def waiting_requests(cpts=None) -> QuerySet[Request]:
    """The queue: requests waiting for a GP, of one CPTS or of the whole platform."""
    qs = Request.objects.filter(status=Status.WAITING, held_for_transfer=False)
    return qs if cpts is None else qs.filter(cpts=cpts)


def household_batch(
    requests: QuerySet[Request], *, now: datetime.datetime | None = None
) -> HouseholdBatch:
    """The requests as a HouseholdBatch (three queries; the members are aggregated per household
    by the database). Requests that cannot be placed (no point and a commune without
    coordinates) are left out; each household's distance limit is its CPTS's
    `MatchingSettings.max_distance_km`."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    waited = ExpressionWrapper(
        Value(now, output_field=DateTimeField()) - F("waiting_since"),
        output_field=DurationField(),
    )
    rows = list(
        requests.order_by("pk")
        .annotate(waited=waited)
        .values_list(
            "pk",
            "cpts_id",
            "latitude",
            "longitude",
            "commune_id",
            "commune__latitude",
            "commune__longitude",
            "coverage",
            "is_priority",
            "waited",
        )
    )
    rows = [r for r in rows if r[2] is not None or r[5] is not None]
    ids = np.array([r[0] for r in rows], dtype=np.int64)

    def flag(condition):
        return Max(Case(When(condition, then=Value(1)), default=Value(0)))

    members = np.array(
        HouseholdMember.objects.filter(request_id__in=requests.values("pk"))
        .order_by()
        .values("request_id")
        .annotate(
            count=Count("pk"),
            under_6=flag(Q(birth_date__gt=years_before(today, CHILD_AGE_BELOW))),
            senior=flag(Q(birth_date__lte=years_before(today, SENIOR_AGE))),
            ald=flag(Q(has_ald=True)),
            visits=flag(~Q(home_visits=HomeVisits.NEVER)),
        )
        .values_list("request_id", "count", "under_6", "senior", "ald", "visits"),
        dtype=np.int64,
    ).reshape(-1, 6)
    if len(ids):  # members of requests left out (no coordinates) are dropped
        position = np.minimum(np.searchsorted(ids, members[:, 0]), len(ids) - 1)
        known = ids[position] == members[:, 0]
    else:
        position, known = np.zeros(0, dtype=np.int64), np.zeros(len(members), dtype=bool)
    members, position = members[known], position[known]
    bits = np.zeros(len(ids), dtype=np.int16)
    count = np.zeros(len(ids), dtype=np.int64)
    count[position] = members[:, 1]
    for column, bit in (
        (2, Profile.CHILDREN_UNDER_6),
        (3, Profile.AGED_70_PLUS),
        (4, Profile.ALD),
        (5, Profile.HOME_VISITS),
    ):
        bits[position] |= np.where(members[:, column] > 0, int(bit), 0).astype(np.int16)
    coverage = np.array([r[7] for r in rows], dtype=object)
    bits |= np.where(
        np.isin(coverage, [Coverage.CSS, Coverage.AME]), int(Profile.CSS_AME), 0
    ).astype(np.int16)
    bits |= np.where(count >= 2, int(Profile.HOUSEHOLDS), 0).astype(np.int16)
    limits = max_distance_by_cpts({r[1] for r in rows})
    return HouseholdBatch.build(
        household_id=ids,
        latitude=[r[2] if r[2] is not None else r[5] for r in rows],
        longitude=[r[3] if r[2] is not None else r[6] for r in rows],
        is_priority=[r[8] for r in rows],
        waiting_days=[max(r[9].days, 0) for r in rows],
        required_profiles=bits,
        needs_home_visits=(bits & int(Profile.HOME_VISITS)) > 0,
        max_distance_km=[limits[r[1]] for r in rows],
        commune_insee=[r[4] for r in rows],
        cpts_id=[r[1] for r in rows],
        persons=count,
    )


def allocation_runs_for(user, cpts) -> QuerySet:
    """Runs visible under this CPTS's URL: its own, plus platform-wide ones for an admin."""
    scope = Q(cpts=cpts)
    if user.is_platform_admin:
        scope |= Q(cpts__isnull=True)
    return AllocationRun.objects.filter(scope).select_related("created_by", "cpts")


def allocation_run_for(user, cpts, pk: int):
    """One run visible under this CPTS's URL, or Http404 (another tenant's run is not found)."""
    run = allocation_runs_for(user, cpts).filter(pk=pk).first()
    if run is None:
        raise Http404("Page introuvable.")
    return run
