"""Persist the demo territory through the product's own services (`manage.py load_demo`)."""

from __future__ import annotations

import datetime as dt
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F
from django.test import override_settings
from django.utils import timezone

from accesmt.accounts.models import Membership, Profession, Role, User
from accesmt.directory.models import DeclarationSource
from accesmt.directory.services import declaration_create, practitioner_create_manual
from accesmt.intake.lifecycle import request_transition
from accesmt.intake.models import ClosedReason, GeocodeSource, Request, Status
from accesmt.intake.services import request_create
from accesmt.notifications.models import OutboxMessage
from accesmt.notifications.models import Status as OutboxStatus
from accesmt.reporting.models import ReportingSettings
from accesmt.reporting.periods import add_months
from accesmt.territory.models import CPTS, Commune
from accesmt.territory.services import communes_load

from .assurance_maladie import demo_assurance_maladie_create
from .cpam_list import demo_cpam_list_create
from .departures import LEAVING_IN_MONTHS, demo_departures_create
from .generator import DemoGP, Place, generate
from .households import household_data
from .orientation import demo_history_placement, demo_orientation_create
from .satisfaction import demo_satisfaction_create
from .survey import demo_survey_campaign_create
from .territory import demo_cpts_create
from .transfers import demo_transfer_plan_create

DEMO_PASSWORD = "Demo-AccesMT-2026"  # noqa: S105 — printed on purpose: demo accounts only


@dataclass(frozen=True)
class DemoAccount:
    email: str
    label: str
    cpts: str  # "lievin", "lens" or "" for the platform admin
    role: str = ""
    profession: str = ""
    communes: tuple[str, ...] = ()  # INSEE codes of a mairie


ACCOUNTS = (
    DemoAccount("admin@accesmt.example.org", "administrateur de la plateforme", ""),
    DemoAccount(
        "coordination@cpts-lievin.example.org", "coordinatrice", "lievin", Role.COORDINATOR
    ),
    DemoAccount(
        "pharmacie@cpts-lievin.example.org",
        "pharmacien orienteur",
        "lievin",
        Role.REFERRER,
        Profession.PHARMACIST,
    ),
    DemoAccount(
        "infirmiere@cpts-lievin.example.org",
        "infirmière orienteuse",
        "lievin",
        Role.REFERRER,
        Profession.NURSE,
    ),
    DemoAccount("medecin@cpts-lievin.example.org", "médecin généraliste", "lievin", Role.GP),
    DemoAccount(
        "mediation@cpam-artois.example.org", "médiatrice CPAM", "lievin", Role.CPAM_MEDIATOR
    ),
    DemoAccount(
        "agent@cpam-artois.example.org",
        "agente CPAM orienteuse",
        "lievin",
        Role.CPAM_AGENT,
        Profession.CPAM,
    ),
    DemoAccount("observatoire@cpts-lievin.example.org", "observateur", "lievin", Role.OBSERVER),
    DemoAccount(
        "mairie@lievin.example.org",
        "mairie de Liévin (indicateurs de la commune)",
        "lievin",
        Role.MAIRIE,
        communes=("62510",),
    ),
    DemoAccount(
        "coordination@cpts-lens-henin.example.org",
        "coordinateur (CPTS voisine)",
        "lens",
        Role.COORDINATOR,
    ),
)

# Share of the demo households in each state (the rest are waiting). "MT found" is not drawn
# here: demo/orientation.py takes waiting households there through the real services, so that
# each one has its GP (Placement) and its history.
STATE_SHARES = (
    ("new", 0.12),
    ("to_verify", 0.13),
    ("closed:withdrawn", 0.03),
    ("closed:moved_away", 0.02),
    ("closed:unreachable", 0.02),
)


def _places(cpts: CPTS) -> list[Place]:
    communes = Commune.objects.filter(territory__cpts=cpts).prefetch_related("postal_codes")
    return [
        Place(
            insee_code=c.insee_code,
            name=c.name,
            postcode=min(p.code for p in c.postal_codes.all()),
            latitude=c.latitude,
            longitude=c.longitude,
            population=c.population,
        )
        for c in communes
        if c.latitude is not None
    ]


