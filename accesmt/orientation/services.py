"""The orientation flow: ask GPs, gather their answers, let the person choose, record the outcome.

    waiting ──solicitations_send──► proposing ──(enough GPs accepted, or nobody left to ask and
       ▲                               │          at least one accepted)──► awaiting_choice
       └──(nobody accepted, no candidate left)┘                                 │
                                                         placement_record ──► closed (mt_found)

- A GP is asked by e-mail through a signed link (`solicitation_url`): the message holds no name
  and no health data; the page shows the anonymised `household_summary` and two buttons.
- Without an answer by `answer_due_at`, the worker (`solicitations_follow_up`) reminds the GP
  once and gives a second delay; then the solicitation expires and the next candidate is asked.
- A refusal also moves on to the next candidate (origin "next").
- When `accepted_target` GPs have accepted (or nobody is left to ask and at least one accepted),
  the person receives the GPs' names, addresses and phones by e-mail and/or SMS (a letter can be
  printed for those with neither) and chooses freely; the outcome is recorded by the GP, the
  person (follow-up link) or the coordinator (`placement_record`), which closes the request as
  "MT found", counts against the GP's capacity this month and tells the referrer.

Every change and the messages announcing it are written in one transaction (outbox).
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accesmt.accounts.actors import actor_or_none
from accesmt.common.formats import long_date
from accesmt.common.links import public_url
from accesmt.common.signing import INVALID, LinkError, make_link_token, read_link_token
from accesmt.directory.models import PracticeSite, Practitioner
from accesmt.intake.lifecycle import request_transition
from accesmt.intake.models import ClosedReason, Request, Status
from accesmt.intake.services import (
    followup_path,
    household_tell,
    reachable_by_message,
    request_lock,
)
from accesmt.intake.validation import format_phone_for_display
from accesmt.notifications.services import outbox_enqueue
from accesmt.territory.distances import haversine_km

from .models import (
    ASKABLE,
    OPEN_SOLICITATION,
    ORIENTING,
    AnswerChannel,
    DeclineReason,
    OrientationSettings,
    Origin,
    Placement,
    RecordedBy,
    Solicitation,
    SolicitationStatus,
)

logger = logging.getLogger(__name__)

TOKEN_SALT = "accesmt.orientation.solicitation"  # noqa: S105 - a signing salt
TOKEN_MAX_AGE = datetime.timedelta(days=30)


class OrientationError(ValidationError):
    """A move of the flow that is not possible now (French message for the user)."""


# --- links ---------------------------------------------------------------------------------------


def solicitation_token(solicitation: Solicitation) -> str:
    return make_link_token(solicitation.pk, salt=TOKEN_SALT, key="s")


def solicitation_url(solicitation: Solicitation) -> str:
    return public_url(
        reverse("orientation:answer", kwargs={"token": solicitation_token(solicitation)})
    )


InvalidToken = LinkError  # the name other code imports


def solicitation_from_token(token: str) -> Solicitation:
    pk = read_link_token(token, salt=TOKEN_SALT, key="s", max_age=TOKEN_MAX_AGE)
    found = (
        Solicitation.objects.select_related("request", "cpts", "practitioner", "site")
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise LinkError(INVALID)
    return found


# --- messages (no name of the person, no health data) ------------------------------------------


def _ask_gp(solicitation: Solicitation, *, now, reminder: bool = False) -> None:
    email = solicitation.practitioner.email
    if not email:
        return  # the coordinator calls: the solicitation shows "à appeler"
    due = long_date(solicitation.answer_due_at, with_time=True)
    subject = (
        "Rappel : un nouveau patient attend votre réponse"
        if reminder
        else "Pouvez-vous accueillir un nouveau patient ?"
    )
    body = (
        f"Bonjour,\n\n"
        f"La {solicitation.cpts.name} cherche un médecin traitant pour un foyer proche de votre "
        f"cabinet. Voyez la demande (sans donnée nominative) et répondez en un clic :\n\n"
        f"{solicitation_url(solicitation)}\n\n"
        f"Sans réponse avant le {due}, la demande sera proposée à un autre médecin.\n\n"
        f"Merci."
    )
    outbox_enqueue(
        now=now,
        channel="email",
        to=email,
        subject=subject,
        body=body,
        topic="orientation.reminder" if reminder else "orientation.ask",
        cpts=solicitation.cpts,
        related=solicitation,
        dedup_key=f"orientation.{'reminder' if reminder else 'ask'}.{solicitation.pk}",
    )


def offer_text(request: Request, solicitations: Iterable[Solicitation]) -> str:
    """The list of GPs who accepted, for the person (e-mail, SMS and letter)."""
    lines = []
    for s in solicitations:
        site = s.site
        address = ""
        phone = ""
        if site is not None:
            address = ", ".join(site.address_lines)
            phone = (
                format_phone_for_display(site.phone) if site.phone.startswith("+") else site.phone
            )
        entry = f"- Dr {s.practitioner.first_name} {s.practitioner.last_name}".replace("  ", " ")
        if address:
            entry += f", {address}"
        if phone:
            entry += f", tél. {phone}"
        lines.append(entry)
    return "\n".join(lines)


person_reachable = reachable_by_message  # the name the views import


def _tell_person(
    request: Request, *, now, topic: str, subject: str, text: str, letter_text: str = ""
) -> int:
    """A short message to the person (e-mail and/or SMS to a mobile) ending with their
    follow-up link, or a letter (`letter_text`, no link) when they have neither; returns how
    many were queued."""
    link = public_url(followup_path(request))
    return household_tell(
        now=now,
        request=request,
        topic=topic,
        subject=subject,
        email_body=f"Bonjour,\n\n{text}\n{link}\n\nLa coordination de la {request.cpts.name}",
        sms_body=f"{request.cpts.name} : {text} {link}",
        letter_body=f"Madame, Monsieur,\n\n{letter_text or text}",
    )


def _tell_person_offer(request: Request, accepted: list[Solicitation], *, now) -> None:
    """The GPs who accepted, to the person: names, addresses and phones by e-mail, the link to
    them by SMS. Without e-mail or mobile, a letter for the coordination to print."""
    from .letter import offer_letter_body, offer_letter_subject

    link = public_url(followup_path(request))
    household_tell(
        now=now,
        request=request,
        topic="orientation.offer",
        subject=f"Des médecins peuvent vous accueillir — référence {request.reference}",
        email_body=(
            "Bonjour,\n\n"
            "Ces médecins ont accepté de vous accueillir comme nouveau patient :\n\n"
            f"{offer_text(request, accepted)}\n\n"
            "Choisissez librement l'un d'eux et appelez son cabinet pour un premier "
            f"rendez-vous en donnant votre référence {request.reference}. Dites-nous "
            f"ensuite votre choix sur votre page de suivi :\n{link}\n\n"
            f"La coordination de la {request.cpts.name}"
        ),
        sms_body=(
            f"{request.cpts.name} : des médecins peuvent vous accueillir. "
            f"Leurs coordonnées et votre choix : {link}"
        ),
        letter_subject=offer_letter_subject(request),
        letter_body=offer_letter_body(request, accepted),
    )


def _tell_referrer_found(request: Request, *, now) -> None:
    referrer = request.referrer
    if referrer is None or not referrer.email:
        return
    outbox_enqueue(
        now=now,
        channel="email",
        to=referrer.email,
        subject=f"Demande {request.reference} : médecin traitant trouvé",
        body=(
            "Bonjour,\n\n"
            f"La demande {request.reference} que vous avez orientée vers la {request.cpts.name} "
            "a abouti : la personne a trouvé un médecin traitant.\n\nMerci de votre orientation."
        ),
        topic="orientation.referrer_found",
        cpts=request.cpts,
        related=request,
    )


# --- asking GPs ----------------------------------------------------------------------------------


def _nearest_site(request: Request, practitioner_id: int) -> tuple[PracticeSite | None, float]:
    lat, lon = request.latitude, request.longitude
    if lat is None:
        lat, lon = request.commune.latitude, request.commune.longitude
    best: tuple[PracticeSite | None, float] = (None, float("nan"))
    sites = (
        PracticeSite.objects.present()
        .in_cpts(request.cpts)
        .filter(practitioner_id=practitioner_id, latitude__isnull=False)
    )
    for site in sites:
        km = haversine_km(lat, lon, site.latitude, site.longitude) if lat is not None else None
        if km is not None and (best[0] is None or km < best[1]):
            best = (site, km)
    if best[0] is None:
        best = (sites.first(), float("nan"))
    return best


def solicitations_send(
    *,
    request: Request,
    practitioner_ids: Iterable[int],
    by=None,
    origin: str = Origin.COORDINATOR,
    now: datetime.datetime | None = None,
) -> list[Solicitation]:
    """Ask these GPs about `request` (a GP already asked about it is skipped) and move it to
    "proposing". Refused when the request is not waiting or being oriented, or a GP does not
    practise in the CPTS."""
    now = now or timezone.now()
    config = OrientationSettings.for_cpts(request.cpts)
    by = actor_or_none(by)
    created: list[Solicitation] = []
    with transaction.atomic():
        locked = request_lock(request.pk, related=("cpts", "commune"))
        if locked.status not in ASKABLE:
            raise OrientationError(
                f"La demande {locked.reference} est « {Status(locked.status).label} » : "
                "on ne peut pas solliciter de médecin."
            )
        ids = list(dict.fromkeys(int(i) for i in practitioner_ids))
        known = set(
            Practitioner.objects.in_cpts(locked.cpts)
            .filter(pk__in=ids, is_gone=False)
            .values_list("pk", flat=True)
        )
        if set(ids) - known:
            raise OrientationError("Médecin inconnu sur le territoire de la CPTS.")
        already = set(locked.solicitations.values_list("practitioner_id", flat=True))
        for pid in ids:
            if pid in already:
                continue
            site, km = _nearest_site(locked, pid)
            solicitation = Solicitation.objects.create(
                cpts=locked.cpts,
                request=locked,
                practitioner_id=pid,
                site=site,
                distance_km=None if km != km else round(km, 2),
                origin=origin,
                asked_by=by,
                asked_at=now,
                answer_due_at=now + datetime.timedelta(hours=config.answer_delay_hours),
            )
            solicitation.practitioner  # noqa: B018 - loaded once for the message
            _ask_gp(solicitation, now=now)
            created.append(solicitation)
        # While the person is choosing, more GPs may be asked without taking the choice away
        # from them: the request stays "awaiting choice" and new acceptances are added to it.
        if created and locked.status == Status.WAITING:
            request_transition(
                now=now,
                request=locked,
                to=Status.PROPOSING,
                by=by,
                note=f"{len(created)} médecin(s) sollicité(s)",
            )
    request.status = locked.status
    return created


def _next_candidate(request: Request, *, now) -> Solicitation | None:
    from .selectors import request_candidates

    candidates, _ = request_candidates(request, limit=1, now=now)
    if not candidates:
        return None
    [created] = solicitations_send(
        request=request,
        practitioner_ids=[candidates[0].candidate.practitioner_id],
        origin=Origin.NEXT_CANDIDATE,
        now=now,
    )
    return created


def _advance(request: Request, *, by=None, now=None, accepted_now: bool = False) -> None:
    """After an answer or an expiry: offer to the person, ask the next GP, or go back to the
    queue. Runs inside the caller's transaction, on a locked request."""
    now = now or timezone.now()
    config = OrientationSettings.for_cpts(request.cpts)
    accepted = list(
        request.solicitations.accepted()
        .select_related("practitioner", "site")
        .order_by("distance_km", "pk")
    )
    pending = request.solicitations.pending().count()
    if request.status == Status.AWAITING_CHOICE:
        if accepted_now:
            _tell_person_offer(request, accepted, now=now)  # the list, with the newcomer
        return
    if request.status != Status.PROPOSING:
        return
    if len(accepted) >= config.accepted_target or (accepted and not pending):
        request.solicitations.pending().cancel(now=now, note="Assez de médecins ont accepté")
        request_transition(
            now=now,
            request=request,
            to=Status.AWAITING_CHOICE,
            by=by,
            note=f"{len(accepted)} médecin(s) ont accepté ; la personne choisit",
        )
        _tell_person_offer(request, accepted, now=now)
        return
    if pending:
        return
    if _next_candidate(request, now=now) is None:
        request_transition(
            now=now,
            request=request,
            to=Status.WAITING,
            by=by,
            note="Aucun médecin disponible n'a accepté : retour dans la file",
        )


