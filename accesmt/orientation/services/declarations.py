"""The médecin traitant declared (issue 12, point 5): "MT trouvé" becomes real only once the
choice is declared to the Assurance Maladie.

- When a request closes because a GP became the household's médecin traitant
  (`placement_record`; the closing "suivi habituel officialisé" should call
  `declaration_info_send` too), the person is told how to declare: at the first visit, the GP
  declares online with the carte Vitale, or both sign the paper form « Déclaration de choix du
  médecin traitant » (cerfa n°12485) that the person sends to their caisse; the compte ameli
  then shows the médecin traitant. The GP who accepted through the platform receives the same
  reminder with the link to their page, where they confirm the declaration.
- `declarations_check(now=)` (periodic job `orientation.declarations`) asks the person,
  `declaration_check_after_days` after the GP was found (6 weeks by default), through a link
  behind their follow-up token (`suivi/<token>/declaration/`): « Oui, c'est fait » / « Pas
  encore » / « Le médecin a refusé ». Asked once per placement (`declaration_asked_at`, set in the
  same transaction as the messages, which carry a dedup key): running the job twice sends nothing
  more. A placement already declared is not asked about.
- `declaration_confirm` stores who confirmed the declaration (person, GP or coordination) and
  when; the first confirmation stands. « Le médecin a refusé » tells the coordination by e-mail.

Messages hold no name and no health data: the reference, the CPTS, the links.
"""

from __future__ import annotations

import datetime
import logging

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accesmt.common.links import public_url
from accesmt.intake.models import Request, Status
from accesmt.intake.services import followup_token, household_tell, request_lock
from accesmt.notifications.messages import render_message

from ..models import (
    DECLARABLE_REASONS,
    DeclarationAnswer,
    OrientationSettings,
    Placement,
    RecordedBy,
    SolicitationStatus,
)
from .links import solicitation_url
from .messages import email_professional

logger = logging.getLogger(__name__)

MESSAGES = "orientation/messages/{}.txt"
# At most this many questions per run (the job runs hourly: the rest go at the next run).
CHECKS_PER_RUN = 500


class DeclarationError(ValidationError):
    """The answer cannot be recorded (French message)."""


def declaration_path(request: Request) -> str:
    return reverse("orientation:declaration_answer", kwargs={"token": followup_token(request)})


def placement_standing(placement: Placement | None) -> bool:
    """The placement still stands: its request is closed with a médecin traitant."""
    if placement is None:
        return False
    request = placement.request
    return request.status == Status.CLOSED and request.closed_reason in DECLARABLE_REASONS


def _person_texts(request: Request, message: str, *, link: str) -> dict[str, str]:
    context = {
        "cpts_name": request.cpts.name,
        "cpts_phone": request.cpts.phone,
        "reference": request.reference,
        "link": link,
    }
    texts = {
        part: render_message(MESSAGES.format(f"{message}_{part}"), context)[1]
        for part in ("email", "sms", "letter")
    }
    texts["subject"] = render_message(MESSAGES.format(f"{message}_subject"), context)[1].strip()
    return texts


def _tell(request: Request, placement: Placement, message: str, *, now, topic: str) -> int:
    texts = _person_texts(request, message, link=public_url(declaration_path(request)))
    return household_tell(
        now=now,
        request=request,
        topic=topic,
        subject=texts["subject"],
        email_body=texts["email"],
        sms_body=texts["sms"],
        letter_body=texts["letter"],
        related=placement,
        dedup_key=f"{topic}.{placement.pk}.{{channel}}",
    )


def declaration_info_send(*, request: Request, placement: Placement, now=None) -> None:
    """What the declaration needs, to the person and to the GP who accepted through the platform
    (with the link to their page). Call inside the transaction that closes the request."""
    now = now or timezone.now()
    _tell(request, placement, "declaration_info", now=now, topic="orientation.declaration_info")
    practitioner = placement.practitioner
    solicitation = request.solicitations.filter(
        practitioner=practitioner, status=SolicitationStatus.ACCEPTED
    ).first()
    if solicitation is None or not practitioner.email:
        return
    email_professional(
        to=practitioner.email,
        message="gp_chosen",
        request=request,
        topic="orientation.gp_chosen",
        related=placement,
        now=now,
        link=solicitation_url(solicitation),
    )