def _accounts_create(cpts_by_key: dict[str, CPTS]) -> dict[str, User]:
    users = {}
    for account in ACCOUNTS:
        first, _, last = account.label.partition(" ")
        user = User.objects.create_user(
            account.email, DEMO_PASSWORD, first_name=first.capitalize(), last_name=last
        )
        if not account.cpts:
            user.is_staff = user.is_superuser = user.is_platform_admin = True
            user.save()
        else:
            membership = Membership.objects.create(
                user=user,
                cpts=cpts_by_key[account.cpts],
                role=account.role,
                profession=account.profession,
            )
            if account.communes:
                membership.communes.set(Commune.objects.filter(pk__in=account.communes))
        users[account.email] = user
    return users


def _households_create(cpts: CPTS, users: dict[str, User], households: int, seed: int) -> int:
    territory = generate(_places(cpts), seed=seed, households=households)
    communes = {c.pk: c for c in Commune.objects.filter(territory__cpts=cpts)}
    coordinator = users["coordination@cpts-lievin.example.org"]
    referrers = [
        users["pharmacie@cpts-lievin.example.org"],
        users["infirmiere@cpts-lievin.example.org"],
    ]
    rng = random.Random(seed)
    # The demo never calls the national geocoder: addresses are synthetic, their points too.
    logging.disable(logging.WARNING)
    try:
        _households_persist(territory, cpts, communes, coordinator, referrers, rng)
    finally:
        logging.disable(logging.NOTSET)
    return len(territory.households)


def _households_persist(territory, cpts, communes, coordinator, referrers, rng) -> None:
    now = timezone.now()
    with override_settings(GEOCODER_URL="http://127.0.0.1:9", GEOCODER_RETRIES=0):
        for index, h in enumerate(territory.households):
            household, members = household_data(h, communes)
            channel = h.channel
            referrer = rng.choice(referrers) if channel == "referral" else None
            created = request_create(
                cpts=cpts,
                channel=channel,
                household=household,
                members=members,
                by=coordinator if channel == "phone" else referrer,
                referrer=referrer,
                referrer_attested_consent=referrer is not None,
                consent_oral=channel == "phone",
                now=now - dt.timedelta(days=h.days_waiting, minutes=index),
            ).request
            Request.objects.filter(pk=created.pk).update(
                latitude=h.latitude,
                longitude=h.longitude,
                geocode_source=GeocodeSource.ADDRESS,
                geocode_message="Adresse fictive de démonstration",
            )
            _move_to_demo_state(created, rng.random(), coordinator)
        # A person registered online who had already been registered by phone: a duplicate
        # flagged at intake, for the coordinator to merge.
        if territory.households:
            household, members = household_data(territory.households[0], communes)
            request_create(
                cpts=cpts,
                channel="online",
                household=household | {"address": household["address"].upper()},
                members=members[:1],
            )
        # A person with neither phone nor e-mail, registered by the coordination during a call
        # from a neighbour: every message to them is a letter to print ("Courriers à imprimer").
        if len(territory.households) > 1:
            household, members = household_data(territory.households[1], communes)
            request_create(
                cpts=cpts,
                channel="phone",
                household=household | {"phone": "", "email": "", "address": "3 rue des Écoles"},
                members=[members[0] | {"first_name": "Germaine", "last_name": "Lefebvre"}],
                by=coordinator,
                consent_oral=True,
                now=now - dt.timedelta(days=2),
            )


