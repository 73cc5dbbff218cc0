"""Reads of the orientation flow: who can be asked about a request, the GPs' monthly figures,
what a GP may see of a household (anonymised), the households a GP could take."""

from __future__ import annotations

import datetime
import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from django.db.models import (
    Count,
    Exists,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    prefetch_related_objects,
)
from django.db.models.functions import ASin, Coalesce, Cos, Least, Power, Radians, Sin, Sqrt
from django.db.models.lookups import IsNull
from django.utils import timezone

from accesmt.accounts.models import Membership, Role
from accesmt.directory.models import PracticeSite, Practitioner
from accesmt.directory.selectors import gp_with_rpps
from accesmt.intake.ages import age_bands_text
from accesmt.intake.models import Coverage, HomeVisits, HouseholdMember, Request
from accesmt.intake.priority import RULE_TITLES
from accesmt.matching.candidates import (
    EXCLUSION_LABELS,
    EXCLUSION_ORDER,
    Candidate,
    Exclusion,
    Profile,
    explain_exclusions,
    format_km,
    rank_candidates,
)
from accesmt.matching.models import MatchingSettings
from accesmt.matching.selectors import (
    CHILD_AGE_BELOW,
    SENIOR_AGE,
    candidate_index,
    household_needs,
    waiting_requests,
    years_before,
)
from accesmt.territory.distances import EARTH_RADIUS_KM, haversine_km
from accesmt.territory.geocoding import GeocodeSource

from .models import (
    OPEN_SOLICITATION,
    ORIENTING,
    Origin,
    Placement,
    Solicitation,
    SolicitationStatus,
)


def month_start(now: datetime.datetime | None = None) -> datetime.datetime:
    local = timezone.localtime(now or timezone.now())
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def gp_month_counts(
    cpts_ids: Iterable[int] | None = None, now: datetime.datetime | None = None
) -> tuple[dict[int, int], dict[int, int]]:
    """(places used this month, solicitations this month) by practitioner id, counted over every
    CPTS (a GP's capacity is theirs, not a CPTS's). Places are persons: each member of a
    household placed with the GP this month uses one, and so does each member of a household the
    GP accepted that is still choosing (proposing or awaiting choice), so that two runs or two
    coordinators cannot offer a GP more persons than they declared. `cpts_ids` only narrows the
    GPs to those practising in those CPTS; None = all."""
    start = month_start(now)
    placements = Placement.objects.current().filter(at__gte=start)
    # The GP a person already sees, asked to become their MT, takes none of the places they
    # declared for new patients: neither the acceptance nor the question counts (issue 12).
    reserved = Solicitation.objects.filter(
        status=SolicitationStatus.ACCEPTED,
        request__status__in=ORIENTING,
    ).exclude(origin=Origin.USUAL_GP)
    solicitations = Solicitation.objects.filter(asked_at__gte=start).exclude(origin=Origin.USUAL_GP)
    if cpts_ids is not None:
        gps = PracticeSite.objects.filter(commune__territory__cpts__in=list(cpts_ids)).values(
            "practitioner_id"
        )
        placements = placements.filter(practitioner_id__in=gps)
        reserved = reserved.filter(practitioner_id__in=gps)
        solicitations = solicitations.filter(practitioner_id__in=gps)

    def by_gp(queryset, counted) -> Counter:
        return Counter(
            dict(
                queryset.order_by()
                .values("practitioner_id")
                .annotate(n=counted)
                .values_list("practitioner_id", "n")
            )
        )

    # a placement keeps the household's size when it was placed; an acceptance counts its members
    taken = dict(by_gp(placements, Sum("members")) + by_gp(reserved, Count("request__members")))
    asked = dict(by_gp(solicitations, Count("pk")))
    return taken, asked


@dataclass(frozen=True)
class CandidateRow:
    candidate: Candidate
    practitioner: Practitioner
    site: PracticeSite

    @property
    def distance(self) -> str:
        return format_km(self.candidate.distance_km)


@dataclass(frozen=True)
class ExclusionRow:
    exclusion: Exclusion
    practitioner: Practitioner

    @property
    def distance(self) -> str:
        return format_km(self.exclusion.distance_km)