def declaration_confirm(*, placement: Placement, declared_by: str, by=None, now=None) -> Placement:
    """The declaration is done, says the person, the GP or the coordination. The first
    confirmation stands (a second one changes nothing)."""
    now = now or timezone.now()
    if declared_by not in RecordedBy.values:
        raise DeclarationError("Auteur inconnu.")
    with transaction.atomic():
        request_lock(placement.request_id)
        locked = (
            Placement.objects.select_for_update(of=("self",))
            .select_related("request")
            .get(pk=placement.pk)
        )
        if not placement_standing(locked):
            raise DeclarationError("Cette demande n'est plus close avec un médecin traitant.")
        if locked.declared_at is None:
            locked.declared_at = now
            locked.declared_by = declared_by
            locked.save(update_fields=["declared_at", "declared_by"])
    placement.declared_at, placement.declared_by = locked.declared_at, locked.declared_by
    return locked


def declaration_answer(*, placement: Placement, answer: str, now=None) -> Placement:
    """The person's answer through their link. « Oui » confirms the declaration; « Le médecin a
    refusé » tells the coordination; the latest answer is kept."""
    now = now or timezone.now()
    if answer not in DeclarationAnswer.values:
        raise DeclarationError("Choisissez une réponse.")
    with transaction.atomic():
        request = request_lock(placement.request_id, related=("cpts",))
        locked = Placement.objects.select_for_update(of=("self",)).get(pk=placement.pk)
        locked.request = request
        if not placement_standing(locked):
            raise DeclarationError("Cette demande n'est plus close avec un médecin traitant.")
        changed = locked.declaration_answer != answer
        locked.declaration_answer = answer
        locked.declaration_answered_at = now
        if answer == DeclarationAnswer.DONE and locked.declared_at is None:
            locked.declared_at, locked.declared_by = now, RecordedBy.PATIENT
        locked.save(
            update_fields=[
                "declaration_answer",
                "declaration_answered_at",
                "declared_at",
                "declared_by",
            ]
        )
        if answer == DeclarationAnswer.GP_REFUSED and changed and request.cpts.email:
            email_professional(
                to=request.cpts.email,
                message="declaration_refused",
                request=request,
                topic="orientation.declaration_refused",
                related=locked,
                now=now,
                link=public_url(
                    reverse(
                        "orientation:request",
                        kwargs={"cpts_slug": request.cpts.slug, "reference": request.reference},
                    )
                ),
            )
    return locked


def _due(now: datetime.datetime):
    """Placements still standing, not declared, never asked, of requests not anonymised."""
    return Placement.objects.filter(
        request__status=Status.CLOSED,
        request__closed_reason__in=DECLARABLE_REASONS,
        request__anonymised_at__isnull=True,
        declared_at__isnull=True,
        declaration_asked_at__isnull=True,
        at__lte=now,
    )


def declarations_check(*, now: datetime.datetime | None = None) -> int:
    """Periodic job: ask « déclaration faite ? » of each household whose GP was found at least
    `declaration_check_after_days` ago (per CPTS) and that has not confirmed it. Idempotent.
    Returns how many were asked."""
    now = now or timezone.now()
    asked = 0
    for cpts_id in _due(now).order_by().values_list("cpts_id", flat=True).distinct():
        config = OrientationSettings.objects.filter(cpts_id=cpts_id).first()
        days = (config or OrientationSettings()).declaration_check_after_days
        ids = list(
            _due(now - datetime.timedelta(days=days))
            .filter(cpts_id=cpts_id)
            .order_by("at", "pk")
            .values_list("pk", flat=True)[:CHECKS_PER_RUN]
        )
        for pk in ids:
            with transaction.atomic():
                placement = (
                    Placement.objects.select_for_update(of=("self",))
                    .filter(pk=pk, declaration_asked_at__isnull=True, declared_at__isnull=True)
                    .first()
                )
                if placement is None:
                    continue
                request = Request.objects.select_related("cpts").get(pk=placement.request_id)
                placement.declaration_asked_at = now
                placement.save(update_fields=["declaration_asked_at"])
                _tell(
                    request,
                    placement,
                    "declaration_check",
                    now=now,
                    topic="orientation.declaration_check",
                )
                asked += 1
    logger.info("orientation: %s declaration question(s) sent", asked)
    return asked


__all__ = [
    "DeclarationError",
    "declaration_answer",
    "declaration_confirm",
    "declaration_info_send",
    "declaration_path",
    "declarations_check",
    "placement_standing",
]