def _gp_create(gp: DemoGP, cpts: CPTS, communes: dict[str, Commune], now) -> None:
    practitioner = practitioner_create_manual(
        rpps=gp.rpps,
        civility="Dr",
        first_name=gp.first_name,
        last_name=gp.last_name,
        birth_year=gp.birth_year,
        is_msu=gp.is_msu,
        site={
            "address_line1": gp.street,
            "postcode": gp.place.postcode,
            "commune": communes[gp.place.insee_code],
            "commune_name": gp.place.name,
            "phone": gp.phone,
            "practice_type": gp.practice_type,
            "latitude": gp.latitude,
            "longitude": gp.longitude,
        },
    )
    if gp.declaration == "none":
        return
    accepting = gp.accepting != "no"
    radius = int(gp.home_visit_radius_km) if gp.home_visit_radius_km else None
    declaration_create(
        practitioner=practitioner,
        cpts=cpts,
        accepting=gp.accepting,
        listing=gp.listing,
        source=DeclarationSource.SURVEY,
        monthly_capacity=gp.monthly_capacity if accepting else None,
        accepts_children_under_6=accepting and gp.profiles["children_under_6"],
        accepts_aged_70_plus=accepting and gp.profiles["aged_70_plus"],
        accepts_ald=accepting and gp.profiles["ald"],
        accepts_css_ame=accepting and gp.profiles["css_ame"],
        accepts_home_visits=accepting and radius is not None,
        accepts_households=accepting and gp.profiles["households"],
        home_visit_radius_km=radius,
        planned_departure_date=gp.planned_departure,
        approx_patient_count=1400 if gp.planned_departure else None,
        declared_at=now - dt.timedelta(days=gp.declared_days_ago),
    )


def _gps_create(cpts: CPTS, seed: int) -> int:
    gps = generate(_places(cpts), seed=seed, households=0).gps
    communes = {c.pk: c for c in Commune.objects.filter(territory__cpts=cpts)}
    now = timezone.now()
    for gp in gps:
        _gp_create(gp, cpts, communes, now)
    return len(gps)


def _move_to_demo_state(request: Request, draw: float, coordinator: User) -> None:
    cumulated = 0.0
    target = "waiting"
    for state, share in STATE_SHARES:
        cumulated += share
        if draw < cumulated:
            target = state
            break
    if target == "new":
        return
    request_transition(request=request, to=Status.TO_VERIFY, by=coordinator)
    if target == "to_verify":
        return
    if target.startswith("closed:"):
        reason = target.split(":", 1)[1]
        request_transition(
            request=request, to=Status.CLOSED, by=coordinator, reason=ClosedReason(reason)
        )
        return
    request_transition(request=request, to=Status.WAITING, by=coordinator)


# Two ACI contract years of history: the contract started 21 months ago (the previous contract
# year is complete, the current one nine months old) and households registered all along,
# most of them placed or closed since.
CONTRACT_MONTHS_AGO = 21
HISTORY_HOUSEHOLDS = 70
HISTORY_RECENT_DAYS = 100  # the recent months are the main demo's (days_waiting)
HISTORY_FATES = (("found", 0.55), ("withdrawn", 0.1), ("unreachable", 0.07), ("moved_away", 0.05))


def _contract_start(today: dt.date) -> dt.date:
    return add_months(today.replace(day=1), -CONTRACT_MONTHS_AGO)


def _history_fate(draw: float) -> str:
    cumulated = 0.0
    for fate, share in HISTORY_FATES:
        cumulated += share
        if draw < cumulated:
            return fate
    return "waiting"  # still waiting: the oldest of the queue


def _history_create(cpts: CPTS, users: dict[str, User], *, count: int, seed: int) -> int:
    """`count` households registered between the contract start and HISTORY_RECENT_DAYS ago,
    through the same services (dated with their `now=`): checked the next day, then placed by
    the orientation services, closed for another reason, or still waiting."""
    now = timezone.now()
    start = dt.datetime.combine(
        ReportingSettings.for_cpts(cpts).aci_contract_start, dt.time(9), tzinfo=now.tzinfo
    )
    span = (now - dt.timedelta(days=HISTORY_RECENT_DAYS) - start).total_seconds()
    territory = generate(_places(cpts), seed=seed + 1, households=count)
    communes = {c.pk: c for c in Commune.objects.filter(territory__cpts=cpts)}
    coordinator = users["coordination@cpts-lievin.example.org"]
    rng = random.Random(f"{seed}-history")
    logging.disable(logging.WARNING)
    try:
        with override_settings(GEOCODER_URL="http://127.0.0.1:9", GEOCODER_RETRIES=0):
            for index, h in enumerate(territory.households):
                created_at = start + dt.timedelta(seconds=span * (index + rng.random()) / count)
                household, members = household_data(h, communes)
                channel = "phone" if h.channel == "referral" else h.channel
                request = request_create(
                    cpts=cpts,
                    channel=channel,
                    household=household,
                    members=members,
                    by=coordinator if channel == "phone" else None,
                    consent_oral=channel == "phone",
                    now=created_at,
                ).request
                Request.objects.filter(pk=request.pk).update(
                    latitude=h.latitude, longitude=h.longitude, geocode_source=GeocodeSource.ADDRESS
                )
                checked = created_at + dt.timedelta(hours=rng.uniform(2, 30))
                for to in (Status.TO_VERIFY, Status.WAITING):
                    request_transition(request=request, to=to, by=coordinator, now=checked)
                _history_fate_apply(request, _history_fate(rng.random()), rng, coordinator, now)
    finally:
        logging.disable(logging.NOTSET)
    # The messages of that past (acknowledgments, letters…) left at the time.
    OutboxMessage.objects.filter(
        cpts=cpts,
        status=OutboxStatus.PENDING,
        created_at__lt=now - dt.timedelta(days=HISTORY_RECENT_DAYS / 2),
    ).update(status=OutboxStatus.SENT, sent_at=F("created_at"), attempts=1)
    return count