def solicitation_answer(
    *,
    solicitation: Solicitation,
    accept: bool,
    channel: str,
    decline_reason: str = "",
    by=None,
    note: str = "",
    now: datetime.datetime | None = None,
) -> Solicitation:
    """Record a GP's answer (link, phone call noted by the coordinator, or their account)."""
    now = now or timezone.now()
    if channel not in AnswerChannel.values:
        raise OrientationError("Canal de réponse inconnu.")
    if not accept and decline_reason not in DeclineReason.values:
        raise OrientationError({"decline_reason": "Indiquez le motif du refus."})
    by = actor_or_none(by)
    with transaction.atomic():
        request = request_lock(solicitation.request_id, related=("cpts",))
        locked = Solicitation.objects.select_for_update(of=("self",)).get(pk=solicitation.pk)
        if locked.status != SolicitationStatus.PENDING:
            raise OrientationError(
                f"Réponse déjà enregistrée : {SolicitationStatus(locked.status).label}."
            )
        if request.status not in ORIENTING:
            raise OrientationError("Cette demande n'est plus en recherche de médecin.")
        locked.status = SolicitationStatus.ACCEPTED if accept else SolicitationStatus.DECLINED
        locked.decline_reason = "" if accept else decline_reason
        locked.answered_at = now
        locked.answer_channel = channel
        locked.answered_by = by
        locked.note = note[:300]
        locked.full_clean()
        locked.save()
        _advance(request, by=by, now=now, accepted_now=accept)
    return locked


