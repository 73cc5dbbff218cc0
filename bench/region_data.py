"""The data of the load test (issue 15 point 4): a PostgreSQL database of the whole country.

- the 34,875 communes and 100 CPTS covering mainland France: one per département (96), the four
  départements with the most communes split in two (north / south of their median latitude);
- the national GP directory: `--gps` GPs (100,000) with their practice sites (10 % have two) and
  an availability declaration each (most accepting), bench_allocation_db.generate_gps;
- `--requests` requests (1,000,000) with their members (≈ 1.9 a household, French names so that
  a search by name finds a few, not all), bench_allocation_db.generate_households with
  statuses and dates: about 55 % waiting, 8 % to verify, 3 % new, 4 % GPs asked, 2 % choosing,
  28 % closed (GP found, withdrawn, unreachable, moved, duplicate), registered over two years;
  one CPTS holds exactly 100,000 requests (`big`) and one exactly 1,000 (`small`), for the
  "page time does not grow with the queue" ratio; the others share the rest;
- priority reasons for the priority requests, and solicitations of GPs of the same CPTS for
  the requests in orientation (1 to 3 pending; one accepted for those choosing);
- per CPTS a coordinator `coordination@<slug>.banc.example.org`, password `PASSWORD` below,
  with a confirmed TOTP device whose key is `totp_key(slug)` (production settings ask the
  second factor; the load test computes the code with django_otp.oath.totp).

The database is kept between runs (`--reset` rebuilds it): a second run only rewrites
`var/bench/region-<database>.json`, the file the locustfile reads (CPTS slugs, accounts, TOTP
keys, a commune and postal code of each CPTS for the public form). Prints the time of each phase.

    .venv/bin/python bench/region_data.py                  # build once, then reuse (21 min at
                                                           # load average 20, before the index
                                                           # rebuild was added)
    .venv/bin/python bench/region_data.py --reset          # rebuild from scratch
    .venv/bin/python bench/region_data.py --url postgres://postgres@127.0.0.1:5432/other \\
        --requests 100000 --gps 10000                      # a small one (a quick try)
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import hashlib
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import bench_allocation_db as common  # noqa: E402

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/accesmt_bench_region"


def region_file(url: str) -> Path:
    """The file the locustfile reads, one per database: var/bench/region-<database>.json."""
    return ROOT / "var" / "bench" / f"region-{url.rsplit('/', 1)[-1]}.json"


PASSWORD = "banc-de-charge-2026"  # noqa: S105 (a throw-away bench database)
BIG, SMALL = 100_000, 1_000
BIG_DEPARTEMENT, SMALL_DEPARTEMENT = "59", "48"
SPLIT = 4  # départements split in two: 96 + 4 = 100 CPTS


def totp_key(slug: str) -> str:
    """The coordinator's TOTP key (40 hex digits), known to the load test."""
    return hashlib.sha1(f"accesmt-banc-{slug}".encode()).hexdigest()  # noqa: S324


def coordinator_email(slug: str) -> str:
    return f"coordination@{slug}.banc.example.org"


class Phases:
    def __init__(self):
        self.t0 = self.last = time.perf_counter()

    def done(self, what: str) -> None:
        now = time.perf_counter()
        print(f"  {what}: {now - self.last:.1f} s", flush=True)
        self.last = now

    def total(self) -> float:
        return time.perf_counter() - self.t0


def database_exists(url: str) -> bool:
    import psycopg

    server, name = url.rsplit("/", 1)
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()


def database_is_complete(url: str) -> bool:
    import psycopg

    try:
        with psycopg.connect(url) as conn:
            row = conn.execute(
                "SELECT value FROM bench_region_marker WHERE key = 'complete'"
            ).fetchone()
            return bool(row)
    except psycopg.Error:
        return False


def recreate_database(url: str) -> None:
    server, name = url.rsplit("/", 1)
    common.pg_admin(server, f"DROP DATABASE IF EXISTS {name}")
    common.pg_admin(server, f"CREATE DATABASE {name}")


# --- the territory ----------------------------------------------------------------------------


def split_largest(communes, n_split: int):
    """Split the `n_split` CPTS with the most communes in two (north / south of the median
    latitude): the northern half goes to a new CPTS `<slug>-nord`. Returns the communes arrays
    with the new CPTS ids."""
    from accesmt.territory.models import CPTS, TerritoryCommune

    insee, lat, lon, cpts_ids = communes
    cpts_ids = cpts_ids.copy()
    ids, counts = np.unique(cpts_ids, return_counts=True)
    for cpts_id in ids[np.argsort(-counts, kind="stable")][:n_split].tolist():
        old = CPTS.objects.get(pk=cpts_id)
        new = CPTS.objects.create(name=f"{old.name} nord", slug=f"{old.slug}-nord")
        mine = np.flatnonzero(cpts_ids == cpts_id)
        north = mine[lat[mine] > np.median(lat[mine])]
        TerritoryCommune.objects.filter(commune_id__in=insee[north].tolist()).update(cpts=new)
        cpts_ids[north] = new.pk
    return insee, lat, lon, cpts_ids


