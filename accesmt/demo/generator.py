"""Deterministic synthetic demo data: households without a GP and the GPs of a territory.

Pure Python, no database: the same seed always gives the same people, so tests and benchmarks
can reuse it. The proportions follow the seed documents (../shared/seeds):
- about 1 household in 3 has at least one priority criterion (CPTS Sud Est Grenoblois, 6 months);
- about 1 person in 15 needs home visits (same source);
- reasons: retirements first, then newcomers, then "cannot continue" (too far, no home visits,
  disagreement) (same source);
- 20 % of GPs are over 60; about two thirds accept new patients and a third of those agree to be
  listed (CPTS du VAL: 66.7 % and 30.8 %); 1,407 inhabitants per GP (same source).
"""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass, field

from stdnum import luhn

from .names import FEMALE_FIRST_NAMES, MALE_FIRST_NAMES, STREET_NAMES, STREET_TYPES, SURNAMES

INHABITANTS_PER_GP = 1407
PRIORITY_HOUSEHOLD_SHARE = 1 / 3
HOME_VISIT_PERSON_SHARE = 1 / 15
GP_OVER_60_SHARE = 0.20
GP_ACCEPTING_SHARE = 2 / 3
ACCEPTING_LISTED_SHARE = 1 / 3

# (reason code, weight): retirements, newcomers, then the "cannot continue" family.
REASONS = (
    ("mt_retired", 40),
    ("moved_in", 25),
    ("mt_too_far", 10),
    ("no_home_visits", 6),
    ("disagreement", 6),
    ("never_had", 9),
    ("other", 4),
)
OTHER_REASONS = ("Médecin parti exercer à l'hôpital", "Médecin décédé", "Cabinet fermé")
CHANNELS = (("online", 55), ("referral", 25), ("phone", 20))
PRIORITY_CRITERIA = ("age_70", "child_under_6", "ald", "css_ame", "home_visits", "disability")


@dataclass(frozen=True)
class Place:
    insee_code: str
    name: str
    postcode: str
    latitude: float
    longitude: float
    population: int


@dataclass
class DemoMember:
    first_name: str
    last_name: str
    sex: str  # "F" or "M"
    birth_date: dt.date
    has_ald: bool = False
    disability: str = ""
    home_visits: str = "never"  # never / occasionally / exclusively


@dataclass
class DemoHousehold:
    place: Place
    street: str
    latitude: float
    longitude: float
    phone: str
    email: str
    coverage: str
    needs_rights_help: bool
    reason: str
    reason_other: str
    urgent_follow_up: bool
    channel: str
    days_waiting: int
    members: list[DemoMember] = field(default_factory=list)
    former_gp: str = ""


@dataclass
class DemoGP:
    rpps: str
    first_name: str
    last_name: str
    sex: str
    birth_year: int
    place: Place
    street: str
    latitude: float
    longitude: float
    phone: str
    practice_type: str  # solo / group / msp / health_centre
    is_msu: bool
    declaration: str  # "valid", "expired" or "none"
    accepting: str  # yes / no / on_request
    monthly_capacity: int
    profiles: dict[str, bool]
    home_visit_radius_km: float | None
    listing: str  # public / professionals / not_listed
    planned_departure: dt.date | None
    declared_days_ago: int


@dataclass
class DemoTerritory:
    households: list[DemoHousehold]
    gps: list[DemoGP]


def _weighted(rng: random.Random, choices):
    values, weights = zip(*choices, strict=True)
    return rng.choices(values, weights=weights, k=1)[0]


def _jitter(rng: random.Random, place: Place, km: float = 1.2) -> tuple[float, float]:
    """A point near the commune centre (within `km`), as addresses spread around it."""
    distance = km * math.sqrt(rng.random())
    angle = rng.random() * 2 * math.pi
    dlat = distance * math.cos(angle) / 111.0
    dlon = distance * math.sin(angle) / (111.0 * math.cos(math.radians(place.latitude)))
    return round(place.latitude + dlat, 6), round(place.longitude + dlon, 6)


