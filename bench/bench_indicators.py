"""Indicator pages against big data (issue 10, "Speed"): prints figures, asserts nothing.

1. generates one CPTS of 10,000 requests (BENCH_INDICATORS_REQUESTS), their members, spread
   over two ACI contract years, some closed (MT found, withdrawn, unreachable); with COPY on
   PostgreSQL, executemany on SQLite (helpers of bench_allocation_db.py);
2. times every indicator section page of that CPTS for its coordinator through the Django test
   client, in process (templates and SVG charts included): median and worst of 5 calls, and the
   query count;
3. on PostgreSQL (DATABASE_URL=postgres://… or --postgres), adds a region of 1,000,000 requests
   (BENCH_INDICATORS_REGION_REQUESTS) over the CPTS of the platform (one per mainland
   département here, ≈ 96) and times the region's pages for the platform admin; then prints
   the EXPLAIN of the main aggregate of the demand page.

Targets: < 300 ms per page at 10,000 requests, < 1 s for the region at 1,000,000 (PostgreSQL).

    .venv/bin/python bench/bench_indicators.py                      # SQLite (make bench)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/x .venv/bin/python bench/bench_indicators.py
    BENCH_INDICATORS_REGION_REQUESTS=100000 .venv/bin/python bench/bench_indicators.py --postgres

The database is its own (`accesmt_bench_indicators` on the PostgreSQL server, or a throw-away
SQLite file under var/), dropped at the end unless --keep.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import bench_allocation_db as common  # noqa: E402

common.PG_DATABASE = "accesmt_bench_indicators"
common.SQLITE_FILE = ROOT / "var" / "bench_indicators.sqlite3"
CPTS_TARGET_MS = 300
REGION_TARGET_MS = 1000
CALLS = 5


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


def generate_requests(
    rng, n: int, communes, now, *, first_id: int, first_member: int, only_cpts=None
) -> int:
    """n requests (and 1–5 members each) in the communes of `only_cpts` (else anywhere),
    registered over the last two years; 40 % closed since."""
    from accesmt.intake.models import HouseholdMember, Request

    insee, _lat, _lon, cpts_ids = communes
    choices = np.flatnonzero(cpts_ids == only_cpts) if only_cpts is not None else None
    pick = rng.choice(choices, n) if choices is not None else rng.integers(0, len(insee), n)
    ids = np.arange(first_id, first_id + n)
    age = rng.uniform(0, 730, n)
    created = [now - dt.timedelta(days=float(d)) for d in age.tolist()]
    fate = rng.random(n)
    status = np.where(fate < 0.4, "closed", np.where(fate < 0.5, "to_verify", "waiting"))
    reason = np.where(
        fate < 0.25,
        "mt_found",
        np.where(fate < 0.35, "withdrawn", np.where(fate < 0.4, "unreachable", "")),
    )
    closed_after = rng.uniform(0, 1, n) * age
    closed_at = common.datetimes([now - dt.timedelta(days=float(d)) for d in (age - closed_after)])
    closed_at = [c if s == "closed" else None for c, s in zip(closed_at, status, strict=True)]
    priority = rng.random(n) < 0.35
    stamps = common.datetimes(created)
    common.insert(
        Request,
        n,
        {
            "id": ids,
            "cpts_id": cpts_ids[pick],
            "reference": common.references(int(first_id), n),
            "channel": np.where(
                rng.random(n) < 0.7, "online", np.where(rng.random(n) < 0.5, "phone", "api")
            ),
            "status": status,
            "closed_reason": reason,
            "closed_at": closed_at,
            "address": "1 rue du Banc d'Essai",
            "postcode": "00000",
            "commune_id": insee[pick],
            "coverage": np.where(rng.random(n) < 0.1, "css", "regime_general"),
            "reason": "mt_retired",
            "consent_processing": True,
            "consent_sharing": True,
            "consent_text_version": "banc",
            "consented_at": stamps,
            "is_priority": priority,
            "priority_rule_count": priority.astype(np.int64),
            "created_at": stamps,
            "updated_at": stamps,
            "waiting_since": stamps,
        },
    )
    size = np.where(rng.random(n) < 0.65, 1, rng.integers(2, 6, n))
    owner = np.repeat(ids, size)
    m = len(owner)
    today = now.date()
    common.insert(
        HouseholdMember,
        m,
        {
            "id": np.arange(first_member, first_member + m),
            "request_id": owner,
            "cpts_id": np.repeat(cpts_ids[pick], size),
            "first_name": "Camille",
            "last_name": "Banc",
            "normalised_name": "banccamille",
            "birth_date": [
                today - dt.timedelta(days=int(d)) for d in rng.integers(30, 95 * 365, m).tolist()
            ],
            "has_ald": rng.random(m) < 0.2,
            "home_visits": np.where(rng.random(m) < 1 / 15, "occasionally", "never"),
        },
    )
    return m


def time_pages(client, urls: dict[str, str]) -> list[tuple[str, float, float, int]]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    figures = []
    for name, url in urls.items():
        response = client.get(url)  # warm-up (template compilation, caches)
        assert response.status_code == 200, (url, response.status_code)
        times = []
        for _ in range(CALLS):
            t0 = time.perf_counter()
            client.get(url)
            times.append((time.perf_counter() - t0) * 1000)
        with CaptureQueriesContext(connection) as captured:
            client.get(url)
        slowest = sorted(captured.captured_queries, key=lambda q: -float(q["time"]))[:3]
        figures.append((name, statistics.median(times), max(times), len(captured), slowest))
    return figures


def show(title: str, figures, target_ms: float) -> None:
    print(f"\n{title}")
    for name, median, worst, queries, _slowest in figures:
        flag = "" if median < target_ms else "  ← over target"
        print(
            f"  {name:14} median {median:7.1f} ms   worst {worst:7.1f} ms"
            f"   {queries:3d} queries{flag}"
        )
    name, *_, slowest = max(figures, key=lambda f: f[1])
    print(f"  slowest queries of {name}:")
    for query in slowest:
        print(f"    {float(query['time']) * 1000:6.0f} ms  {query['sql'][:150]}")
    worst_median = max(f[1] for f in figures)
    verdict = "met" if worst_median < target_ms else "NOT met"
    print(f"  target < {target_ms:g} ms per page: {verdict} (slowest median {worst_median:.0f} ms)")


def explain(cpts) -> None:
    """The plan of the demand page's main aggregate (households of the period)."""
    from django.db.models import Count

    from accesmt.reporting.indicators.common import registered_requests
    from accesmt.reporting.models import ReportingSettings
    from accesmt.reporting.periods import period_from_query
    from accesmt.reporting.tables import Scope

    period = period_from_query(
        {}, contract_start=ReportingSettings.for_cpts(cpts).aci_contract_start
    )
    for label, scope in (("CPTS", Scope(cpts=cpts)), ("region", Scope(cpts=None))):
        queryset = registered_requests(scope, period)
        grouped = queryset.order_by().values("channel").annotate(n=Count("pk"))
        plan = grouped.explain(analyze=True) if _is_pg() else grouped.explain()
        print(f"\nEXPLAIN households of the period by channel ({label}):")
        print("  " + plan.replace("\n", "\n  "))