# --- requests ---------------------------------------------------------------------------------


@contextlib.contextmanager
def indexes_dropped(tables: list[str]):
    """Bulk load without the tables' secondary indexes (those that back no constraint), built
    again at the end in one pass each: several times faster than maintaining them row by row."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT i.indexname, i.indexdef FROM pg_indexes i
            WHERE i.schemaname = 'public' AND i.tablename = ANY(%s)
              AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conname = i.indexname)
            """,
            [tables],
        )
        definitions = cursor.fetchall()
        for name, _ in definitions:
            cursor.execute(f'DROP INDEX "{name}"')
    yield
    with connection.cursor() as cursor:
        # Django's foreign keys are deferred: their checks must run before an index is built.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        for _, definition in definitions:
            cursor.execute(definition)


def member_names(rng, m):
    from accesmt.demo.names import FEMALE_FIRST_NAMES, MALE_FIRST_NAMES, SURNAMES
    from accesmt.intake.models import normalise_name

    firsts = np.array(FEMALE_FIRST_NAMES + MALE_FIRST_NAMES)
    lasts = np.array(SURNAMES)
    f = rng.integers(0, len(firsts), m)
    s = rng.integers(0, len(lasts), m)
    keys = {
        (i, j): normalise_name(str(lasts[j]), str(firsts[i]))
        for i in range(len(firsts))
        for j in range(len(lasts))
    }
    return (
        firsts[f].tolist(),
        lasts[s].tolist(),
        [keys[i, j] for i, j in zip(f.tolist(), s.tolist(), strict=True)],
    )


def request_life(rng, n: int, now) -> dict:
    """Statuses and dates of n requests registered over the last two years."""
    age = rng.uniform(0, 730, n)
    created = [now - dt.timedelta(days=float(d)) for d in age.tolist()]
    fate = rng.random(n)
    status = np.select(
        [fate < 0.55, fate < 0.63, fate < 0.66, fate < 0.70, fate < 0.72],
        ["waiting", "to_verify", "new", "proposing", "awaiting_choice"],
        "closed",
    )
    why = rng.random(n)
    reason = np.where(
        status == "closed",
        np.select(
            [why < 0.6, why < 0.75, why < 0.85, why < 0.95],
            ["mt_found", "withdrawn", "unreachable", "moved_away"],
            "duplicate",
        ),
        "",
    )
    closed_after = rng.uniform(0, 1, n) * age
    closed = [
        now - dt.timedelta(days=float(a - c)) if s == "closed" else None
        for a, c, s in zip(age.tolist(), closed_after.tolist(), status.tolist(), strict=True)
    ]
    stamps = common.datetimes(created)
    return {
        "status": status,
        "closed_reason": reason,
        "closed_at": closed,
        "channel": np.where(
            rng.random(n) < 0.75, "online", np.where(rng.random(n) < 0.6, "phone", "api")
        ),
        "phone": [f"+336{i:08d}" for i in rng.integers(0, 10**8, n).tolist()],
        "created_at": stamps,
        "consented_at": stamps,
        "updated_at": [c or s for c, s in zip(closed, stamps, strict=True)],
        "waiting_since": stamps,
    }


def generate_requests(rng, communes, now, *, total: int, big_id: int, small_id: int) -> int:
    """`total` requests: BIG in the big CPTS, SMALL in the small one, the rest over the other
    communes (so each CPTS in proportion to its number of communes), in chunks."""
    cpts_ids = communes[3]
    rest = np.flatnonzero((cpts_ids != big_id) & (cpts_ids != small_id))
    plan = [
        ("big", rng.choice(np.flatnonzero(cpts_ids == big_id), BIG)),
        ("small", rng.choice(np.flatnonzero(cpts_ids == small_id), SMALL)),
    ]
    left = total - BIG - SMALL
    chunk = 250_000
    while left > 0:
        size = min(chunk, left)
        plan.append(("rest", rng.choice(rest, size)))
        left -= size
    first_id, first_member = 1, 1
    for _label, pick in plan:
        n = len(pick)
        members = common.generate_households(
            rng,
            n,
            communes,
            now,
            first_id=first_id,
            first_member=first_member,
            pick=pick,
            request_columns=request_life(rng, n, now),
            member_names=member_names,
        )
        first_id += n
        first_member += members
        print(f"    {first_id - 1:,} requests, {first_member - 1:,} members", flush=True)
    return first_member - 1


