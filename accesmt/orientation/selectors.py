"""Reads of the orientation flow: who can be asked about a request, the GPs' monthly figures,
what a GP may see of a household (anonymised), the households a GP could take."""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Count, Sum
from django.utils import timezone

from accesmt.directory.models import PracticeSite, Practitioner
from accesmt.directory.selectors import gp_with_rpps
from accesmt.intake.ages import age_bands_text
from accesmt.intake.models import HomeVisits, Request, Status
from accesmt.intake.priority import RULE_TITLES
from accesmt.matching.candidates import (
    Candidate,
    Exclusion,
    explain_exclusions,
    format_km,
    rank_candidates,
)
from accesmt.matching.models import MatchingSettings
from accesmt.matching.selectors import candidate_index, household_needs

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


def request_candidates(
    request: Request,
    *,
    limit: int | None = None,
    with_exclusions: bool = False,
    now: datetime.datetime | None = None,
) -> tuple[list[CandidateRow], list[ExclusionRow]]:
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
        exclusions = explain_exclusions(index, needs, max_distance_km=settings.max_distance_km)
    practitioners = Practitioner.objects.in_bulk(
        {c.practitioner_id for c in ranked} | {e.practitioner_id for e in exclusions}
    )
    sites = PracticeSite.objects.in_bulk({c.site_id for c in ranked})
    return (
        [CandidateRow(c, practitioners[c.practitioner_id], sites[c.site_id]) for c in ranked],
        [
            ExclusionRow(e, practitioners[e.practitioner_id])
            for e in exclusions
            if e.practitioner_id not in asked
        ],
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


def usual_gp_of(request: Request) -> Practitioner | None:
    """The directory's GP named as the one the person already sees (by RPPS), or None."""
    return gp_with_rpps(request.usual_gp_rpps)


def accepted_solicitations(request: Request):
    return (
        request.solicitations.accepted()
        .select_related("practitioner", "site", "site__commune")
        .order_by("distance_km", "pk")
    )


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


def requests_a_gp_can_take(practitioner: Practitioner, cpts, *, limit: int = 50) -> list[dict]:
    """Waiting households of `cpts` that `practitioner` may take under their current
    declaration (profiles, places left, home-visit zone, distance), priority first, then the
    longest wait. Anonymised rows: the summary, the distance, the request id."""
    return gp_households_to_take(practitioner, cpts, limit=limit)[1]


def gp_households_to_take(
    practitioner: Practitioner, cpts, *, limit: int = 50
) -> tuple[int, list[dict]]:
    """(places the GP has left this month, in persons; `requests_a_gp_can_take`). A household
    of more persons than the places left is not offered: it is never split between GPs."""
    settings = MatchingSettings.for_cpts(cpts)
    index = _current_index(cpts)
    rows_of_gp = index.sites_of.get(practitioner.pk)
    if rows_of_gp is None:
        return 0, []
    if not index.open_mask[rows_of_gp].any():  # no valid declaration accepting, or full
        return 0, []
    places_left = int(index.remaining_capacity[rows_of_gp].max())
    waiting = (
        Request.objects.filter(cpts=cpts, status=Status.WAITING)
        .exclude(solicitations__practitioner=practitioner)
        .select_related("commune")
        .prefetch_related("members", "priority_reasons")
        .order_by("-is_priority", "waiting_since", "pk")
    )
    rows = []
    for request in waiting:
        needs = household_needs(request)
        found = [
            c
            for c in rank_candidates(
                index, needs, max_distance_km=settings.max_distance_km, limit=None
            )
            if c.practitioner_id == practitioner.pk
        ]
        if found:
            rows.append(
                {
                    "request": request,
                    "summary": household_summary(request),
                    "distance": format_km(found[0].distance_km),
                    "site_id": found[0].site_id,
                    "distance_km": found[0].distance_km,
                }
            )
            if len(rows) >= limit:
                break
    return places_left, rows


def solicitation_counts_by_status(request: Request) -> dict[str, int]:
    counts = dict(
        request.solicitations.values("status").annotate(n=Count("pk")).values_list("status", "n")
    )
    return {status: counts.get(status, 0) for status in SolicitationStatus.values}
