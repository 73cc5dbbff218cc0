"""The life cycle of a request, in one place.

    new ──► to_verify ──► waiting ──► proposing ──► awaiting_choice ──► closed(mt_found)
     │  └──────────────────►│ ▲  └──────────(a GP takes the household)──►│
     │                      │ └──── back to the queue (nobody accepted, no choice) ◄──┘
     │                      ◄──── to_verify (re-check, from any open state after new)
     └───────── any open state ──► closed(reason)          closed ──► to_verify (reopen)

    opt_out_pending ──► waiting (end of a CPAM list's opt-out period, or the person agrees)
           └──────────► closed (opted_out: the person refused; or any other reason)

The orientation states are driven by `accesmt.orientation.services` (GPs asked by signed link,
the person's choice); this module only knows which moves are allowed.

`TRANSITIONS` is the only list of allowed moves; `request_transition()` (and, for many requests
at once, `requests_transition_many()`: a CPAM list's release) is the only function that changes
`Request.status`: it refuses any move not in the table (`TransitionRefused`, a
ValidationError with a French message), sets/clears `closed_reason` and `closed_at`, and writes a
`RequestTransition` line (who, when, reason code, note) in the same transaction. The database
refuses the same moves (trigger of migration 0002, generated from `TRANSITIONS` at the time) and
the inconsistent states (CheckConstraints of `Request`), among them an anonymised request
reopened (0009).

`COORDINATOR_ACTIONS` names the moves a coordinator makes from the request page (button label,
target state, closing reasons allowed, and for the destructive ones — close, refusal, reopen — the
warning of their confirmation step); `coordinator_actions(request)` is what the page offers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accesmt.accounts.actors import actor_or_none

from .models import OPEN_STATUSES, Channel, ClosedReason, Request, RequestTransition, Status

if TYPE_CHECKING:
    from accesmt.accounts.models import User

TRANSITIONS: dict[str, frozenset[str]] = {
    # Imported from a CPAM list (issue 12, intake.cpam_lists): never checked again nor oriented
    # before the end of the opt-out period; the import checked each person like a registration.
    Status.OPT_OUT_PENDING: frozenset({Status.WAITING, Status.CLOSED}),
    Status.NEW: frozenset({Status.TO_VERIFY, Status.WAITING, Status.CLOSED}),
    Status.TO_VERIFY: frozenset({Status.WAITING, Status.CLOSED}),
    Status.WAITING: frozenset(
        {Status.TO_VERIFY, Status.PROPOSING, Status.AWAITING_CHOICE, Status.CLOSED}
    ),
    Status.PROPOSING: frozenset(
        {Status.WAITING, Status.AWAITING_CHOICE, Status.TO_VERIFY, Status.CLOSED}
    ),
    Status.AWAITING_CHOICE: frozenset(
        {Status.WAITING, Status.PROPOSING, Status.TO_VERIFY, Status.CLOSED}
    ),
    Status.CLOSED: frozenset({Status.TO_VERIFY}),  # reopening: a coordinator's correction
}

# What a person may do themselves through the follow-up link: withdraw, or say which GP they
# chose (both close the request), or say that none of the GPs offered could see them (back to
# the queue).
PATIENT_TRANSITIONS: dict[str, frozenset[str]] = {
    # Imported from a CPAM list (issue 12, intake.cpam_lists): never checked again nor oriented
    # before the end of the opt-out period; the import checked each person like a registration.
    Status.OPT_OUT_PENDING: frozenset({Status.WAITING, Status.CLOSED}),
    **{status: frozenset({Status.CLOSED}) for status in OPEN_STATUSES},
    Status.AWAITING_CHOICE: frozenset({Status.CLOSED, Status.WAITING}),
}

STATUS_EXPLANATIONS = {
    Status.OPT_OUT_PENDING: (
        "L'Assurance Maladie a transmis vos coordonnées à la CPTS pour qu'elle vous aide à "
        "trouver un médecin traitant. Si vous ne le souhaitez pas, vous pouvez le refuser."
    ),
    Status.NEW: "Votre demande a bien été reçue. La coordination de la CPTS va l'examiner.",
    Status.TO_VERIFY: (
        "La coordination vérifie votre demande ; elle peut vous appeler pour la compléter."
    ),
    Status.WAITING: (
        "Votre demande est vérifiée. La coordination recherche un médecin traitant qui peut "
        "vous accueillir ; elle vous contactera dès qu'une solution se présente."
    ),
    Status.PROPOSING: (
        "Des médecins traitants proches de chez vous sont sollicités. Vous recevrez leurs "
        "coordonnées dès que certains auront accepté."
    ),
    Status.AWAITING_CHOICE: (
        "Des médecins peuvent vous accueillir : choisissez librement l'un d'eux, prenez "
        "rendez-vous, puis indiquez-nous votre choix sur cette page."
    ),
    Status.CLOSED: "Votre demande est clôturée.",
}


# Closing by hand: "duplicate" is set only by merging two requests (merge.request_merge).
MANUAL_CLOSE_REASONS: tuple[tuple[str, str], ...] = tuple(
    (value, label) for value, label in ClosedReason.choices if value != ClosedReason.DUPLICATE
)

ANONYMISED_REOPEN_REFUSED = (
    "Demande anonymisée : elle ne peut pas être rouverte ; créez une nouvelle demande."
)


@dataclass(frozen=True)
class Action:
    """A move a coordinator makes from the request page: `code` is the form's value."""

    code: str
    to: str
    label: str
    from_statuses: frozenset[str]
    reasons: tuple[tuple[str, str], ...] = ()
    channels: frozenset[str] | None = None  # None: every channel
    # A destructive action (it closes or reopens the request) is shown apart from the main
    # actions and confirmed first: the confirmation step asks `question` ("{reference}" is the
    # request's) and says what it does (`warning`).
    question: str = ""
    warning: str = ""

    @property
    def destructive(self) -> bool:
        return bool(self.question)