def generate_priority_reasons() -> int:
    """One reason per priority request, written by the database (the members are not read)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO intake_requestpriorityreason (request_id, member_id, rule_code, label)
            SELECT id, NULL,
                   CASE WHEN coverage = 'css' THEN 'coverage' ELSE 'senior' END,
                   CASE WHEN coverage = 'css' THEN 'CSS, AME ou sans couverture'
                        ELSE 'Personne âgée' END
            FROM intake_request WHERE is_priority
            """
        )
        return cursor.rowcount


def generate_solicitations(rng, now) -> int:
    """GPs of the request's CPTS asked about each request in orientation: 1–3 pending for
    "proposing", one accepted and one pending for "awaiting_choice"."""
    from accesmt.directory.models import AvailabilityDeclaration
    from accesmt.intake.models import Request
    from accesmt.orientation.models import Solicitation

    gps_of: dict[int, np.ndarray] = {}
    pairs = np.array(AvailabilityDeclaration.objects.values_list("cpts_id", "practitioner_id"))
    for cpts_id in np.unique(pairs[:, 0]).tolist():
        gps_of[cpts_id] = pairs[pairs[:, 0] == cpts_id, 1]
    rows = list(
        Request.objects.filter(status__in=["proposing", "awaiting_choice"]).values_list(
            "id", "cpts_id", "status"
        )
    )
    request_id, practitioner, status, answered = [], [], [], []
    for rid, cpts_id, st in rows:
        gps = gps_of.get(cpts_id)
        if gps is None or len(gps) < 3:
            continue
        k = 2 if st == "awaiting_choice" else int(rng.integers(1, 4))
        start = int(rng.integers(0, len(gps)))
        for j in range(k):
            request_id.append(rid)
            practitioner.append(int(gps[(start + j) % len(gps)]))
            accepted = st == "awaiting_choice" and j == 0
            status.append("accepted" if accepted else "pending")
            answered.append(now - dt.timedelta(days=1) if accepted else None)
    n = len(request_id)
    asked = now - dt.timedelta(days=3)
    common.insert(
        Solicitation,
        n,
        {
            "cpts_id": _cpts_of(rows, request_id),
            "request_id": request_id,
            "practitioner_id": practitioner,
            "site_id": practitioner,  # the first site of GP i has id i (generate_gps)
            "distance_km": np.round(rng.uniform(0.5, 15, n), 1),
            "origin": "coordinator",
            "status": status,
            "asked_at": common.datetimes([asked]) * n,
            "answer_due_at": common.datetimes([asked + dt.timedelta(days=7)]) * n,
            "answered_at": answered,
            "answer_channel": ["link" if a else "" for a in answered],
        },
    )
    return n


def _cpts_of(rows, request_ids):
    cpts = {rid: cpts_id for rid, cpts_id, _ in rows}
    return [cpts[r] for r in request_ids]


def generate_coordinators() -> int:
    """One coordinator per CPTS, same password (hashed once), a confirmed TOTP device each."""
    from django.contrib.auth.hashers import make_password
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from accesmt.accounts.models import Membership, Role, User
    from accesmt.territory.models import CPTS

    hashed = make_password(PASSWORD)
    cpts = list(CPTS.objects.order_by("slug"))
    users = User.objects.bulk_create(
        [
            User(email=coordinator_email(c.slug), password=hashed, first_name="Coordination")
            for c in cpts
        ]
    )
    users = {u.email: u for u in User.objects.filter(email__in=[u.email for u in users])}
    Membership.objects.bulk_create(
        [
            Membership(user=users[coordinator_email(c.slug)], cpts=c, role=Role.COORDINATOR)
            for c in cpts
        ]
    )
    TOTPDevice.objects.bulk_create(
        [
            TOTPDevice(
                user=users[coordinator_email(c.slug)],
                name="Application du banc",
                key=totp_key(c.slug),
                confirmed=True,
            )
            for c in cpts
        ]
    )
    return len(cpts)


# --- the file the locustfile reads ------------------------------------------------------------