def _current_index(cpts, now=None):
    taken, asked = gp_month_counts([cpts.pk], now)
    return candidate_index(cpts, now=now, taken_this_month=taken, solicitations_this_month=asked)


EXCLUSIONS_SHOWN = 30  # on the orientation page; the others on their own paginated page


@dataclass(frozen=True)
class Exclusions:
    """The GPs of the territory that are not proposed for a request (the GPs already asked left
    out), nearest first. Finding them is one vectorised pass over the candidate index; what costs
    is reading and showing them, so a page reads the practitioners of the rows it shows only."""

    found: list[Exclusion]

    @property
    def total(self) -> int:
        return len(self.found)

    @property
    def by_reason(self) -> list[tuple[str, int]]:
        """(short label, number of GPs) for each reason met, in the order they are checked."""
        counts = Counter(e.code for e in self.found)
        return [(EXCLUSION_LABELS[code], counts[code]) for code in EXCLUSION_ORDER if counts[code]]

    def rows(self, exclusions: Iterable[Exclusion]) -> list[ExclusionRow]:
        """`exclusions` (a slice of `found`) with their practitioners."""
        exclusions = list(exclusions)
        practitioners = Practitioner.objects.in_bulk({e.practitioner_id for e in exclusions})
        return [ExclusionRow(e, practitioners[e.practitioner_id]) for e in exclusions]


def request_candidates(
    request: Request,
    *,
    limit: int | None = None,
    with_exclusions: bool = False,
    now: datetime.datetime | None = None,
) -> tuple[list[CandidateRow], Exclusions]:
    """The ranked candidates for `request`, without the GPs already asked about it, and (when
    asked) every other GP of the territory with the reason it is excluded; declarations and
    places used are those of the month of `now`."""
    settings = MatchingSettings.for_cpts(request.cpts)
    index = _current_index(request.cpts, now)
    needs = household_needs(request)
    asked = set(request.solicitations.values_list("practitioner_id", flat=True))
    ranked = [
        c
        for c in rank_candidates(index, needs, max_distance_km=settings.max_distance_km, limit=None)
        if c.practitioner_id not in asked
    ][: limit or settings.candidates_shown]
    exclusions: list[Exclusion] = []
    if with_exclusions:
        exclusions = [
            e
            for e in explain_exclusions(index, needs, max_distance_km=settings.max_distance_km)
            if e.practitioner_id not in asked
        ]
    practitioners = Practitioner.objects.in_bulk({c.practitioner_id for c in ranked})
    sites = PracticeSite.objects.in_bulk({c.site_id for c in ranked})
    return (
        [CandidateRow(c, practitioners[c.practitioner_id], sites[c.site_id]) for c in ranked],
        Exclusions(exclusions),
    )


@dataclass(frozen=True)
class HouseholdSummary:
    """What a GP may know before accepting: no name, no date, no free text."""

    reference: str
    commune: str
    size: int
    age_bands: str  # "2 × 18 à 59 ans, moins de 6 ans"
    priority_reasons: list[str]
    home_visits: str  # "", "parfois", "uniquement"
    waiting_since: datetime.date


def household_summary(request: Request, *, today: datetime.date | None = None) -> HouseholdSummary:
    today = today or timezone.localdate()
    members = list(request.members.all())
    visits = {m.home_visits for m in members}
    # .all() so that a prefetch of the list pages serves it (no query per household)
    reasons = sorted(request.priority_reasons.all(), key=lambda reason: reason.pk)
    codes = list(dict.fromkeys(reason.rule_code for reason in reasons))
    return HouseholdSummary(
        reference=request.reference,
        commune=request.commune.name,
        size=len(members),
        age_bands=age_bands_text(m.age_on(today) for m in members),
        priority_reasons=[RULE_TITLES.get(code, code) for code in codes],
        home_visits=(
            "uniquement"
            if HomeVisits.EXCLUSIVELY in visits
            else "parfois"
            if HomeVisits.OCCASIONALLY in visits
            else ""
        ),
        waiting_since=timezone.localdate(request.waiting_since),
    )


