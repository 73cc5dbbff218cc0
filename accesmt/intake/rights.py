"""Rights followed through: what the CPAM mediator records about a household flagged "accès
aux droits" (issue 12, point 4).

`rights_outcome_record()` stores one `RightsOutcome` (contacted, unreachable, or rights opened
with the rights named) with its date. Rights opened settle the need, in the same transaction:
`needs_rights_help` is cleared, the coverage follows what was opened (CSS → CSS, AME → AME; a
carte Vitale or a complémentaire santé for a household without known coverage → the general
scheme), the priority is computed again (the coverage rule may stop or start firing), and the
coordination is told by e-mail (reference, date and the link to the request page: no name, no
health data, not even which rights). The request stays where it is in the queue — it is still
waiting for a GP — and the queue shows "droits ouverts le …" next to it (`latest_outcome_*`).
"Contacted" and "unreachable" are recorded without changing anything else.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accesmt.accounts.actors import actor_or_none
from accesmt.common.formats import long_date
from accesmt.common.links import public_url
from accesmt.notifications.messages import render_message
from accesmt.notifications.services import outbox_enqueue

from .models import (
    OPENED_RIGHTS,
    Coverage,
    Request,
    RightsOutcome,
    RightsOutcomeKind,
)
from .services import request_lock, request_recompute_priority

if TYPE_CHECKING:
    from accesmt.accounts.models import User

SETTLED_MESSAGE = "intake/messages/rights_settled{}.txt"
# How far back a mediator may date an outcome (a call made before a holiday, typed after it).
MAX_DAYS_BACK = 366


def coverage_after(current: str, opened: set[str]) -> str:
    """The household's coverage once `opened` (names of OPENED_RIGHTS) are open."""
    if "opened_css" in opened:
        return Coverage.CSS
    if "opened_ame" in opened:
        return Coverage.AME
    if opened and current in (Coverage.NONE, Coverage.UNKNOWN):
        # A carte Vitale or a complémentaire santé means an open basic scheme.
        return Coverage.GENERAL
    return current


def _check(*, kind: str, opened: set[str], on, today: datetime.date) -> None:
    errors: dict[str, str] = {}
    if kind not in RightsOutcomeKind.values:
        errors["kind"] = "Choisissez ce qui a été fait."
    elif kind == RightsOutcomeKind.RIGHTS_OPENED and not opened:
        errors["opened"] = "Cochez au moins un droit ouvert."
    elif kind != RightsOutcomeKind.RIGHTS_OPENED and opened:
        errors["opened"] = "Ne cochez de droits que si des droits ont été ouverts."
    if opened - set(OPENED_RIGHTS):
        errors["opened"] = "Droit inconnu."
    elif {"opened_css", "opened_ame"} <= opened:
        errors["opened"] = "La CSS et l'AME ne s'ouvrent pas pour la même personne : cochez l'une."
    if not isinstance(on, datetime.date):
        errors["on"] = "Indiquez la date."
    elif on > today:
        errors["on"] = "La date ne peut pas être dans le futur."
    elif on < today - datetime.timedelta(days=MAX_DAYS_BACK):
        errors["on"] = "La date est trop ancienne (plus d'un an)."
    if errors:
        raise ValidationError(errors)


def rights_outcome_record(
    *,
    request: Request,
    kind: str,
    on: datetime.date,
    opened: set[str] | frozenset[str] | tuple[str, ...] = (),
    note: str = "",
    by: User | None = None,
    now: datetime.datetime | None = None,
) -> RightsOutcome:
    """Record what was done for the household's rights (see the module). Raises
    ValidationError (French messages keyed by field: kind, opened, on, note) and stores nothing
    when the outcome is inconsistent or the request is closed."""
    now = now or timezone.now()
    opened = set(opened)
    _check(kind=kind, opened=opened, on=on, today=timezone.localdate(now))
    by = actor_or_none(by)
    with transaction.atomic():
        locked = request_lock(request.pk, related=("cpts",))
        if locked.is_closed:
            raise ValidationError(
                "Cette demande est clôturée : aucune suite ne peut y être ajoutée."
            )
        outcome = RightsOutcome(
            cpts=locked.cpts,
            request=locked,
            kind=kind,
            on=on,
            note=note.strip(),
            recorded_by=by,
            recorded_at=now,
            **{name: name in opened for name in OPENED_RIGHTS},
        )
        outcome.full_clean()
        outcome.save()
        if outcome.settles_need:
            locked.needs_rights_help = False
            locked.coverage = coverage_after(locked.coverage, opened)
            locked.save(update_fields=["needs_rights_help", "coverage", "updated_at"])
            request_recompute_priority(request=locked, today=timezone.localdate(now))
            _tell_coordination(locked, outcome, now=now)
    request.needs_rights_help = locked.needs_rights_help
    request.coverage = locked.coverage
    request.is_priority = locked.is_priority
    request.priority_rule_count = locked.priority_rule_count
    return outcome


def _tell_coordination(request: Request, outcome: RightsOutcome, *, now) -> None:
    """An e-mail to the CPTS address (none when it has no address: the queue shows the mark)."""
    cpts = request.cpts
    if not cpts.email:
        return
    link = public_url(
        reverse(
            "intake_staff:request_detail",
            kwargs={"cpts_slug": cpts.slug, "reference": request.reference},
        )
    )
    subject, body = render_message(
        SETTLED_MESSAGE.format(""),
        {
            "cpts_name": cpts.name,
            "reference": request.reference,
            "on": long_date(outcome.on),
            "link": link,
        },
        subject_template=SETTLED_MESSAGE.format("_subject"),
    )
    outbox_enqueue(
        now=now,
        channel="email",
        to=cpts.email,
        subject=subject,
        body=body,
        topic="intake.rights_settled",
        cpts=cpts,
        related=request,
        dedup_key=f"intake.rights_settled.{outcome.pk}",
    )