def household_take(
    *,
    request: Request,
    practitioner: Practitioner,
    by=None,
    channel: str = AnswerChannel.ACCOUNT,
    now=None,
) -> Solicitation:
    """A GP takes a waiting household themselves (from their list of households near them, in
    their account or behind their survey link): an accepted solicitation, and the person is told
    at once."""
    from .selectors import gp_candidate_for, gp_exclusion_reason

    now = now or timezone.now()
    with transaction.atomic():
        locked = request_lock(request.pk, related=("cpts", "commune"))
        if locked.status != Status.WAITING:
            raise OrientationError("Ce foyer n'est plus en attente : un autre médecin l'a pris.")
        fit = gp_candidate_for(practitioner, locked)
        if fit is None or locked.solicitations.filter(practitioner=practitioner).exists():
            reason = "" if fit is not None else gp_exclusion_reason(practitioner, locked)
            raise OrientationError(
                "Ce foyer ne correspond pas à votre déclaration de disponibilité"
                + (f" : {reason}." if reason else ".")
            )
        solicitation = Solicitation.objects.create(
            cpts=locked.cpts,
            request=locked,
            practitioner=practitioner,
            site_id=fit.site_id,
            distance_km=round(fit.distance_km, 2),
            origin=Origin.GP_PULL,
            status=SolicitationStatus.ACCEPTED,
            asked_by=by,
            asked_at=now,
            answer_due_at=now,
            answered_at=now,
            answer_channel=channel,
            answered_by=by,
        )
        request_transition(
            now=now,
            request=locked,
            to=Status.AWAITING_CHOICE,
            by=by,
            note="Un médecin a pris ce foyer depuis son espace",
        )
        _tell_person_offer(locked, [solicitation], now=now)
        if locked.cpts.email:
            outbox_enqueue(
                now=now,
                channel="email",
                to=locked.cpts.email,
                subject=f"Demande {locked.reference} prise par un médecin",
                body=(
                    f"Dr {practitioner.first_name} {practitioner.last_name} a pris le foyer de la "
                    f"demande {locked.reference} depuis son espace. La personne a reçu ses "
                    "coordonnées ; la demande attend son choix."
                ),
                topic="orientation.gp_took",
                cpts=locked.cpts,
                related=locked,
            )
    request.status = locked.status
    return solicitation