def _birth_date(rng: random.Random, today: dt.date, min_age: int, max_age: int) -> dt.date:
    age_days = rng.randint(min_age * 365 + 1, max_age * 365 + 300)
    return today - dt.timedelta(days=age_days)


def _street(rng: random.Random) -> str:
    return f"{rng.randint(1, 180)} {rng.choice(STREET_TYPES)} {rng.choice(STREET_NAMES)}"


def _mobile(rng: random.Random) -> str:
    """A valid metropolitan mobile number: 06 (not 063x, 069x: overseas) or 07 3x–07 9x (07 0x–07 2x
    are not allocated)."""
    prefix, digits = rng.choice("67"), f"{rng.randint(0, 99_999_999):08d}"
    allowed = "01245678" if prefix == "6" else "3456789"
    digits = allowed[int(digits[0]) % len(allowed)] + digits[1:]
    return f"+33{prefix}{digits}"


def _person(rng: random.Random, last_name: str, sex: str | None = None) -> tuple[str, str]:
    sex = sex or rng.choice("FM")
    names = FEMALE_FIRST_NAMES if sex == "F" else MALE_FIRST_NAMES
    return rng.choice(names), sex


def _household(rng: random.Random, place: Place, today: dt.date) -> DemoHousehold:
    last_name = rng.choice(SURNAMES)
    priority = rng.random() < PRIORITY_HOUSEHOLD_SHARE
    criteria: set[str] = set()
    if priority:
        criteria.add(
            _weighted(
                rng,
                [(c, w) for c, w in zip(PRIORITY_CRITERIA, (35, 12, 25, 15, 12, 5), strict=True)],
            )
        )
        if rng.random() < 0.35:
            criteria.add(rng.choice(PRIORITY_CRITERIA))
    # Composition: single, couple, family (children only in families).
    kind = _weighted(rng, (("single", 50), ("couple", 28), ("family", 22)))
    if "child_under_6" in criteria:
        kind = "family"
    members: list[DemoMember] = []
    adults = 1 if kind == "single" else 2
    elderly = "age_70" in criteria
    for i in range(adults):
        first, sex = _person(rng, last_name, "F" if i == 0 and rng.random() < 0.6 else None)
        if elderly:
            birth = _birth_date(rng, today, 70, 94)
        elif kind == "family":
            birth = _birth_date(rng, today, 22, 48)
        else:
            birth = _birth_date(rng, today, 18, 69)
        members.append(DemoMember(first, last_name, sex, birth))
    if kind == "family":
        children = rng.choice((1, 1, 2, 2, 3))
        for c in range(children):
            first, sex = _person(rng, last_name)
            young = "child_under_6" in criteria and c == 0
            birth = _birth_date(rng, today, 0, 5) if young else _birth_date(rng, today, 6, 17)
            members.append(DemoMember(first, last_name, sex, birth))
    if "ald" in criteria:
        rng.choice(members[:adults]).has_ald = True
    if "disability" in criteria:
        rng.choice(members).disability = rng.choice(
            (
                "Handicap moteur, fauteuil roulant",
                "Déficience visuelle",
                "Trouble du spectre autistique",
            )
        )
    if "home_visits" in criteria or (elderly and rng.random() < 0.6):
        rng.choice(members[:adults]).home_visits = _weighted(
            rng, (("occasionally", 70), ("exclusively", 30))
        )
    coverage = "regime_general"
    if "css_ame" in criteria:
        coverage = _weighted(rng, (("css", 70), ("ame", 15), ("none", 15)))
    needs_rights_help = coverage in ("ame", "none") or (coverage == "css" and rng.random() < 0.3)
    reason = _weighted(rng, REASONS)
    lat, lon = _jitter(rng, place)
    has_email = rng.random() < 0.6
    email = f"{last_name.lower()}.{rng.randint(10, 999)}@example.org" if has_email else ""
    email = email.encode("ascii", "ignore").decode()
    return DemoHousehold(
        place=place,
        street=_street(rng),
        latitude=lat,
        longitude=lon,
        phone=_mobile(rng) if (not has_email or rng.random() < 0.85) else "",
        email=email,
        coverage=coverage,
        needs_rights_help=needs_rights_help,
        reason=reason,
        reason_other=rng.choice(OTHER_REASONS) if reason == "other" else "",
        urgent_follow_up=priority and rng.random() < 0.1,
        channel=_weighted(rng, CHANNELS),
        days_waiting=int(rng.expovariate(1 / 60)),
        members=members,
        former_gp=(f"Dr {rng.choice(SURNAMES)}, {place.name}" if reason == "mt_retired" else ""),
    )


