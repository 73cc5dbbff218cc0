"""The GP's « foyers à prendre » page with many waiting households (issue 13, point 5; issue 15).

Measured on main before issue 13: 17.4 s and +1 GB at 90,000 waiting households (the page loaded
every waiting request with its members, then ranked the candidates one request at a time in
Python). Target: a page whose time and query count do not grow with the queue.

What it does, in a throw-away database (SQLite file under var/, or `--postgres`):
1. loads the communes and makes one CPTS of the communes of one département (`--departement`);
2. generates 200 GPs there and, for each size of `--sizes`, that many waiting households (with
   bench_allocation_db's generators: points around communes, members with ages, ALD, visits);
3. makes GP no. 1 accept every profile (12 places, home visits within 10 km) with an account,
   and GETs their page (first page, sorted by priority then by distance, and page 3) through the
   Django test client: prints the median time of 3 runs, the number of SQL queries, the number of
   households offered and the peak resident memory.

    .venv/bin/python bench/bench_gp_households.py                  # SQLite, 2,000 and 20,000
    .venv/bin/python bench/bench_gp_households.py --postgres --sizes 2000 20000 90000
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import bench_allocation_db as shared  # noqa: E402  (bench/ is on the path)

shared.PG_DATABASE = "accesmt_bench_gp_households"
shared.SQLITE_FILE = ROOT / "var" / "bench_gp_households.sqlite3"


def one_cpts(departement: str | None):
    """(insee, lat, lon, cpts_id) arrays of the communes of one CPTS covering `departement`
    (the whole mainland when None)."""
    from accesmt.territory.models import CPTS, Commune, TerritoryCommune
    from accesmt.territory.services import communes_load

    communes_load()
    communes = Commune.objects.filter(latitude__isnull=False)
    communes = (
        communes.filter(departement__lt="97")
        if departement is None
        else communes.filter(departement=departement)
    )
    rows = list(communes.values_list("insee_code", "latitude", "longitude"))
    name = departement or "métropole"
    cpts = CPTS.objects.create(name=f"CPTS banc {name}", slug="cpts-banc")
    TerritoryCommune.objects.bulk_create(
        [TerritoryCommune(cpts=cpts, commune_id=r[0]) for r in rows], batch_size=5000
    )
    return (
        np.array([r[0] for r in rows]),
        np.array([r[1] for r in rows]),
        np.array([r[2] for r in rows]),
        np.full(len(rows), cpts.pk, dtype=np.int64),
    )


def the_gp(cpts_id: int):
    """GP no. 1, accepting every profile, 12 places, visits within 10 km, with an account."""
    from accesmt.accounts.models import Membership, User
    from accesmt.directory.models import AvailabilityDeclaration, Practitioner

    gp = Practitioner.objects.get(pk=1)
    gp.email = "dr.banc@exemple.fr"
    gp.save(update_fields=["email"])
    AvailabilityDeclaration.objects.filter(practitioner=gp).update(
        cpts_id=cpts_id,
        accepting="yes",
        monthly_capacity=12,
        home_visit_radius_km=10,
        accepts_children_under_6=True,
        accepts_aged_70_plus=True,
        accepts_ald=True,
        accepts_css_ame=True,
        accepts_home_visits=True,
        accepts_households=True,
    )
    user = User.objects.create_user(email=gp.email, password=None)
    Membership.objects.create(user=user, cpts_id=cpts_id, role="gp")
    return user


def clear_households() -> None:
    from django.db import connection

    from accesmt.intake.models import HouseholdMember, Request

    reasons = Request.priority_reasons.rel.related_model
    with connection.cursor() as cursor:
        for model in (HouseholdMember, reasons, Request):
            cursor.execute(f"DELETE FROM {model._meta.db_table}")


def measure(client, url: str) -> tuple[float, float, int, int]:
    """(median wall seconds and CPU seconds of this process — SQLite's work included, not a
    PostgreSQL server's — of 3 GETs after a warm-up, queries of one GET, households shown)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url)
    times, cpu = [], []
    for _ in range(3):
        t0, c0 = time.perf_counter(), time.process_time()
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        assert response.status_code == 200, response.status_code
    page = response.content.decode()
    shown = page.count("data-household=")
    return statistics.median(times), statistics.median(cpu), len(queries), shown


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2_000, 20_000])
    parser.add_argument("--departement", default="62")
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--pg-url")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()

    where = shared.prepare_database(args)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import transaction
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    try:
        call_command("migrate", verbosity=0)
        print(f"database: {where}")
        now = timezone.now()
        rng = np.random.default_rng(args.seed)
        with shared.fast_sqlite_writes(), transaction.atomic():
            communes = one_cpts(args.departement)
            shared.generate_gps(rng, 200, communes, now)
        user = the_gp(int(communes[3][0]))
        client = Client(HTTP_HOST="localhost")
        client.force_login(user)
        url = reverse("orientation:gp_households", kwargs={"cpts_slug": "cpts-banc"})
        for size in args.sizes:
            with shared.fast_sqlite_writes(), transaction.atomic():
                clear_households()
                shared.generate_households(rng, size, communes, now)
                shared.reset_sequences()
            shared.analyze()
            for label, query in (
                ("par priorité", ""),
                ("par distance", "?tri=distance"),
                ("page 3", "?page=3"),
            ):
                seconds, cpu, queries, shown = measure(client, url + query)
                print(
                    f"{size:>7,} waiting, {label:<13}: {seconds * 1000:6.0f} ms "
                    f"(CPU {cpu * 1000:6.0f} ms), "
                    f"{queries:3d} queries, {shown:3d} households shown, "
                    f"peak RSS {shared.peak_mib():.0f} MiB",
                    flush=True,
                )
    finally:
        if not args.keep:
            shared.drop_database(args)


if __name__ == "__main__":
    main()