def gp_has_account(practitioner: Practitioner, cpts) -> bool:
    """The GP has an active GP account in `cpts` (the account whose e-mail is theirs, as
    `practitioner_of_user` finds them): they have a list of households to take there."""
    if not practitioner.email:
        return False
    return Membership.objects.filter(
        cpts=cpts,
        role=Role.GP,
        is_active=True,
        user__is_active=True,
        user__email__iexact=practitioner.email,
    ).exists()


def usual_gp_of(request: Request) -> Practitioner | None:
    """The directory's GP named as the one the person already sees (by RPPS), or None."""
    return gp_with_rpps(request.usual_gp_rpps)


def accepted_solicitations(request: Request):
    return (
        request.solicitations.accepted()
        .select_related("practitioner", "site", "site__commune")
        .order_by("distance_km", "pk")
    )


def choice_offers(request: Request) -> list[Solicitation]:
    """The GPs who accepted, for the person's choice page, nearest first; each with
    `home_distance` ("2,3 km") from the person's home when their address was geocoded (a
    commune centre is not their home: then "")."""
    offers = list(accepted_solicitations(request))
    at_home = request.geocode_source == GeocodeSource.ADDRESS and request.latitude is not None
    for offer in offers:
        site = offer.site
        offer.home_distance = (
            format_km(
                haversine_km(request.latitude, request.longitude, site.latitude, site.longitude)
            )
            if at_home and site is not None and site.latitude is not None
            else ""
        )
    return offers


def open_solicitation_count(request: Request) -> int:
    return request.solicitations.filter(status__in=OPEN_SOLICITATION).count()


def gp_candidate_for(practitioner: Practitioner, request: Request) -> Candidate | None:
    """`practitioner` as a candidate for `request` under their current declaration (profiles,
    capacity, home-visit zone, distance), or None when they do not fit."""
    settings = MatchingSettings.for_cpts(request.cpts)
    found = [
        c
        for c in rank_candidates(
            _current_index(request.cpts),
            household_needs(request),
            max_distance_km=settings.max_distance_km,
            limit=None,
        )
        if c.practitioner_id == practitioner.pk
    ]
    return found[0] if found else None


def gp_exclusion_reason(practitioner: Practitioner, request: Request) -> str:
    """Why `practitioner` cannot take `request` under their current declaration (the first
    reason of `explain_exclusions`, e.g. a household larger than their places left), or ""."""
    settings = MatchingSettings.for_cpts(request.cpts)
    found = explain_exclusions(
        _current_index(request.cpts),
        household_needs(request),
        [practitioner.pk],
        max_distance_km=settings.max_distance_km,
    )
    return found[0].reason if found else ""


GP_SORTS = {
    # priority first, then the longest wait (the queue's index: intake_request_queue)
    "priorite": ("-is_priority", "waiting_since", "pk"),
    "distance": ("distance_km", "-is_priority", "waiting_since", "pk"),
}


def _km_from(latitude, longitude, site_latitude: float, site_longitude: float):
    """Great-circle distance (km) from the point (expressions) to a site, in SQL (haversine on
    the sphere of `accesmt.territory.distances`: the same distances as the candidate index)."""
    phi, lam = math.radians(site_latitude), math.radians(site_longitude)
    half_dphi = Sin((Radians(latitude) - phi) / 2)
    half_dlam = Sin((Radians(longitude) - lam) / 2)
    a = Power(half_dphi, 2) + Cos(Radians(latitude)) * math.cos(phi) * Power(half_dlam, 2)
    return 2 * EARTH_RADIUS_KM * ASin(Sqrt(a))


def _has_member(members: QuerySet) -> Q:
    """The household has one of `members` (correlated on the request): a probe of its members
    through their request index, row by row, as `EXISTS` would be — but written as a scalar
    subquery `(… LIMIT 1) IS NOT NULL`, which PostgreSQL cannot turn into a hash of every member
    of the platform (what it chose for an `EXISTS` under an OR: a whole-table scan per page)."""
    return Q(IsNull(Subquery(members.order_by().values("pk")[:1]), False))


