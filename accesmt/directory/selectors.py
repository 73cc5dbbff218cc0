"""Reads on the GP directory and the availability declarations."""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.db.models import Count, OuterRef, Prefetch, Q, QuerySet, Subquery

from accesmt.territory.models import CPTS

from .models import AvailabilityDeclaration, PracticeSite, Practitioner, aged_60_plus_q


def practitioner_of_user(user, cpts: CPTS) -> Practitioner | None:
    """The present practitioner of the CPTS with the user's RPPS number (stored at their first
    Pro Santé Connect login, decision 0026), else the one whose e-mail is the user's (None if
    none or several)."""
    present = Practitioner.objects.present().in_cpts(cpts)
    if user.rpps:
        by_rpps = present.filter(rpps=user.rpps).first()
        if by_rpps is not None:
            return by_rpps
    if not user.email:
        return None
    found = list(present.filter(email__iexact=user.email)[:2])
    return found[0] if len(found) == 1 else None


def gp_choices_of(cpts: CPTS) -> list[tuple[str, str]]:
    """(RPPS, "Dr First Last — commune") of the present GPs of the CPTS that have an RPPS
    number, by name: the list in which a person picks the GP they already see."""
    commune = Subquery(
        PracticeSite.objects.filter(
            practitioner=OuterRef("pk"), is_gone=False, commune__territory__cpts=cpts
        )
        .order_by("pk")
        .values("commune__name")[:1]
    )
    rows = (
        Practitioner.objects.present()
        .in_cpts(cpts)
        .filter(rpps__isnull=False)
        .annotate(commune_label=commune)
        .order_by("last_name", "first_name", "pk")
        .values_list("rpps", "first_name", "last_name", "commune_label")
    )
    return [
        (rpps, " ".join(p for p in ("Dr", first, last) if p) + (f" — {where}" if where else ""))
        for rpps, first, last, where in rows
    ]


def gp_with_rpps(rpps: str) -> Practitioner | None:
    """The present GP of the directory holding this RPPS number, or None."""
    if not rpps:
        return None
    return Practitioner.objects.present().filter(rpps=rpps).first()


def cpts_of(practitioner: Practitioner, *, include_gone_sites: bool = False) -> list[CPTS]:
    """The CPTS a practitioner belongs to: those whose territory holds the commune of one of
    their sites (present sites only unless `include_gone_sites`). Usually one, possibly two."""
    sites = PracticeSite.objects.filter(practitioner=practitioner)
    if not include_gone_sites:
        sites = sites.filter(is_gone=False)
    return list(CPTS.objects.filter(territory__commune__practice_sites__in=sites).distinct())


def practitioner_belongs_to(practitioner: Practitioner, cpts: CPTS) -> bool:
    """Whether one of the practitioner's sites (present or gone) lies in the CPTS territory."""
    return PracticeSite.objects.filter(
        practitioner=practitioner, commune__territory__cpts=cpts
    ).exists()


def practitioners_of(cpts: CPTS, *, include_gone: bool = False) -> QuerySet[Practitioner]:
    """The practitioners of a CPTS with their present sites in its territory prefetched
    (`practitioner.cpts_sites`)."""
    qs = Practitioner.objects.in_cpts(cpts)
    if not include_gone:
        qs = qs.present()
    return qs.prefetch_related(
        Prefetch(
            "sites",
            queryset=PracticeSite.objects.present()
            .in_cpts(cpts)
            .select_related("commune")
            .order_by("pk"),
            to_attr="cpts_sites",
        )
    )


def current_declaration(
    practitioner: Practitioner, cpts: CPTS, *, now: datetime.datetime | None = None
) -> AvailabilityDeclaration | None:
    """The practitioner's current (latest, not expired) declaration in the CPTS, if any."""
    return (
        AvailabilityDeclaration.objects.filter(practitioner=practitioner, cpts=cpts)
        .current(now)
        .first()
    )


def latest_declaration(practitioner: Practitioner, cpts: CPTS) -> AvailabilityDeclaration | None:
    """The practitioner's latest declaration in the CPTS, expired or not."""
    return (
        AvailabilityDeclaration.objects.filter(practitioner=practitioner, cpts=cpts)
        .order_by("-declared_at", "-pk")
        .first()
    )


def current_declarations(
    cpts: CPTS, *, now: datetime.datetime | None = None
) -> QuerySet[AvailabilityDeclaration]:
    """Current declarations of a CPTS, with practitioner and home-visit communes loaded."""
    return (
        AvailabilityDeclaration.objects.filter(cpts=cpts)
        .current(now)
        .select_related("practitioner")
        .prefetch_related("home_visit_communes")
    )


GP_COUNT_FIELDS = ("present", "aged_60_plus", "msu")


def gp_counts_by_cpts(cpts_ids: Iterable[int], *, on: datetime.date) -> dict[int, dict[str, int]]:
    """{CPTS id: {present, aged_60_plus, msu}}: the present GPs with a present site in each
    territory today (ages as of `on`'s year), in one grouped query. A CPTS without GPs is
    absent from the result."""
    rows = (
        PracticeSite.objects.filter(
            is_gone=False, practitioner__is_gone=False, commune__territory__cpts__in=cpts_ids
        )
        .order_by()
        .values("commune__territory__cpts")
        .annotate(
            present=Count("practitioner", distinct=True),
            aged_60_plus=Count(
                "practitioner", distinct=True, filter=aged_60_plus_q(on.year, "practitioner__")
            ),
            msu=Count("practitioner", distinct=True, filter=Q(practitioner__is_msu=True)),
        )
    )
    return {
        row["commune__territory__cpts"]: {name: row[name] for name in GP_COUNT_FIELDS}
        for row in rows
    }


def latest_declarations(cpts_ids: Iterable[int] | None = None) -> QuerySet:
    """The latest declaration of each present GP in each CPTS (of `cpts_ids`; all by default),
    expired or not: a declared departure stays the GP's last word until they say otherwise,
    even when their availability has lapsed. Read by the directory page, the projection and the
    departure alerts (one rule)."""
    found = AvailabilityDeclaration.objects.latest_per_practitioner().filter(
        practitioner__is_gone=False
    )
    if cpts_ids is not None:
        found = found.filter(cpts_id__in=list(cpts_ids))
    return found


def planned_departures(
    cpts_ids: Iterable[int] | None = None,
    *,
    on_or_after: datetime.date | None = None,
    before: datetime.date | None = None,
) -> QuerySet:
    """Latest declarations (as `latest_declarations`) that announce a departure, dated in
    [on_or_after, before) when given."""
    found = latest_declarations(cpts_ids).filter(planned_departure_date__isnull=False)
    if on_or_after is not None:
        found = found.filter(planned_departure_date__gte=on_or_after)
    if before is not None:
        found = found.filter(planned_departure_date__lt=before)
    return found
