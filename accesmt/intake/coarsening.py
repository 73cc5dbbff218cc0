"""k-anonymity of what anonymised requests keep for statistics (issue 14, ADR 0027).

After anonymisation (retention.py) a request keeps no name nor contact, but the quasi-identifiers
kept for statistics — the commune and coverage of the household, the birth year, ALD and
disability of each person — could still single someone out ("the only person born in 1931 with
an ALD and a disability in this village"). `anonymised_coarsen(cpts)` generalises them until no
combination (commune, birth year, ALD, disability, coverage) among the anonymised people of a
CPTS designates fewer than K = 5 people, or the person's attributes are all withheld.

The ladder, one rung at a time for every person of a group smaller than K, then the groups are
counted again, until none is left (each rung only coarsens, so it ends):

1. birth year → 5-year band (1953 → 1950–1954);
2. 5-year band → 10-year band (1950–1959);
3. commune → withheld (the request counts at the CPTS's level only; its postcode goes too);
4. coverage → withheld ("");
5. disability → withheld (NULL);
6. ALD → withheld (NULL);
7. birth year band → withheld.

A commune and a coverage belong to the household: withholding them for one person withholds them
for the whole household, which only makes other groups coarser. The priority reasons kept with
the request follow: their labels lose the age at anonymisation ("Personne de 78 ans" → "Personne
âgée"), and a withheld ALD, disability, coverage or birth year takes its reason away.

Deterministic (the same records give the same result) and idempotent (a run over an anonymised
population where every group has K people changes nothing). Records are only ever coarsened: a
group that had K people keeps them, since anonymised records are only added; a newly anonymised
person whose group is small is generalised until they join a group of K (e.g. a band that
earlier records already use), so the records stay consistent with each other.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from django.db import transaction

from .models import HouseholdMember, Request, RequestPriorityReason

K = 5

# The generic labels a priority reason takes at anonymisation (no age, no member's detail).
GENERIC_LABELS = {"senior": "Personne âgée", "young_child": "Jeune enfant"}


@dataclass
class _Person:
    pk: int
    request_id: int
    year: int | None
    span: int | None
    ald: bool | None
    disability: bool | None


def _key(person: _Person, commune: dict, coverage: dict) -> tuple:
    rid = person.request_id
    return (commune[rid], person.year, person.span, person.ald, person.disability, coverage[rid])


def _withheld(person: _Person, commune: dict, coverage: dict) -> bool:
    rid = person.request_id
    return (
        commune[rid] is None
        and coverage[rid] == ""
        and person.year is None
        and person.ald is None
        and person.disability is None
    )


def _next_rung(person: _Person, commune: dict, coverage: dict) -> None:
    """Apply the first rung of the ladder that this person's record has not reached."""
    rid = person.request_id
    if person.span == 1:
        person.span, person.year = 5, person.year - person.year % 5
    elif person.span == 5:
        person.span, person.year = 10, person.year - person.year % 10
    elif commune[rid] is not None:
        commune[rid] = None
    elif coverage[rid] != "":
        coverage[rid] = ""
    elif person.disability is not None:
        person.disability = None
    elif person.ald is not None:
        person.ald = None
    else:
        person.year = person.span = None


def generalise(people: list[_Person], commune: dict, coverage: dict) -> None:
    """The ladder over in-memory records (pure: the tests and the job share it)."""
    while True:
        sizes = Counter(_key(p, commune, coverage) for p in people)
        small = [
            p
            for p in people
            if sizes[_key(p, commune, coverage)] < K and not _withheld(p, commune, coverage)
        ]
        if not small:
            return
        for person in small:
            _next_rung(person, commune, coverage)


def small_groups(cpts) -> list[tuple]:
    """The combinations among the anonymised people of `cpts` held by fewer than K people with
    at least one attribute kept (empty once `anonymised_coarsen` has run)."""
    rows = HouseholdMember.objects.filter(
        request__cpts=cpts, request__anonymised_at__isnull=False
    ).values_list(
        "request__commune_id",
        "birth_year",
        "birth_year_span",
        "has_ald",
        "has_disability",
        "request__coverage",
    )
    sizes = Counter(rows)
    blank = (None, None, None, None, None, "")
    return [key for key, n in sizes.items() if n < K and key != blank]


def anonymised_coarsen(cpts) -> int:
    """Generalise the quasi-identifiers of the anonymised requests of `cpts` (see the module's
    docstring); return how many people or households changed."""
    with transaction.atomic():
        requests = dict(
            Request.objects.select_for_update()
            .filter(cpts=cpts, anonymised_at__isnull=False)
            .values_list("pk", "commune_id")
        )
        coverage = dict(Request.objects.filter(pk__in=list(requests)).values_list("pk", "coverage"))
        people = [
            _Person(*row)
            for row in HouseholdMember.objects.filter(request_id__in=list(requests))
            .order_by("pk")
            .values_list(
                "pk", "request_id", "birth_year", "birth_year_span", "has_ald", "has_disability"
            )
        ]
        before_people = {p.pk: (p.year, p.span, p.ald, p.disability) for p in people}
        commune, new_coverage = dict(requests), dict(coverage)
        generalise(people, commune, new_coverage)

        changed = [
            p for p in people if before_people[p.pk] != (p.year, p.span, p.ald, p.disability)
        ]
        HouseholdMember.objects.bulk_update(
            [
                HouseholdMember(
                    pk=p.pk,
                    birth_year=p.year,
                    birth_year_span=p.span,
                    has_ald=p.ald,
                    has_disability=p.disability,
                )
                for p in changed
            ],
            ["birth_year", "birth_year_span", "has_ald", "has_disability"],
            batch_size=500,
        )
        no_commune = [rid for rid in requests if requests[rid] is not None and commune[rid] is None]
        Request.objects.filter(pk__in=no_commune).update(commune=None, postcode="")
        no_coverage = [rid for rid in coverage if coverage[rid] != "" and new_coverage[rid] == ""]
        Request.objects.filter(pk__in=no_coverage).update(coverage="")
        # Reasons that would tell what was withheld go with it.
        RequestPriorityReason.objects.filter(
            request_id__in=no_coverage, rule_code="coverage"
        ).delete()
        for rules, attribute in (
            (["ald"], "ald"),
            (["disability"], "disability"),
            (["senior", "young_child"], "year"),
        ):
            withheld = [p.pk for p in changed if getattr(p, attribute) is None]
            RequestPriorityReason.objects.filter(
                member_id__in=withheld, rule_code__in=rules
            ).delete()
        return len(changed) + len(set(no_commune) | set(no_coverage))


def priority_labels_generalise(ids: list[int]) -> None:
    """At anonymisation: the age-bearing labels of priority reasons become generic."""
    for rule, label in GENERIC_LABELS.items():
        RequestPriorityReason.objects.filter(request_id__in=ids, rule_code=rule).update(label=label)