def _history_fate_apply(request, fate, rng, coordinator, now) -> None:
    latest = now - dt.timedelta(days=HISTORY_RECENT_DAYS / 2)
    at = min(request.created_at + dt.timedelta(days=rng.uniform(4, 150)), latest)
    if fate == "found":
        request.refresh_from_db()
        if demo_history_placement(rng, request, at, coordinator):
            return
        fate = "withdrawn"
    if fate != "waiting":
        request_transition(
            request=request,
            to=Status.CLOSED,
            by=coordinator,
            reason=ClosedReason(fate),
            now=at,
        )


def demo_load(
    *,
    seed: int = 62510,
    households: int = 240,
    history: int = HISTORY_HOUSEHOLDS,
    progress: Callable[[str], None] = lambda line: None,
) -> bool:
    """Create the demo CPTS, accounts and people. Returns False when they already exist.
    `progress` receives one French line before each stage (load_demo prints them)."""
    if not Commune.objects.exists():
        progress("Communes de France (≈ 30 s)…")
        communes_load()
    if CPTS.objects.filter(slug="cpts-lievin").exists():
        return False
    with transaction.atomic():
        progress("CPTS de Liévin et de Lens-Hénin, comptes de démonstration…")
        lievin, lens = demo_cpts_create()
        ReportingSettings.objects.create(
            cpts=lievin,
            aci_contract_start=_contract_start(timezone.localdate()),
            public_report=True,
        )
        users = _accounts_create({"lievin": lievin, "lens": lens})
        coordinator = users["coordination@cpts-lievin.example.org"]
        progress("Médecins généralistes et leurs déclarations de disponibilité…")
        _gps_create(lievin, seed)
        progress("Enquête semestrielle auprès des médecins…")
        demo_survey_campaign_create(lievin, seed=seed, launched_by=coordinator)
        progress(f"{households} foyers en attente d'un médecin traitant…")
        _households_create(lievin, users, households, seed)
        progress(f"{history} foyers inscrits au fil des deux années de contrat…")
        _history_create(lievin, users, count=history, seed=seed)
        progress("Orientation : médecins sollicités, réponses, choix des personnes…")
        demo_orientation_create(
            lievin,
            seed=seed,
            coordinator=coordinator,
            gp_user=users["medecin@cpts-lievin.example.org"],
        )
        progress("Assurance Maladie : orientations CPAM, médiation, liste de patients en ALD…")
        demo_assurance_maladie_create(
            lievin,
            _places(lievin),
            seed=seed,
            coordinator=coordinator,
            agent=users["agent@cpam-artois.example.org"],
            mediator=users["mediation@cpam-artois.example.org"],
        )
        demo_cpam_list_create(lievin, _places(lievin), coordinator=coordinator, seed=seed)
        progress("Enquête de satisfaction, départs de médecins et plan de transfert…")
        demo_satisfaction_create(lievin, seed=seed)
        leaving = demo_departures_create(lievin, coordinator=coordinator)
        demo_transfer_plan_create(
            lievin,
            _places(lievin),
            leaving=leaving,
            departure=add_months(timezone.localdate(), LEAVING_IN_MONTHS),
            coordinator=coordinator,
            seed=seed,
        )
    return True