def write_region_file(url: str) -> dict:
    """CPTS slugs, request counts, accounts and one commune with a single postal code per CPTS
    (what the public form needs), read from the database."""
    from django.db.models import Count

    from accesmt.intake.models import Request
    from accesmt.territory.models import CPTS, PostalCode

    counts = dict(
        Request.objects.values("cpts_id")
        .order_by()
        .annotate(n=Count("pk"))
        .values_list("cpts_id", "n")
    )
    single = (
        PostalCode.objects.values("commune_id")
        .order_by()
        .annotate(n=Count("pk"))
        .filter(n=1)
        .values_list("commune_id", flat=True)
    )
    places = {}
    for cpts_id, name, code in (
        PostalCode.objects.filter(commune_id__in=single, commune__territory__cpts__isnull=False)
        .order_by("commune_id")
        .values_list("commune__territory__cpts_id", "commune__name", "code")
    ):
        places.setdefault(cpts_id, [])
        if len(places[cpts_id]) < 5:
            places[cpts_id].append({"commune_name": name, "postcode": code})
    cpts = []
    for c in CPTS.objects.order_by("slug"):
        cpts.append(
            {
                "slug": c.slug,
                "requests": counts.get(c.pk, 0),
                "email": coordinator_email(c.slug),
                "totp_key": totp_key(c.slug),
                "places": places.get(c.pk, []),
            }
        )
    # By slug, not by count: each load test adds its registrations to random CPTS.
    data = {
        "database_url": url,
        "password": PASSWORD,
        "big": f"cpts-banc-{BIG_DEPARTEMENT}",
        "small": f"cpts-banc-{SMALL_DEPARTEMENT}",
        "cpts": cpts,
    }
    path = region_file(url)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False))
    return data


def vacuum_analyze(url: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=DEFAULT_URL, help=f"database (default {DEFAULT_URL})")
    parser.add_argument("--reset", action="store_true", help="drop and build again")
    parser.add_argument("--requests", type=int, default=1_000_000)
    parser.add_argument("--gps", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=15)
    args = parser.parse_args()
    if args.requests < BIG + SMALL:
        parser.error(f"--requests must be at least {BIG + SMALL:,}")

    os.environ["DATABASE_URL"] = args.url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
    build = args.reset or not database_exists(args.url) or not database_is_complete(args.url)
    if build:
        recreate_database(args.url)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from accesmt.territory.models import CPTS

    if not build:
        data = write_region_file(args.url)
        print(
            f"{args.url}: already built ({len(data['cpts'])} CPTS, "
            f"{sum(c['requests'] for c in data['cpts']):,} requests; --reset to rebuild); "
            f"{region_file(args.url).relative_to(ROOT)} rewritten"
        )
        return

    print(f"building {args.url}", flush=True)
    phases = Phases()
    call_command("migrate", verbosity=0)
    phases.done("migrate")
    now = timezone.now()
    rng = np.random.default_rng(args.seed)
    with transaction.atomic():
        communes = common.build_platform()
        communes = split_largest(communes, SPLIT)
        phases.done(f"communes and {CPTS.objects.count()} CPTS")
        n_sites = common.generate_gps(rng, args.gps, communes, now)
        phases.done(f"{args.gps:,} GPs, {n_sites:,} sites, {args.gps:,} declarations")
        big = CPTS.objects.get(slug=f"cpts-banc-{BIG_DEPARTEMENT}")
        small = CPTS.objects.get(slug=f"cpts-banc-{SMALL_DEPARTEMENT}")
        with indexes_dropped(["intake_request", "intake_householdmember"]):
            members = generate_requests(
                rng, communes, now, total=args.requests, big_id=big.pk, small_id=small.pk
            )
            phases.done(f"{args.requests:,} requests, {members:,} members")
        phases.done("their indexes built")
        reasons = generate_priority_reasons()
        solicitations = generate_solicitations(rng, now)
        phases.done(f"{reasons:,} priority reasons, {solicitations:,} solicitations")
        coordinators = generate_coordinators()
        common.reset_sequences()
        from django.core.management.color import no_style

        from accesmt.intake.models import RequestPriorityReason
        from accesmt.orientation.models import Solicitation

        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(
                no_style(), [RequestPriorityReason, Solicitation]
            ):
                cursor.execute(sql)
        phases.done(f"{coordinators} coordinators (password and TOTP)")
    connection.close()
    vacuum_analyze(args.url)
    phases.done("VACUUM ANALYZE")
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE bench_region_marker (key text PRIMARY KEY, value text)")
        cursor.execute("INSERT INTO bench_region_marker VALUES ('complete', %s)", [now.isoformat()])
    data = write_region_file(args.url)
    print(
        f"built in {phases.total():.0f} s: {len(data['cpts'])} CPTS, big {data['big']} "
        f"({BIG:,}), small {data['small']} ({SMALL:,}); "
        f"{region_file(args.url).relative_to(ROOT)} written"
    )


if __name__ == "__main__":
    main()