def _rpps(rng: random.Random) -> str:
    body = f"10{rng.randint(0, 99_999_999):08d}"
    return body + luhn.calc_check_digit(body)


def _gp(rng: random.Random, place: Place, today: dt.date) -> DemoGP:
    last_name = rng.choice(SURNAMES)
    first, sex = _person(rng, last_name)
    over_60 = rng.random() < GP_OVER_60_SHARE
    age = rng.randint(61, 71) if over_60 else rng.randint(30, 60)
    state = _weighted(rng, (("valid", 80), ("expired", 12), ("none", 8)))
    accepting = "no"
    if rng.random() < GP_ACCEPTING_SHARE:
        accepting = _weighted(rng, (("yes", 75), ("on_request", 25)))
    listing = "not_listed"
    if accepting != "no" and rng.random() < ACCEPTING_LISTED_SHARE:
        listing = _weighted(rng, (("public", 60), ("professionals", 40)))
    lat, lon = _jitter(rng, place, km=0.8)
    return DemoGP(
        rpps=_rpps(rng),
        first_name=first,
        last_name=last_name,
        sex=sex,
        birth_year=today.year - age,
        place=place,
        street=_street(rng),
        latitude=lat,
        longitude=lon,
        phone=f"+333{rng.randint(21, 21)}{rng.randint(0, 999_999):06d}",  # 03 21 xx xx xx
        practice_type=_weighted(
            rng, (("solo", 35), ("group", 40), ("msp", 20), ("health_centre", 5))
        ),
        is_msu=rng.random() < 0.25,
        declaration=state,
        accepting=accepting,
        monthly_capacity=rng.choice((2, 3, 4, 5, 6, 8, 10)) if accepting != "no" else 0,
        profiles={
            "children_under_6": rng.random() < 0.8,
            "aged_70_plus": rng.random() < 0.85,
            "ald": rng.random() < 0.85,
            "css_ame": rng.random() < 0.9,
            "home_visits": rng.random() < 0.45,
            "households": rng.random() < 0.75,
        },
        home_visit_radius_km=rng.choice((3.0, 5.0, 8.0)) if rng.random() < 0.45 else None,
        listing=listing,
        planned_departure=(
            today + dt.timedelta(days=rng.randint(120, 1100))
            if over_60 and rng.random() < 0.5
            else None
        ),
        declared_days_ago=rng.randint(200, 400) if state == "expired" else rng.randint(1, 170),
    )


def generate(
    places: list[Place], *, seed: int = 62510, households: int = 240, today: dt.date | None = None
) -> DemoTerritory:
    """Households spread by population; one GP per 1,407 inhabitants, in the bigger communes."""
    rng = random.Random(seed)
    today = today or dt.date(2026, 11, 1)
    places = sorted(places, key=lambda p: p.insee_code)
    weights = [p.population for p in places]
    demo_households = [
        _household(rng, rng.choices(places, weights=weights, k=1)[0], today)
        for _ in range(households)
    ]
    population = sum(weights)
    gp_count = max(1, round(population / INHABITANTS_PER_GP))
    towns = [p for p in places if p.population >= 2000] or places
    gps = [
        _gp(rng, rng.choices(towns, weights=[p.population for p in towns], k=1)[0], today)
        for _ in range(gp_count)
    ]
    return DemoTerritory(households=demo_households, gps=gps)