def _is_pg() -> bool:
    from django.db import connection

    return connection.vendor == "postgresql"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", action="store_true", help="run on PostgreSQL")
    parser.add_argument("--pg-url", help=f"PostgreSQL server (default {common.DEFAULT_PG_SERVER})")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    parser.add_argument("--seed", type=int, default=10)
    args = parser.parse_args()
    n_cpts = env_int("BENCH_INDICATORS_REQUESTS", 10_000)
    n_region = env_int("BENCH_INDICATORS_REGION_REQUESTS", 1_000_000)

    where = common.prepare_database(args)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
    os.environ["DEBUG"] = "0"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import transaction
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    from accesmt.accounts.models import Membership, Role, User
    from accesmt.reporting.catalogue import SECTION_SLUGS
    from accesmt.reporting.models import ReportingSettings
    from accesmt.reporting.periods import add_months
    from accesmt.territory.models import CPTS

    try:
        t0 = time.perf_counter()
        call_command("migrate", verbosity=0)
        print(f"database: {where} (migrated in {time.perf_counter() - t0:.1f} s)")
        now = timezone.now()
        rng = np.random.default_rng(args.seed)
        t0 = time.perf_counter()
        with common.fast_sqlite_writes(), transaction.atomic():
            communes = common.build_platform()
            cpts = CPTS.objects.get(slug="cpts-banc-62")
            members = generate_requests(
                rng, n_cpts, communes, now, first_id=1, first_member=1, only_cpts=cpts.pk
            )
            common.reset_sequences()
        common.analyze()
        start = add_months(timezone.localdate().replace(day=1), -21)
        ReportingSettings.objects.create(cpts=cpts, aci_contract_start=start)
        print(
            f"generated: {cpts.name}, {n_cpts:,} requests ({members:,} persons) in "
            f"{time.perf_counter() - t0:.1f} s"
        )
        coordinator = User.objects.create_user(email="coordination@banc.example.org")
        Membership.objects.create(user=coordinator, cpts=cpts, role=Role.COORDINATOR)
        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(coordinator)
        urls = {
            slug: reverse(
                "reporting:indicators_section",
                kwargs={"cpts_slug": cpts.slug, "section_slug": slug},
            )
            for slug in SECTION_SLUGS.values()
        }
        show(
            f"coordinator of a CPTS of {n_cpts:,} requests",
            time_pages(client, urls),
            CPTS_TARGET_MS,
        )

        if not _is_pg() and not os.environ.get("BENCH_INDICATORS_REGION_REQUESTS"):
            print("\nregion: PostgreSQL only (DATABASE_URL=postgres://… or --postgres)")
            explain(cpts)
            return
        t0 = time.perf_counter()
        with common.fast_sqlite_writes(), transaction.atomic():
            more = n_region - n_cpts
            generate_requests(
                rng, more, communes, now, first_id=n_cpts + 1, first_member=members + 1
            )
            common.reset_sequences()
        common.analyze()
        print(
            f"\ngenerated: region of {n_region:,} requests over "
            f"{CPTS.objects.count()} CPTS in {time.perf_counter() - t0:.1f} s"
        )
        admin = User.objects.create_user(email="admin@banc.example.org", is_platform_admin=True)
        client.force_login(admin)
        region = {
            slug: reverse("reporting:region_indicators_section", kwargs={"section_slug": slug})
            for slug in SECTION_SLUGS.values()
        }
        from accesmt.reporting.snapshots import region_snapshots_refresh

        t0 = time.perf_counter()
        region_snapshots_refresh()
        print(
            f"\nworker job reporting.region_snapshots (every section, default period): "
            f"{time.perf_counter() - t0:.1f} s"
        )
        show(
            f"platform admin, region of {n_region:,}, default period (the worker's tables)",
            time_pages(client, region),
            REGION_TARGET_MS,
        )
        last_year = f"?periode=year&debut={now.year - 1}-06-01"
        show(
            f"platform admin, region of {n_region:,}, another period (computed on the spot)",
            time_pages(client, {slug: url + last_year for slug, url in region.items()}),
            REGION_TARGET_MS,
        )
        client.force_login(coordinator)
        show(
            f"coordinator of the same CPTS, inside the region of {n_region:,}",
            time_pages(client, urls),
            CPTS_TARGET_MS,
        )
        explain(cpts)
    finally:
        if not args.keep:
            common.drop_database(args)


if __name__ == "__main__":
    main()
