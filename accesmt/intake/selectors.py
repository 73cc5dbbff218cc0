"""Reads of the intake app."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Prefetch, Q, Subquery

from accesmt.accounts.models import Role
from accesmt.common.formats import long_date
from accesmt.common.pagination import bounded_count, bounded_text
from accesmt.common.signing import INVALID, LinkError, check_link_age, read_link_token

from .models import (
    OPEN_STATUSES,
    CallOutcome,
    ClosedReason,
    ContactKind,
    ContactNote,
    DuplicateFlag,
    HouseholdMember,
    IntakeSettings,
    Request,
    RightsOutcome,
    RightsOutcomeKind,
    Status,
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


# --- the request page's timeline and the call-back list (calls.py, issue 13) ------------------

# How far ahead the call-back list looks.
CALL_BACK_HORIZON_DAYS = 7


@dataclass
class TimelineEntry:
    """One line of a request's history: a status change, a call or a note."""

    at: datetime.datetime
    by: object  # a User or None
    kind: str  # "transition", "call" or "note"
    title: str
    text: str = ""
    reason: str = ""
    by_patient: bool = False
    note: ContactNote | None = None

    @property
    def call_back_pending(self) -> bool:
        return bool(self.note and self.note.call_back_on and not self.note.call_back_done)


def request_timeline(request: Request) -> list[TimelineEntry]:
    """Status changes, calls and notes of `request`, newest first (two queries)."""
    statuses, reasons = dict(Status.choices), dict(ClosedReason.choices)
    entries = []
    for t in request.transitions.select_related("by"):
        to_label = statuses.get(t.to_status, t.to_status)
        title = (
            f"{statuses.get(t.from_status, t.from_status)} → {to_label}"
            if t.from_status
            else f"création ({to_label})"
        )
        entries.append(
            TimelineEntry(
                at=t.at,
                by=t.by,
                kind="transition",
                title=title,
                text=t.note,
                reason=reasons.get(t.reason, ""),
                by_patient=t.by_patient,
            )
        )
    for note in request.contact_notes.select_related("by"):
        title = f"Appel : {note.get_outcome_display()}" if note.is_call else "Note"
        entries.append(
            TimelineEntry(
                at=note.at, by=note.by, kind=note.kind, title=title, text=note.text, note=note
            )
        )
    # Newest first; at the same instant, a call or note after the change it explains.
    entries.sort(key=lambda e: (e.at, e.kind != "transition"), reverse=True)
    return entries


def wrong_number_warning(timeline: list[TimelineEntry]) -> bool:
    """Whether the last call of a request's timeline (newest first) reached a wrong number."""
    call = next((e.note for e in timeline if e.kind == ContactKind.CALL), None)
    return call is not None and call.outcome == CallOutcome.WRONG_NUMBER


def call_backs_due(*, cpts, user, today: datetime.date):
    """The pending call-backs of the open requests of `cpts` due by `today` + 7 days, overdue
    first: one per request (a later call settles the earlier ones), the call that planned it
    being the request's last call."""
    return (
        ContactNote.objects.for_user(user, (Role.COORDINATOR,))
        .filter(
            cpts=cpts,
            request__cpts=cpts,
            request__status__in=OPEN_STATUSES,
            call_back_on__isnull=False,
            call_back_done=False,
            call_back_on__lte=today + datetime.timedelta(days=CALL_BACK_HORIZON_DAYS),
        )
        .select_related("request__commune", "by")
        .order_by("call_back_on", "request__reference", "pk")
    )


def call_backs_due_count(*, cpts, today: datetime.date) -> str:
    """The number of call-backs due (`call_backs_due`, without the role check) as the CPTS home
    writes it: counted up to COUNT_CAP, then « plus de 1 000 »."""
    notes = ContactNote.objects.filter(
        cpts=cpts,
        request__status__in=OPEN_STATUSES,
        call_back_on__isnull=False,
        call_back_done=False,
        call_back_on__lte=today + datetime.timedelta(days=CALL_BACK_HORIZON_DAYS),
    )
    return bounded_text(bounded_count(notes))
