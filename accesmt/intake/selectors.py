"""Reads of the intake app."""

from __future__ import annotations

import datetime

from django.db.models import Exists, OuterRef, Prefetch, Q, Subquery

from accesmt.accounts.models import Role
from accesmt.common.formats import long_date
from accesmt.common.signing import INVALID, LinkError, check_link_age, read_link_token

from .models import (
    OPEN_STATUSES,
    DuplicateFlag,
    HouseholdMember,
    IntakeSettings,
    Request,
    RightsOutcome,
    RightsOutcomeKind,
)

FOLLOWUP_SALT = "accesmt.intake.followup"  # signs the person's follow-up links (services.py)


def request_for_followup_token(token: str) -> Request:
    """The request a follow-up token designates, if its signature holds and it has not outlived
    the CPTS's `follow_up_link_days`."""
    pk = read_link_token(token, salt=FOLLOWUP_SALT, key="r")
    request = Request.objects.select_related("cpts", "commune").filter(pk=pk).first()
    if request is None:
        raise LinkError(INVALID)
    days = IntakeSettings.for_cpts(request.cpts).follow_up_link_days
    check_link_age(token, salt=FOLLOWUP_SALT, max_age=datetime.timedelta(days=days))
    return request


def referrals_of(*, user, cpts):
    """The requests `user` referred in `cpts`, newest first (status only is shown)."""
    return (
        Request.objects.filter(cpts=cpts, referrer=user)
        .select_related("commune")
        .order_by("-created_at")
    )


def priority_badges(request: Request) -> list[str]:
    return [reason.label for reason in request.priority_reasons.all()]


def duplicates_of(request: Request) -> list[dict]:
    """What the coordinator may know of the possible duplicates of `request`, and may do with
    them: the other request of the same CPTS (reference, state), or only the fact that another
    CPTS has one. `can_merge`: both open, same CPTS, not resolved; `can_dismiss`: not resolved,
    and the other request is of this CPTS or the flag was raised on this request."""
    flags = (
        DuplicateFlag.objects.filter(Q(request=request) | Q(other_request=request))
        .select_related("request", "other_request", "resolved_by")
        .order_by("created_at", "pk")
    )
    rows = []
    for flag in flags:
        other = flag.other_request if flag.request_id == request.pk else flag.request
        same_cpts = other.cpts_id == request.cpts_id
        rows.append(
            {
                "flag": flag,
                "same_cpts": same_cpts,
                "other": other if same_cpts else None,
                "can_merge": same_cpts
                and flag.resolved_at is None
                and not request.is_closed
                and not other.is_closed,
                "can_dismiss": flag.resolved_at is None
                and (same_cpts or flag.request_id == request.pk),
            }
        )
    return rows


# --- the CPAM mediator's worklist (rights followed through, `rights.py`) ------------------------

MEDIATOR_ROLES = (Role.CPAM_MEDIATOR, Role.COORDINATOR)


def latest_outcome(field: str) -> Subquery:
    """`field` of the request's latest rights outcome (by date, then by entry), for an
    annotation: the queue and the worklist show it without a query per row."""
    return Subquery(
        RightsOutcome.objects.filter(request=OuterRef("pk"))
        .order_by("-on", "-pk")
        .values(field)[:1]
    )


def rights_help_requests(*, cpts, user):
    """Open requests of `cpts` flagged "accès aux droits" that `user` may see, oldest first,
    with their contact person and their latest outcome (`last_kind`, `last_on`)."""
    contacts = HouseholdMember.objects.filter(is_contact_person=True).only(
        "request_id", "first_name", "last_name"
    )
    return (
        Request.objects.for_user(user, MEDIATOR_ROLES)
        .filter(cpts=cpts, needs_rights_help=True, status__in=OPEN_STATUSES)
        .select_related("commune")
        .prefetch_related(Prefetch("members", queryset=contacts, to_attr="contacts"))
        .only(
            "pk",
            "cpts_id",
            "reference",
            "status",
            "phone",
            "email",
            "address",
            "postcode",
            "coverage",
            "commune__name",
            "waiting_since",
        )
        .annotate(last_kind=latest_outcome("kind"), last_on=latest_outcome("on"))
        .order_by("waiting_since", "reference")
    )


def mediator_files(*, cpts):
    """The requests whose file a mediator may open: open, and flagged or already followed by the
    mediation (the file stays reachable once the rights are opened)."""
    followed = RightsOutcome.objects.filter(request=OuterRef("pk"))
    return Request.objects.filter(cpts=cpts, status__in=OPEN_STATUSES).filter(
        Q(needs_rights_help=True) | Q(Exists(followed))
    )


def rights_mark(kind: str | None, on) -> str:
    """What the queue shows of the mediation's latest outcome: "droits ouverts le 3 mars 2027",
    "médiation CPAM : injoignable le …" ("" without one)."""
    if not kind:
        return ""
    if kind == RightsOutcomeKind.RIGHTS_OPENED:
        return f"droits ouverts le {long_date(on)}"
    word = "injoignable" if kind == RightsOutcomeKind.UNREACHABLE else "contacté"
    return f"médiation CPAM : {word} le {long_date(on)}"