COORDINATOR_ACTIONS: dict[str, Action] = {
    action.code: action
    for action in (
        Action(
            "verify",
            Status.WAITING,
            "Demande vérifiée : passer « en attente d'un médecin »",
            frozenset({Status.NEW, Status.TO_VERIFY}),
        ),
        Action("to_verify", Status.TO_VERIFY, "Passer « à vérifier »", frozenset(OPEN_STATUSES)),
        Action(
            "close",
            Status.CLOSED,
            "Clôturer la demande",
            frozenset(OPEN_STATUSES),
            reasons=MANUAL_CLOSE_REASONS,
            question="Clôturer la demande {reference}\u00a0?",
            warning=(
                "Elle quitte la file d'attente et plus aucun médecin n'est sollicité pour ce "
                "foyer. Elle pourra être rouverte tant qu'elle n'est pas anonymisée."
            ),
        ),
        # A person of a CPAM list refuses by phone or by letter (the link records it itself).
        Action(
            "opt_out",
            Status.CLOSED,
            "Enregistrer le refus de la personne (reçu par téléphone ou par courrier)",
            frozenset(OPEN_STATUSES),
            reasons=((ClosedReason.OPTED_OUT, ClosedReason.OPTED_OUT.label),),
            channels=frozenset({Channel.CPAM_LIST}),
            question=(
                "Enregistrer le refus de la personne et clôturer la demande {reference}\u00a0?"
            ),
            warning=(
                "La demande est clôturée (refus de la personne) : la CPTS ne cherchera pas de "
                "médecin traitant pour elle."
            ),
        ),
        # The person called to say yes: no need to wait for the end of the period.
        Action(
            "opt_in",
            Status.WAITING,
            "La personne accepte d'être aidée : la mettre en file d'attente dès maintenant",
            frozenset({Status.OPT_OUT_PENDING}),
        ),
        Action(
            "reopen",
            Status.TO_VERIFY,
            "Rouvrir la demande (à vérifier)",
            frozenset({Status.CLOSED}),
            question="Rouvrir la demande {reference}\u00a0?",
            warning=(
                "Elle revient dans la file d'attente, « à vérifier », avec son ancienneté "
                "d'attente."
            ),
        ),
    )
}


class TransitionRefused(ValidationError):
    pass


def allowed_targets(status: str) -> frozenset[str]:
    return TRANSITIONS.get(status, frozenset())


