"""Asking GPs, their answers, moving on to the next candidate, the worker's follow-up."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.db import connection, transaction
from django.utils import timezone

from accesmt.accounts.actors import actor_or_none
from accesmt.directory.models import PracticeSite, Practitioner
from accesmt.intake.lifecycle import request_transition, requests_transition_many
from accesmt.intake.models import Request, Status
from accesmt.intake.services import request_lock
from accesmt.notifications.services import outbox_enqueue_many, outbox_message_build
from accesmt.territory.distances import haversine_km

from ..models import (
    ASKABLE,
    ORIENTING,
    AnswerChannel,
    DeclineReason,
    OrientationSettings,
    Origin,
    Solicitation,
    SolicitationStatus,
)
from .errors import OrientationError
from .messages import (
    _ask_gp,
    _ask_gp_message,
    _tell_person_offer,
    _tell_person_usual_gp,
    email_professional,
)

if TYPE_CHECKING:
    from accesmt.accounts.models import User

BATCH_SIZE = 500

# --- asking GPs ----------------------------------------------------------------------------------


def _nearest(request: Request, sites: Iterable[PracticeSite]) -> tuple[PracticeSite | None, float]:
    """The site of `sites` (located ones) nearest to the household, with its
    distance; the first site and NaN when the household has no coordinates."""
    lat, lon = request.latitude, request.longitude
    if lat is None:
        lat, lon = request.commune.latitude, request.commune.longitude
    best: tuple[PracticeSite | None, float] = (None, float("nan"))
    first = None
    for site in sites:
        first = first or site
        km = haversine_km(lat, lon, site.latitude, site.longitude) if lat is not None else None
        if km is not None and (best[0] is None or km < best[1]):
            best = (site, km)
    if best[0] is None:
        best = (first, float("nan"))
    return best


def _located_sites(cpts, practitioner_ids):
    return (
        PracticeSite.objects.present()
        .in_cpts(cpts)
        .filter(practitioner_id__in=practitioner_ids, latitude__isnull=False)
    )


def _nearest_site(request: Request, practitioner_id: int) -> tuple[PracticeSite | None, float]:
    return _nearest(request, _located_sites(request.cpts, [practitioner_id]))


def solicitations_send(
    *,
    request: Request,
    practitioner_ids: Iterable[int],
    by: User | None = None,
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
        # The GP a person already sees may practise just outside the territory: any present GP
        # of the directory may be asked as such.
        gps = (
            Practitioner.objects.present()
            if origin == Origin.USUAL_GP
            else Practitioner.objects.in_cpts(locked.cpts).filter(is_gone=False)
        )
        known = set(gps.filter(pk__in=ids).values_list("pk", flat=True))
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


def solicitations_send_many(
    *,
    asks: Iterable[tuple[Request, int]],
    by: User | None = None,
    origin: str = Origin.ALLOCATION,
    now: datetime.datetime | None = None,
) -> dict[int, Solicitation]:
    """`solicitations_send` for many requests at once, one GP each (the send of an allocation
    run): `asks` are (request, practitioner id) pairs whose requests the caller has locked
    (`select_for_update`, with `cpts` and `commune` joined) inside its transaction and found
    waiting. The same checks and writes as `solicitations_send` (a GP of the CPTS still
    practising, not already asked about the request; the site nearest to the household; the
    e-mail to the GP in the outbox; the request moved to "proposing" with its history line),
    with a constant number of queries per CPTS instead of a dozen per request. Returns the
    solicitations created by request id; a pair left out was refused."""
    if not connection.in_atomic_block:
        raise RuntimeError("solicitations_send_many runs inside the caller's transaction.")
    now = now or timezone.now()
    by = actor_or_none(by)
    asks = [(r, int(pid)) for r, pid in asks if r.status == Status.WAITING]
    request_ids = [r.pk for r, _ in asks]
    asked = set(
        Solicitation.objects.filter(request_id__in=request_ids).values_list(
            "request_id", "practitioner_id"
        )
    )
    by_cpts: dict[int, list[tuple[Request, int]]] = {}
    for request, pid in asks:
        by_cpts.setdefault(request.cpts_id, []).append((request, pid))
    created: dict[int, Solicitation] = {}
    for pairs in by_cpts.values():
        cpts = pairs[0][0].cpts
        due = now + datetime.timedelta(hours=OrientationSettings.for_cpts(cpts).answer_delay_hours)
        pids = {pid for _, pid in pairs}
        gps = Practitioner.objects.in_cpts(cpts).filter(is_gone=False).in_bulk(pids)
        sites: dict[int, list[PracticeSite]] = {}
        for site in _located_sites(cpts, pids):
            sites.setdefault(site.practitioner_id, []).append(site)
        for request, pid in pairs:
            if pid not in gps or (request.pk, pid) in asked or request.pk in created:
                continue
            site, km = _nearest(request, sites.get(pid, ()))
            created[request.pk] = Solicitation(
                cpts=cpts,
                request=request,
                practitioner=gps[pid],
                site=site,
                distance_km=None if km != km else round(km, 2),
                origin=origin,
                asked_by=by,
                asked_at=now,
                answer_due_at=due,
            )
    solicitations = Solicitation.objects.bulk_create(created.values(), batch_size=BATCH_SIZE)
    messages = []
    for solicitation in solicitations:
        if fields := _ask_gp_message(solicitation, now=now):
            messages.append(outbox_message_build(**fields, check_cpts=False))
    outbox_enqueue_many(messages, batch_size=BATCH_SIZE)
    requests_transition_many(
        requests=Request.objects.filter(pk__in=list(created)),
        from_status=Status.WAITING,
        to=Status.PROPOSING,
        by=by,
        note="1 médecin(s) sollicité(s)",
        now=now,
    )
    for request, _ in asks:
        if request.pk in created:
            request.status = Status.PROPOSING
    return created


def usual_gp_ask(
    *,
    request: Request,
    practitioner: Practitioner,
    by: User | None = None,
    now: datetime.datetime | None = None,
) -> Solicitation:
    """Ask the GP the person already sees whether they will become their médecin traitant
    (issue 12): the usual signed-link solicitation, marked `Origin.USUAL_GP`, with a message
    that says so; asked whatever their declared availability and distance."""
    if practitioner.is_gone:
        raise OrientationError("Ce médecin ne figure plus dans l'annuaire.")
    if request.solicitations.filter(practitioner=practitioner).exists():
        raise OrientationError("Ce médecin a déjà été sollicité pour cette demande.")
    created = solicitations_send(
        request=request,
        practitioner_ids=[practitioner.pk],
        by=by,
        origin=Origin.USUAL_GP,
        now=now,
    )
    return created[0]


def _usual_gp_accepted(request: Request, solicitation: Solicitation, *, by=None, now) -> None:
    """The usual GP accepted: the other GPs still asked need not answer, and the person is asked
    to confirm (follow-up link, or the coordination on their behalf). Runs inside the caller's
    transaction, on a locked request."""
    request.solicitations.pending().cancel(
        now=now, note="Le médecin que la personne consulte déjà a accepté"
    )
    if request.status == Status.PROPOSING:
        request_transition(
            now=now,
            request=request,
            to=Status.AWAITING_CHOICE,
            by=by,
            note="Le médecin que la personne consulte déjà accepte de devenir son médecin "
            "traitant ; la personne confirme",
        )
    _tell_person_usual_gp(request, solicitation, now=now)


def _next_candidate(request: Request, *, now) -> Solicitation | None:
    from ..selectors import request_candidates
    from ..transfers.services import transfer_next_receiver

    if request.held_for_transfer:
        # A household of a departing GP's plan: another receiver of the plan, or none (it
        # stays in the plan until the departure date), never a GP of the whole queue.
        return transfer_next_receiver(request, now=now)
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


def _advance(
    request: Request, *, by: User | None = None, now=None, accepted_now: bool = False
) -> None:
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
    by: User | None = None,
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
        if accept and locked.is_usual_gp:
            _usual_gp_accepted(request, locked, by=by, now=now)
        else:
            _advance(request, by=by, now=now, accepted_now=accept)
    return locked


def household_take(
    *,
    request: Request,
    practitioner: Practitioner,
    by: User | None = None,
    channel: str = AnswerChannel.ACCOUNT,
    now=None,
) -> Solicitation:
    """A GP takes a waiting household themselves (from their list of households near them, in
    their account or behind their survey link): an accepted solicitation, and the person is told
    at once."""
    from ..selectors import gp_candidate_for, gp_exclusion_reason

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
            email_professional(
                to=locked.cpts.email,
                message="gp_took",
                request=locked,
                topic="orientation.gp_took",
                related=locked,
                now=now,
                first_name=practitioner.first_name,
                last_name=practitioner.last_name,
            )
    request.status = locked.status
    return solicitation


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
