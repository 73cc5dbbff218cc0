"""The send of an allocation run (issue 15: "send all" cost 27 ms per line inside the request).

What it does, in a throw-away database (SQLite file under var/, or `--postgres` on
postgres://postgres@127.0.0.1:5432/accesmt_bench_allocation_send):
1. `build_queue`: one CPTS covering mainland France (34,875 communes), `--gps` GPs with an
   e-mail, a practice site and an availability declaration, `--households` waiting households
   (bench_allocation_db's generators, bulk inserts); the browser test
   tests/browser/test_allocation_100k.py builds its database with the same function;
2. the allocation run of that CPTS (`allocation_run_create`), timed;
3. the send of `--lines` of its lines (all when 0) as the operation's handler runs it
   (`allocation_run_send` with a progress callback), timed, optionally under cProfile
   (`--profile`: the 25 heaviest functions by cumulative time, 15 by own time); prints the
   per-line cost and the queries per line.

    .venv/bin/python bench/bench_allocation_send.py --postgres --lines 10000 --profile
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import bench_allocation_db as shared  # noqa: E402  (bench/ is on the path)
import bench_gp_households as gp_households  # noqa: E402


def build_queue(*, households: int, gps: int, seed: int = 11, now=None):
    """One CPTS over mainland France with `gps` GPs (each with an e-mail: the send writes one
    message per GP asked) and `households` waiting households, in bulk. Returns the CPTS."""
    from django.db import transaction
    from django.db.models import CharField, F, Value
    from django.db.models.functions import Cast, Concat
    from django.utils import timezone

    from accesmt.directory.models import Practitioner
    from accesmt.territory.models import CPTS

    now = now or timezone.now()
    rng = np.random.default_rng(seed)
    with shared.fast_sqlite_writes(), transaction.atomic():
        communes = gp_households.one_cpts(None)
        shared.generate_gps(rng, gps, communes, now)
        shared.generate_households(rng, households, communes, now)
        Practitioner.objects.update(
            email=Concat(Value("dr"), Cast(F("id"), CharField()), Value("@banc.example.org"))
        )
        shared.reset_sequences()
    shared.analyze()
    return CPTS.objects.get(pk=int(communes[3][0]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--gps", type=int, default=10_000)
    parser.add_argument("--lines", type=int, default=10_000, help="lines sent (0: all)")
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--pg-url")
    parser.add_argument("--profile", action="store_true", help="cProfile the send")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    args = parser.parse_args()
    shared.PG_DATABASE = "accesmt_bench_allocation_send"
    shared.SQLITE_FILE = ROOT / "var" / "bench_allocation_send.sqlite3"
    where = shared.prepare_database(args)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from accesmt.accounts.models import User
    from accesmt.matching.services import allocation_run_create
    from accesmt.notifications.models import OutboxMessage
    from accesmt.orientation.allocation_send import allocation_run_send

    try:
        call_command("migrate", verbosity=0)
        t0 = time.perf_counter()
        cpts = build_queue(households=args.households, gps=args.gps)
        print(
            f"database: {where}; built {args.households:,} households × {args.gps:,} GPs in one "
            f"CPTS in {time.perf_counter() - t0:.1f} s"
        )
        admin = User.objects.create_user(email="banc@banc.example.org", password=None)
        t0 = time.perf_counter()
        run = allocation_run_create(cpts=cpts, by=admin)
        print(
            f"allocation run: {run.assigned:,} of {run.households:,} households proposed in "
            f"{time.perf_counter() - t0:.1f} s"
        )
        line_ids = list(run.lines.assigned().order_by("pk").values_list("pk", flat=True))
        if args.lines:
            line_ids = line_ids[: args.lines]
        calls = []

        def progress(**kwargs):
            calls.append(kwargs)

        def send():
            return allocation_run_send(
                run=run, by=admin, line_ids=line_ids, cpts=cpts, progress=progress
            )

        queries = []

        def count(execute, sql, params, many, context):
            queries.append(1)
            return execute(sql, params, many, context)

        t0 = time.perf_counter()
        with connection.execute_wrapper(count):
            if args.profile:
                import cProfile
                import pstats

                profiler = cProfile.Profile()
                report = profiler.runcall(send)
            else:
                report = send()
        seconds = time.perf_counter() - t0
        n = len(line_ids)
        print(
            f"send: {n:,} lines in {seconds:.1f} s = {1000 * seconds / n:.2f} ms per line "
            f"({len(report.sent):,} sent, {len(report.skipped):,} skipped, "
            f"{len(report.failed):,} failed); {len(queries):,} queries "
            f"({len(queries) / n:.2f} per line); {len(calls):,} progress calls; "
            f"{OutboxMessage.objects.count():,} messages in the outbox"
            + (" (times under cProfile)" if args.profile else "")
        )
        if args.profile:
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
            pstats.Stats(profiler).sort_stats("tottime").print_stats(15)
    finally:
        if not args.keep:
            shared.drop_database(args)


if __name__ == "__main__":
    main()