def gp_households_to_take(
    practitioner: Practitioner, cpts, *, sort: str = "priorite", now=None
) -> tuple[int, QuerySet[Request]]:
    """(places the GP has left this month, in persons; the waiting households of `cpts` that
    `practitioner` may take under their current declaration), each annotated with `distance_km`
    to the GP's nearest site, ordered by `GP_SORTS[sort]`.

    The same rules as `rank_candidates` (profiles, places left — a household is never split
    between GPs —, home-visit zone, distance limit), written as one SQL query so that the list is
    filtered, sorted and paginated by the database: only the rows of the page shown (and their
    members) leave it, in a number of queries that does not depend on the queue. Households
    held for a departing GP's transfer plan and those already proposed to this GP are left
    out."""
    index = _current_index(cpts, now)
    rows = index.sites_of.get(practitioner.pk)
    if rows is None or not index.open_mask[rows].any():  # no valid declaration accepting, or full
        return 0, Request.objects.none()
    rows = rows[index.open_mask[rows]]
    places_left = int(index.remaining_capacity[rows].max())
    accepted = int(index.profiles[rows[0]])
    settings = MatchingSettings.for_cpts(cpts)
    latitude = Coalesce("latitude", "commune__latitude")
    longitude = Coalesce("longitude", "commune__longitude")
    distances = [
        _km_from(latitude, longitude, float(index.latitude[r]), float(index.longitude[r]))
        for r in rows
    ]
    today = timezone.localdate(now)
    members = HouseholdMember.objects.filter(request=OuterRef("pk"))
    persons = Coalesce(
        Subquery(members.order_by().values("request").annotate(n=Count("pk")).values("n")[:1]),
        0,
    )
    households = (
        waiting_requests(cpts)
        .exclude(
            Exists(Solicitation.objects.filter(request=OuterRef("pk"), practitioner=practitioner))
        )
        .annotate(
            distance_km=distances[0] if len(distances) == 1 else Least(*distances),
            persons=persons,
        )
        .filter(distance_km__lte=settings.max_distance_km, persons__lte=places_left)
    )
    refused = {
        Profile.CHILDREN_UNDER_6: _has_member(
            members.filter(birth_date__gt=years_before(today, CHILD_AGE_BELOW))
        ),
        Profile.AGED_70_PLUS: _has_member(
            members.filter(birth_date__lte=years_before(today, SENIOR_AGE))
        ),
        Profile.ALD: _has_member(members.filter(has_ald=True)),
        Profile.CSS_AME: Q(coverage__in=[Coverage.CSS, Coverage.AME]),
        Profile.HOME_VISITS: _has_member(members.exclude(home_visits=HomeVisits.NEVER)),
        Profile.HOUSEHOLDS: Q(persons__gte=2),
    }
    for bit, condition in refused.items():
        if not accepted & bit:
            households = households.exclude(condition)
    if accepted & Profile.HOME_VISITS:  # a household that needs visits: the zone must cover it
        covered = Q(pk__in=[])
        radius = float(index.visit_radius_km[rows[0]])
        if not math.isnan(radius):
            covered |= Q(distance_km__lte=radius)
        zone = [code for code, sites in index.zone_sites.items() if np.isin(rows, sites).any()]
        if zone:
            covered |= Q(commune_id__in=zone)
        households = households.filter(~refused[Profile.HOME_VISITS] | covered)
    return places_left, households.select_related("commune").order_by(
        *GP_SORTS.get(sort, GP_SORTS["priorite"])
    )


def gp_household_rows(requests) -> list[dict]:
    """Anonymised rows of the GP's list for the households of one page (members and priority
    reasons loaded for those only): the request, its summary, the distance."""
    requests = list(requests)
    prefetch_related_objects(requests, "members", "priority_reasons")
    return [
        {
            "request": request,
            "summary": household_summary(request),
            "distance": format_km(request.distance_km),
            "distance_km": request.distance_km,
        }
        for request in requests
    ]


def requests_a_gp_can_take(practitioner: Practitioner, cpts, *, limit: int = 50) -> list[dict]:
    """The first `limit` rows of `gp_households_to_take` (priority first, then the longest
    wait)."""
    return gp_household_rows(gp_households_to_take(practitioner, cpts)[1][:limit])


def solicitation_counts_by_status(request: Request) -> dict[str, int]:
    counts = dict(
        request.solicitations.values("status").annotate(n=Count("pk")).values_list("status", "n")
    )
    return {status: counts.get(status, 0) for status in SolicitationStatus.values}