# --- the outcome ---------------------------------------------------------------------------------


def placement_record(
    *,
    request: Request,
    practitioner: Practitioner,
    recorded_by: str,
    by=None,
    now: datetime.datetime | None = None,
) -> Placement:
    """This household now has `practitioner` as médecin traitant: close the request as "MT
    found", cancel the other solicitations, tell the referrer. The GP and the person may only
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
        accepted = locked.solicitations.filter(
            practitioner=practitioner, status=SolicitationStatus.ACCEPTED
        ).exists()
        if recorded_by != RecordedBy.COORDINATOR and not accepted:
            raise OrientationError("Ce médecin n'a pas accepté cette demande.")
        if not Practitioner.objects.in_cpts(locked.cpts).filter(pk=practitioner.pk).exists():
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
        request_transition(
            now=now,
            request=locked,
            to=Status.CLOSED,
            reason=ClosedReason.MT_FOUND,
            by=by,
            by_patient=recorded_by == RecordedBy.PATIENT,
            note=f"Médecin traitant trouvé ({RecordedBy(recorded_by).label})",
        )
        _tell_referrer_found(locked, now=now)
    request.status = locked.status
    request.closed_reason = locked.closed_reason
    return placement


def orientation_restart(
    *, request: Request, by=None, note: str = "", by_patient: bool = False, now=None
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
                outbox_enqueue(
                    now=now,
                    channel="email",
                    to=s.practitioner.email,
                    subject=f"Demande {locked.reference} : plus besoin de votre réponse",
                    body=(
                        f"Bonjour,\n\nVous aviez accepté d'accueillir le foyer de la demande "
                        f"{locked.reference}. La {locked.cpts.name} a repris la recherche : "
                        "ce foyer ne prendra pas rendez-vous avec vous à ce titre.\n\nMerci."
                    ),
                    topic="orientation.gp_released",
                    cpts=locked.cpts,
                    related=s,
                )
        if by_patient:
            if locked.cpts.email:
                outbox_enqueue(
                    now=now,
                    channel="email",
                    to=locked.cpts.email,
                    subject=f"Demande {locked.reference} : aucun médecin proposé n'a convenu",
                    body=(
                        f"La personne de la demande {locked.reference} indique qu'aucun des "
                        "médecins proposés n'a pu la recevoir. La demande est revenue dans la "
                        "file d'attente, avec son ancienneté."
                    ),
                    topic="orientation.none_suited",
                    cpts=locked.cpts,
                    related=locked,
                )
        else:
            _tell_person(
                locked,
                now=now,
                topic="orientation.restarted",
                subject=f"Votre demande de médecin traitant — référence {locked.reference}",
                text=(
                    f"La {locked.cpts.name} reprend la recherche d'un médecin traitant pour vous ; "
                    "vous gardez votre ancienneté. Suivi :"
                ),
                letter_text=(
                    f"La {locked.cpts.name} reprend la recherche d'un médecin traitant pour vous ; "
                    "vous gardez votre ancienneté. Nous vous écrirons dès que des médecins "
                    "pourront vous accueillir."
                ),
            )
    request.status = locked.status


# --- the worker -----------------------------------------------------------------------------------


def solicitations_follow_up(*, now: datetime.datetime | None = None) -> int:
    """Periodic job: remind GPs past their delay once, expire those past the second delay and
    move their requests on. Idempotent. Returns how many solicitations it touched."""
    now = now or timezone.now()
    # A request closed, sent back to verification or to the queue by hand: its GPs need not answer.
    touched = (
        Solicitation.objects.pending()
        .exclude(request__status__in=ORIENTING)
        .cancel(now=now, note="La demande n'est plus en recherche de médecin")
    )
    due = Solicitation.objects.pending().filter(answer_due_at__lte=now).order_by("pk")
    for solicitation_id, request_id in list(due.values_list("pk", "request_id")):
        with transaction.atomic():
            # Same lock order as solicitation_answer (request, then solicitation): no deadlock
            # between the worker and a GP answering at that moment.
            request = request_lock(request_id)
            s = (
                Solicitation.objects.select_for_update(of=("self",))
                .select_related("cpts", "practitioner")
                .filter(pk=solicitation_id, status=SolicitationStatus.PENDING)
                .filter(answer_due_at__lte=now)
                .first()
            )
            if s is None:
                continue
            reminded = s.reminded_at
            config = OrientationSettings.for_cpts(s.cpts)
            if reminded is None:  # one reminder (GPs without e-mail: one more delay to call)
                s.reminded_at = now
                s.answer_due_at = now + datetime.timedelta(hours=config.answer_delay_hours)
                s.save(update_fields=["reminded_at", "answer_due_at"])
                _ask_gp(s, now=now, reminder=True)
            else:
                s.status = SolicitationStatus.EXPIRED
                s.answered_at = now
                s.save(update_fields=["status", "answered_at"])
                _advance(request, now=now)
            touched += 1
    return touched