def can_transition(from_status: str, to_status: str) -> bool:
    return to_status in allowed_targets(from_status)


def coordinator_actions(request: Request) -> dict[str, Action]:
    """The actions the request page offers for `request`, by code."""
    return {
        code: action
        for code, action in COORDINATOR_ACTIONS.items()
        if request.status in action.from_statuses
        and (action.channels is None or request.channel in action.channels)
        and can_transition(request.status, action.to)
        and (request.can_be_reopened or not request.is_closed)
    }


def request_transition(
    *,
    request: Request,
    to: str,
    by: User | None = None,
    reason: str = "",
    note: str = "",
    by_patient: bool = False,
    now=None,
) -> RequestTransition:
    """Move `request` to status `to`. Closing needs a `reason` among ClosedReason; `note` is a
    short free text that must not hold health data. Locks the row, so that two coordinators
    clicking at once cannot both move it."""
    if to not in Status.values:
        raise TransitionRefused(f"État inconnu : {to}.")
    if to == Status.CLOSED and reason not in ClosedReason.values:
        raise TransitionRefused("Indiquez le motif de clôture.")
    by = actor_or_none(by)
    with transaction.atomic():
        locked = Request.objects.select_for_update().get(pk=request.pk)
        current = locked.status
        if current == Status.CLOSED and to != Status.CLOSED and locked.anonymised_at is not None:
            raise TransitionRefused(ANONYMISED_REOPEN_REFUSED)
        if not can_transition(current, to):
            raise TransitionRefused(
                f"Passage impossible de « {Status(current).label} » à « {Status(to).label} »."
            )
        if by_patient and to not in PATIENT_TRANSITIONS.get(current, frozenset()):
            raise TransitionRefused("Cette action n'est pas possible depuis le lien de suivi.")
        now = now or timezone.now()
        locked.status = to
        if to == Status.CLOSED:
            locked.closed_reason = reason
            locked.closed_at = now
        else:
            locked.closed_reason = ""
            locked.closed_at = None
        locked.save(update_fields=["status", "closed_reason", "closed_at", "updated_at"])
        line = RequestTransition(
            request=locked,
            from_status=current,
            to_status=to,
            by=by,
            by_patient=by_patient,
            at=now,
            reason=reason,
            note=note[:300],
        )
        line.full_clean()
        line.save()
    request.status = locked.status
    request.closed_reason = locked.closed_reason
    request.closed_at = locked.closed_at
    request.updated_at = locked.updated_at
    return line


def requests_transition_many(
    *,
    requests,
    from_status: str,
    to: str,
    by: User | None = None,
    reason: str = "",
    note: str = "",
    now=None,
) -> int:
    """Move every request of the queryset `requests` still in `from_status` to `to` (not
    closed: no closing reason to set), one history line each, in bulk (a CPAM list's release).
    The rows are locked first; those that left `from_status` meanwhile are left alone. Returns
    how many moved."""
    if not can_transition(from_status, to) or to == Status.CLOSED:
        raise TransitionRefused(
            f"Passage impossible de « {Status(from_status).label} » à « {Status(to).label} »."
        )
    by = actor_or_none(by)
    now = now or timezone.now()
    with transaction.atomic():
        ids = list(
            requests.select_for_update(of=("self",))
            .filter(status=from_status)
            .values_list("pk", flat=True)
        )
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            Request.objects.filter(pk__in=chunk, status=from_status).update(
                status=to, updated_at=now
            )
        RequestTransition.objects.bulk_create(
            (
                RequestTransition(
                    request_id=pk,
                    from_status=from_status,
                    to_status=to,
                    by=by,
                    at=now,
                    reason=reason,
                    note=note[:300],
                )
                for pk in ids
            ),
            batch_size=500,
        )
    return len(ids)


def record_creation(
    *, request: Request, by: User | None = None, note: str = ""
) -> RequestTransition:
    """The first line of the history ("" → initial status), written by the creating service."""
    by = actor_or_none(by)
    return RequestTransition.objects.create(
        request=request,
        from_status="",
        to_status=request.status,
        by=by,
        at=request.created_at,
        reason="created",
        note=note[:300],
    )
