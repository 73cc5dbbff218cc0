"""Working with the Assurance Maladie in the demo (issue 12), through the product's own services:

- households settled by their usual GP: each request names, by RPPS, a GP of the territory
  whom the person already sees; the coordination asked that GP first (`usual_gp_ask`), the GP
  accepted by the signed link, the person (or the coordination on their behalf) confirmed, which
  closed the request "suivi habituel officialisé"; one GP has since confirmed the declaration;
- referrals by the demo CPAM agent (`agent@cpam-artois.example.org`): one of the households
  above, one waiting in the queue, one registered yesterday and not checked yet — the queue
  shows them "orientation par l'Assurance Maladie (CPAM)";
- the mediator's worklist with outcomes: five households registered three to six weeks ago
  asked for help with their rights ("accès aux droits"); the CPAM mediator followed four of
  them (contacted, unreachable, rights opened: CSS, then a carte Vitale), recorded through
  `intake.rights.rights_outcome_record`; the fifth (and any other flagged household of the
  demo) waits on the worklist.

Dates are in the past (every service runs with its `now=`); the messages of these stories older
than a day are marked as sent at their date, the recent ones stay for the demo worker.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import random
from dataclasses import dataclass, field

from django.db.models import F
from django.test import override_settings
from django.utils import timezone

from accesmt.directory.models import Practitioner
from accesmt.intake.lifecycle import request_transition
from accesmt.intake.models import (
    Channel,
    GeocodeSource,
    Request,
    RightsOutcome,
    RightsOutcomeKind,
    Status,
)
from accesmt.intake.rights import rights_outcome_record
from accesmt.intake.services import request_create
from accesmt.notifications.models import OutboxMessage
from accesmt.notifications.models import Status as OutboxStatus
from accesmt.orientation.models import AnswerChannel, Placement, RecordedBy
from accesmt.orientation.services import placement_record, solicitation_answer, usual_gp_ask
from accesmt.orientation.services.declarations import declaration_confirm
from accesmt.territory.models import Commune

from .generator import Place, generate
from .households import household_data

USUAL_GP_HOUSEHOLDS = 4
# The worklist: the coverage each household declared, and the mediation's outcome
# (kind, rights opened, days ago, note) or None.
RIGHTS_HOUSEHOLDS = (
    ("ame", (RightsOutcomeKind.CONTACTED, (), 12, "Rendez-vous fixé pour constituer le dossier")),
    ("css", (RightsOutcomeKind.UNREACHABLE, (), 9, "Trois appels sans réponse, message laissé")),
    ("none", (RightsOutcomeKind.RIGHTS_OPENED, ("opened_css",), 5, "Dossier CSS accepté")),
    ("unknown", (RightsOutcomeKind.RIGHTS_OPENED, ("opened_vitale",), 2, "Carte Vitale reçue")),
    ("none", None),
)


@dataclass
class DemoAssuranceMaladie:
    usual_gp: list[Request] = field(default_factory=list)
    cpam_referrals: list[Request] = field(default_factory=list)
    rights_outcomes: list[RightsOutcome] = field(default_factory=list)


@contextlib.contextmanager
def _offline():
    """The demo never calls the national geocoder: addresses are synthetic, their points too."""
    logging.disable(logging.WARNING)
    try:
        with override_settings(GEOCODER_URL="http://127.0.0.1:9", GEOCODER_RETRIES=0):
            yield
    finally:
        logging.disable(logging.NOTSET)


def _register(cpts, h, communes, *, at, coordinator, agent=None, extra=None) -> Request:
    household, members = household_data(h, communes)
    phone = agent is None and h.channel == "phone"
    referrer = agent
    request = request_create(
        cpts=cpts,
        channel=Channel.REFERRAL if referrer else (Channel.PHONE if phone else Channel.ONLINE),
        household=household | (extra or {}),
        members=members,
        by=referrer or (coordinator if phone else None),
        referrer=referrer,
        referrer_attested_consent=referrer is not None,
        consent_oral=phone,
        now=at,
    ).request
    Request.objects.filter(pk=request.pk).update(
        latitude=h.latitude,
        longitude=h.longitude,
        geocode_source=GeocodeSource.ADDRESS,
        geocode_message="Adresse fictive de démonstration",
    )
    return request


def _verify(request: Request, at: dt.datetime, coordinator) -> None:
    for to in (Status.TO_VERIFY, Status.WAITING):
        request_transition(request=request, to=to, by=coordinator, now=at)


def _settled_by_usual_gp(request, gp, *, at, rng, coordinator, on_behalf: bool) -> Placement:
    """Asked first, accepted by the link, confirmed: closed "suivi habituel officialisé"."""
    asked = at + dt.timedelta(days=rng.uniform(0.5, 3))
    solicitation = usual_gp_ask(request=request, practitioner=gp, by=coordinator, now=asked)
    answered = asked + dt.timedelta(hours=rng.uniform(4, 60))
    solicitation_answer(
        solicitation=solicitation, accept=True, channel=AnswerChannel.LINK, now=answered
    )
    request.refresh_from_db()
    confirmed = answered + dt.timedelta(days=rng.uniform(1, 5))
    return placement_record(
        request=request,
        practitioner=gp,
        recorded_by=RecordedBy.COORDINATOR if on_behalf else RecordedBy.PATIENT,
        by=coordinator if on_behalf else None,
        now=confirmed,
    )


def _usual_gps(cpts) -> list[Practitioner]:
    return list(Practitioner.objects.in_cpts(cpts).present().order_by("rpps"))


def demo_assurance_maladie_create(
    cpts, places: list[Place], *, seed: int, coordinator, agent, mediator, now=None
) -> DemoAssuranceMaladie:
    """Build the stories of the module doc in `cpts` (after the rest of the demo's households)."""
    now = now or timezone.now()
    rng = random.Random(f"{seed}-assurance-maladie")
    result = DemoAssuranceMaladie()
    gps = _usual_gps(cpts)
    communes = {c.pk: c for c in Commune.objects.filter(territory__cpts=cpts)}
    households = generate(
        places, seed=seed + 21, households=USUAL_GP_HOUSEHOLDS + 2 + len(RIGHTS_HOUSEHOLDS)
    ).households
    first_message = OutboxMessage.objects.order_by("-pk").values_list("pk", flat=True).first()
    with _offline():
        for index, h in enumerate(households[:USUAL_GP_HOUSEHOLDS] if gps else ()):
            gp = gps[rng.randrange(len(gps))]
            registered = now - dt.timedelta(days=rng.uniform(20, 70))
            request = _register(
                cpts,
                h,
                communes,
                at=registered,
                coordinator=coordinator,
                agent=agent if index == 0 else None,
                extra={"usual_gp_rpps": gp.rpps},
            )
            _verify(request, registered + dt.timedelta(hours=rng.uniform(3, 20)), coordinator)
            placement = _settled_by_usual_gp(
                request,
                gp,
                at=registered + dt.timedelta(days=1),
                rng=rng,
                coordinator=coordinator,
                on_behalf=index == USUAL_GP_HOUSEHOLDS - 1,
            )
            if index == 1:  # the GP confirmed the declaration from their page
                declaration_confirm(
                    placement=placement,
                    declared_by=RecordedBy.GP,
                    now=min(placement.at + dt.timedelta(days=9), now - dt.timedelta(hours=3)),
                )
            result.usual_gp.append(request)
            if index == 0:
                result.cpam_referrals.append(request)
        # The CPAM agent's other referrals: one checked and waiting, one of yesterday.
        for h, days in zip(households[USUAL_GP_HOUSEHOLDS:], (9, 1), strict=False):
            registered = now - dt.timedelta(days=days, hours=rng.uniform(0, 6))
            request = _register(
                cpts, h, communes, at=registered, coordinator=coordinator, agent=agent
            )
            if days > 1:
                _verify(request, registered + dt.timedelta(hours=20), coordinator)
            result.cpam_referrals.append(request)
        flagged = []
        for h, (coverage, _) in zip(
            households[USUAL_GP_HOUSEHOLDS + 2 :], RIGHTS_HOUSEHOLDS, strict=True
        ):
            registered = now - dt.timedelta(days=rng.uniform(20, 45))
            request = _register(
                cpts,
                h,
                communes,
                at=registered,
                coordinator=coordinator,
                extra={"coverage": coverage, "needs_rights_help": True},
            )
            _verify(request, registered + dt.timedelta(hours=rng.uniform(3, 20)), coordinator)
            flagged.append(request)
    result.rights_outcomes = _rights_outcomes(flagged, now=now, mediator=mediator)
    # What these stories sent before yesterday left at the time.
    OutboxMessage.objects.filter(
        pk__gt=first_message or 0,
        status=OutboxStatus.PENDING,
        created_at__lt=now - dt.timedelta(days=1),
    ).update(status=OutboxStatus.SENT, sent_at=F("created_at"), attempts=1)
    return result


def _rights_outcomes(flagged: list[Request], *, now, mediator) -> list[RightsOutcome]:
    outcomes = []
    for request, (_, outcome) in zip(flagged, RIGHTS_HOUSEHOLDS, strict=True):
        if outcome is None:
            continue
        kind, opened, days, note = outcome
        on = timezone.localdate(now) - dt.timedelta(days=days)
        at = timezone.make_aware(dt.datetime.combine(on, dt.time(15, 30)))
        outcomes.append(
            rights_outcome_record(
                request=request,
                kind=kind,
                on=on,
                opened=opened,
                note=note,
                by=mediator,
                now=min(at, now),
            )
        )
    return outcomes
