"""The outcome (a GP found) and the restart of an orientation that came to nothing."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from accesmt.accounts.actors import actor_or_none
from accesmt.directory.models import Practitioner
from accesmt.intake.lifecycle import request_transition
from accesmt.intake.models import ClosedReason, Request, Status
from accesmt.intake.services import request_lock

from ..models import (
    ASKABLE,
    OPEN_SOLICITATION,
    ORIENTING,
    Origin,
    Placement,
    RecordedBy,
    SolicitationStatus,
)
from .declarations import declaration_info_send
from .errors import OrientationError
from .messages import _tell_person, _tell_referrer_found, email_professional

if TYPE_CHECKING:
    from accesmt.accounts.models import User

# --- the outcome ---------------------------------------------------------------------------------


def placement_record(
    *,
    request: Request,
    practitioner: Practitioner,
    recorded_by: str,
    by: User | None = None,
    now: datetime.datetime | None = None,
) -> Placement:
    """This household now has `practitioner` as médecin traitant: close the request as "MT
    found" — or "suivi habituel officialisé" when it is the GP the person already saw (an
    accepted usual-GP solicitation, or the request's `usual_gp_rpps`) —, cancel the other
    solicitations, tell the referrer. The GP and the person may only
    name a GP who accepted; the coordinator may name any GP of the territory (found outside
    the platform)."""
    now = now or timezone.now()
    if recorded_by not in RecordedBy.values:
        raise OrientationError("Auteur inconnu.")
    by = actor_or_none(by)
    with transaction.atomic():
        locked = request_lock(request.pk, related=("cpts", "referrer"))
        if locked.status == Status.CLOSED:
            raise OrientationError("Cette demande est déjà clôturée.")
        if recorded_by == RecordedBy.COORDINATOR:
            if locked.status not in ASKABLE:
                raise OrientationError(
                    "Vérifiez d'abord la demande : elle n'est pas encore en attente d'un médecin."
                )
        elif locked.status != Status.AWAITING_CHOICE:
            # The person chooses among the GPs who accepted once they have been told of them;
            # until then (or after a return to the queue) nobody but the coordination closes it.
            raise OrientationError("Cette demande n'attend pas de choix de médecin.")
        accepted = set(
            locked.solicitations.filter(
                practitioner=practitioner, status=SolicitationStatus.ACCEPTED
            ).values_list("origin", flat=True)
        )
        if recorded_by != RecordedBy.COORDINATOR and not accepted:
            raise OrientationError("Ce médecin n'a pas accepté cette demande.")
        usual_gp = Origin.USUAL_GP in accepted or bool(
            locked.usual_gp_rpps and practitioner.rpps == locked.usual_gp_rpps
        )
        # The usual GP may practise just outside the territory (see usual_gp_ask).
        gps = (
            Practitioner.objects.present()
            if usual_gp
            else Practitioner.objects.in_cpts(locked.cpts)
        )
        if not gps.filter(pk=practitioner.pk).exists():
            raise OrientationError("Médecin inconnu sur le territoire de la CPTS.")
        locked.solicitations.filter(status__in=OPEN_SOLICITATION).exclude(
            practitioner=practitioner, status=SolicitationStatus.ACCEPTED
        ).cancel(now=now, note="Médecin traitant trouvé")
        # A request reopened after "MT found" keeps its row: the new outcome replaces it.
        placement, _ = Placement.objects.update_or_create(
            request=locked,
            defaults={
                "cpts": locked.cpts,
                "practitioner": practitioner,
                "members": locked.members.count(),
                "recorded_by": recorded_by,
                "recorded_by_user": by,
                "at": now,
            },
        )
        # The GP the person already saw becomes their MT: "suivi habituel officialisé". The
        # placement still records who and when, but `Placement.objects.current()` (MT found)
        # leaves it out, so it uses none of the GP's places for new patients.
        reason = ClosedReason.USUAL_GP if usual_gp else ClosedReason.MT_FOUND
        request_transition(
            now=now,
            request=locked,
            to=Status.CLOSED,
            reason=reason,
            by=by,
            by_patient=recorded_by == RecordedBy.PATIENT,
            note=f"{ClosedReason(reason).label.capitalize()} ({RecordedBy(recorded_by).label})",
        )
        _tell_referrer_found(locked, now=now)
        placement.request = locked
        declaration_info_send(request=locked, placement=placement, now=now)
    request.status = locked.status
    request.closed_reason = locked.closed_reason
    return placement


def orientation_restart(
    *, request: Request, by: User | None = None, note: str = "", by_patient: bool = False, now=None
) -> None:
    """Back to the queue (the coordinator starts over; or the person says none of the GPs offered
    could see them). Every open solicitation ends — pending and accepted alike, so that the next
    round counts only its own acceptances and the places those GPs reserved are free again;
    they stay in the history and are not asked again about this request. The GPs who had
    accepted, and the person when the coordination decided it, are told. The request keeps its
    `waiting_since`."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = request_lock(request.pk, related=("cpts",))
        allowed = (Status.AWAITING_CHOICE,) if by_patient else ORIENTING
        if locked.status not in allowed:
            raise OrientationError("La demande n'est pas en cours d'orientation.")
        accepted = list(locked.solicitations.accepted().select_related("practitioner"))
        locked.solicitations.filter(status__in=OPEN_SOLICITATION).cancel(
            now=now, note="Orientation reprise : la demande est revenue dans la file"
        )
        request_transition(
            now=now,
            request=locked,
            to=Status.WAITING,
            by=by,
            by_patient=by_patient,
            note=note or "Retour dans la file",
        )
        for s in accepted:
            if s.practitioner.email:
                email_professional(
                    to=s.practitioner.email,
                    message="gp_released",
                    request=locked,
                    topic="orientation.gp_released",
                    related=s,
                    now=now,
                )
        if by_patient:
            if locked.cpts.email:
                email_professional(
                    to=locked.cpts.email,
                    message="none_suited",
                    request=locked,
                    topic="orientation.none_suited",
                    related=locked,
                    now=now,
                )
        else:
            _tell_person(locked, now=now, topic="orientation.restarted", message="restarted")
    request.status = locked.status
