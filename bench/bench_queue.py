"""The coordinator's pages with a long queue (issue 15, point 4): does their time grow with it?

Target: the time of each page does not grow with the size of the queue — measured at 1,000 and
at 100,000 requests in one CPTS, ratio 100k / 1k under 1.5.

What it does, in a throw-away database (SQLite file under var/, or `--postgres` on
postgres://postgres@127.0.0.1:5432/accesmt_bench_queue):
1. loads the communes and makes one CPTS of the communes of one département, 200 GPs there
   (bench_allocation_db's generators), a coordinator and a GP with an account;
2. for each size of `--sizes`, that many requests in the CPTS (bench_allocation_db's households,
   then: states — new, to verify, waiting, GPs asked, choice, closed —, referrers, channels,
   priority reasons, phones and names, solicitations of three GPs for the requests being
   oriented, unresolved duplicate flags, calls with call-backs);
3. GETs each page through the Django test client as the coordinator (the GP for their
   households page, the survey link for the other): prints the median time of `--runs` runs
   after a warm-up, the number of SQL queries, and the ratio of the largest size to the smallest.

    .venv/bin/python bench/bench_queue.py                    # SQLite, 1,000 and 100,000
    .venv/bin/python bench/bench_queue.py --postgres

Measured with `--postgres` on the shared 2-core machine (load average about 10: the times are
several times those of a calm machine, the ratios are what counts), 1,000 → 100,000 requests:

| page | before (issue 15) | after |
|---|---|---|
| queue, first page | 726 ms → 7,461 ms (×10.3) | 1,384 ms → 1,058 ms (×0.76) |
| queue, state + rule filter | 496 → 3,257 ms (×6.6) | 1,086 → 1,387 ms (×1.28) |
| queue, sorted (5 columns, -waiting) | ×8.9 to ×16.0 | ×0.82 to ×1.36 |
| search name / reference / phone | ×0.62 / ×0.90 / ×4.59 | ×0.97 / ×1.10 / ×0.93 |
| queue, page 50 | ×21.0 | ×1.73 (at 1,000 page 50 is past the end: the last page, 20) |
| request page | ×1.00 | ×1.08 |
| orientation page, CPTS home, à rappeler | ×2.27, ×5.93, ×2.75 | ×2.06, ×3.52, ×2.70 (untouched) |
| GP households, survey link households | ×4.11, ×3.45 | ×1.74, ×2.00 (untouched) |

Those last two rows measured GP no. 1 full at 100,000 (the bench's acceptances filled its places)
and so an empty list. GP no. 1 is now left out of the solicitations; `--asked-max N` asks GPs
about N requests at most (the default, every request being oriented, gives 30 acceptances per GP
at 100,000). The second pass on the home, the GP's households and the call-backs, measured with
`bench_queue_paired.py` (both sizes alternately, same load): docs/decisions/0029, last section.
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

import bench_allocation_db as shared  # noqa: E402  (bench/ is on the path)
import bench_gp_households as households  # noqa: E402

shared.PG_DATABASE = "accesmt_bench_queue"
shared.SQLITE_FILE = ROOT / "var" / "bench_queue.sqlite3"

N_GPS = 200
STATES = (  # (status, share)
    ("new", 0.05),
    ("to_verify", 0.05),
    ("waiting", 0.52),
    ("proposing", 0.06),
    ("awaiting_choice", 0.02),
    ("closed", 0.30),
)
RULE_CODES = ("senior", "young_child", "ald", "coverage", "urgent", "home_visits")
SEARCHED_NAME = "NOMABQ"  # surname no. 42


def surname(i: int) -> str:
    """997 surnames without digits: NOMAAA, NOMAAB…"""
    i %= 997
    return "NOM" + "".join(chr(65 + (i // 26**k) % 26) for k in (2, 1, 0))


def the_coordinator(cpts_id: int):
    from accesmt.accounts.models import Membership, User

    user = User.objects.create_user(
        email="coordination@banc.example.org", password=None, first_name="Coord", last_name="Banc"
    )
    Membership.objects.create(user=user, cpts_id=cpts_id, role="coordinator")
    referrers = []
    for i in range(5):
        referrer = User.objects.create_user(
            email=f"orienteur{i}@banc.example.org",
            password=None,
            first_name="Pro",
            last_name=f"Orienteur{i}",
        )
        Membership.objects.create(
            user=referrer, cpts_id=cpts_id, role="referrer", profession="pharmacien"
        )
        referrers.append(referrer.pk)
    return user, referrers


def survey_link(cpts_id: int) -> str:
    from accesmt.directory.models import SurveyCampaign, SurveyInvitation
    from accesmt.directory.survey import invitation_token

    campaign = SurveyCampaign.objects.create(cpts_id=cpts_id, title="Enquête banc")
    invitation = SurveyInvitation.objects.create(
        campaign=campaign, practitioner_id=1, email="dr.banc@exemple.fr"
    )
    return invitation_token(invitation)


def clear_queue() -> None:
    from django.db import connection

    from accesmt.intake.models import ContactNote, DuplicateFlag, HouseholdMember, Request
    from accesmt.orientation.models import Solicitation

    reasons = Request.priority_reasons.rel.related_model
    with connection.cursor() as cursor:
        for model in (Solicitation, ContactNote, DuplicateFlag, HouseholdMember, reasons, Request):
            cursor.execute(f"DELETE FROM {model._meta.db_table}")


def request_columns(rng, n: int, cpts_id: int, referrers: list[int], now) -> dict:
    """States, channels, referrers and phones of the n requests, as columns for
    bench_allocation_db.insert (set at insertion: SQLite's trigger refuses a status changed by
    hand)."""
    statuses = rng.choice([s for s, _ in STATES], n, p=[p for _, p in STATES])
    channel = rng.choice(["online", "referral", "phone"], n, p=[0.5, 0.35, 0.15])
    referrer = rng.choice(referrers, n)
    closed = statuses == "closed"
    return {
        "cpts_id": np.full(n, cpts_id, dtype=np.int64),
        "status": statuses,
        "closed_reason": np.where(closed, "mt_found", "").tolist(),
        "closed_at": [shared.datetimes([now])[0] if c else None for c in closed.tolist()],
        "channel": channel,
        "referrer_id": [
            int(r) if c == "referral" else None for r, c in zip(referrer, channel, strict=True)
        ],
        "referrer_attested_consent": channel == "referral",
        "phone": [f"+336{i:08d}" for i in range(1, n + 1)],
    }


def generate_requests(rng, n: int, communes, cpts_id: int, referrers: list[int], now) -> None:
    """bench_allocation_db's households, with request_columns on the requests."""
    from accesmt.intake.models import Request

    extra = request_columns(rng, n, cpts_id, referrers, now)
    plain = shared.insert

    def insert(model, count, columns):
        plain(model, count, {**columns, **extra} if model is Request else columns)

    shared.insert = insert
    try:
        shared.generate_households(rng, n, communes, now)
    finally:
        shared.insert = plain


def dress_queue(rng, n: int, cpts_id: int, now, asked_max: int | None = None) -> None:
    """Names, priority reasons, solicitations, duplicates and calls on the n requests; GPs asked
    about `asked_max` of the requests being oriented at most (None: all of them)."""
    from django.db import connection

    from accesmt.intake.models import ContactNote, DuplicateFlag, HouseholdMember, Request
    from accesmt.orientation.models import Solicitation

    reasons = Request.priority_reasons.rel.related_model
    ids = np.arange(1, n + 1)
    statuses = np.array(Request.objects.order_by("pk").values_list("status", flat=True))
    members = HouseholdMember._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {members} SET is_contact_person = (id IN (SELECT MIN(m.id) FROM {members} m "
            f"GROUP BY m.request_id))"
        )
    # names: 997 surnames, so that a name search finds about n / 997 households
    member_rows = list(HouseholdMember.objects.values_list("id", "request_id"))
    names = [
        (f"NOM{rid % 997:03d}X", f"nom{rid % 997:03d}xcamille", mid) for mid, rid in member_rows
    ]
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {HouseholdMember._meta.db_table} SET last_name = %s, normalised_name = %s "
            "WHERE id = %s",
            names,
        )
    priority = dict(Request.objects.values_list("id", "is_priority"))
    prio_ids = [i for i, p in priority.items() if p]
    shared.insert(
        reasons,
        len(prio_ids),
        {
            "request_id": prio_ids,
            "rule_code": rng.choice(RULE_CODES, len(prio_ids)).tolist(),
            "label": "Critère (banc)",
        },
    )
    # solicitations: three GPs per request being oriented
    oriented = ids[(statuses == "proposing") | (statuses == "awaiting_choice")][:asked_max]
    sol_request = np.repeat(oriented, 3)
    k = len(sol_request)
    # GPs 2…N_GPS: GP no. 1 (the households page's) keeps its places, or at 100,000 requests
    # its acceptances would fill them and its list would be measured empty
    gps = (
        np.concatenate([rng.choice(N_GPS - 1, 3, replace=False) + 2 for _ in oriented]) if k else []
    )
    sol_status = rng.choice(["pending", "accepted", "declined"], k, p=[0.6, 0.25, 0.15])
    stamp = shared.datetimes([now])
    shared.insert(
        Solicitation,
        k,
        {
            "cpts_id": cpts_id,
            "request_id": sol_request,
            "practitioner_id": np.asarray(gps, dtype=np.int64),
            "origin": "coordinator",
            "status": sol_status,
            "asked_at": stamp * k,
            "answer_due_at": shared.datetimes([now + dt.timedelta(days=7)]) * k,
            "answered_at": [None if s == "pending" else stamp[0] for s in sol_status.tolist()],
            "decline_reason": ["full" if s == "declined" else "" for s in sol_status.tolist()],
        },
    )
    # duplicates: 2 % of the requests flagged against another one
    dup = rng.choice(ids, max(2, n // 50), replace=False)
    pairs = {(int(a), int(b)) for a, b in zip(dup[::2], dup[1::2], strict=False) if a != b}
    shared.insert(
        DuplicateFlag,
        len(pairs),
        {
            "request_id": [a for a, _ in pairs],
            "other_request_id": [b for _, b in pairs],
            "reason": "same_person",
            "same_cpts": True,
            "created_at": stamp * len(pairs),
        },
    )
    # calls: 3 % of the requests, half with a call-back in the next ten days
    called = rng.choice(ids, max(1, n // 33), replace=False)
    m = len(called)
    today = now.date()
    call_back = rng.random(m) < 0.5
    shared.insert(
        ContactNote,
        m,
        {
            "cpts_id": cpts_id,
            "request_id": called,
            "kind": "call",
            "outcome": "no_answer",
            "call_back_on": [
                today + dt.timedelta(days=int(d)) if c else None
                for d, c in zip(rng.integers(-3, 10, m).tolist(), call_back.tolist(), strict=True)
            ],
            "call_back_done": False,
            "at": stamp * m,
        },
    )


def measure(client, url: str, runs: int) -> tuple[float, int]:
    """(median wall seconds of `runs` GETs after a warm-up, queries of one GET)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        times.append(time.perf_counter() - t0)
        assert response.status_code == 200, (url, response.status_code)
    return statistics.median(times), len(queries)


def pages(cpts_slug: str, reference: str, token: str) -> list[tuple[str, str, str]]:
    """(label, who, url) of every page measured; a "search:…" url is a search posted first."""
    from django.urls import reverse

    queue = reverse("intake_staff:queue", kwargs={"cpts_slug": cpts_slug})
    on_request = {"cpts_slug": cpts_slug, "reference": reference}
    out = [
        ("file, 1re page", "coord", queue),
        ("file, filtrée (état+critère)", "coord", f"{queue}?status=waiting&rule=senior"),
    ]
    for column in ("reference", "priority", "waiting", "commune", "status"):
        out.append((f"file, tri {column}", "coord", f"{queue}?tri={column}"))
    out.append(("file, tri -waiting", "coord", f"{queue}?tri=-waiting"))
    out += [
        ("recherche nom", "coord", f"search:{SEARCHED_NAME}"),
        ("recherche référence", "coord", f"search:{reference}"),
        ("recherche téléphone", "coord", "search:06 00 00 00 42"),
        ("file, page 50", "coord", f"{queue}?page=50"),
        ("demande", "coord", reverse("intake_staff:request_detail", kwargs=on_request)),
        ("orientation", "coord", reverse("orientation:request", kwargs=on_request)),
        ("accueil CPTS", "coord", reverse("reporting:cpts_home", kwargs={"cpts_slug": cpts_slug})),
        (
            "à rappeler",
            "coord",
            reverse("intake_staff:call_backs", kwargs={"cpts_slug": cpts_slug}),
        ),
        (
            "foyers à prendre (MG)",
            "gp",
            reverse("orientation:gp_households", kwargs={"cpts_slug": cpts_slug}),
        ),
        (
            "foyers (lien d'enquête)",
            "anon",
            reverse("orientation:gp_households_link", kwargs={"token": token}),
        ),
    ]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 100_000])
    parser.add_argument("--departement", default="62")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--pg-url")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument(
        "--asked-max",
        type=int,
        help="GPs asked about this many requests at most (default: every request being "
        "oriented, 8 %% of the queue: at 100,000 about 30 acceptances per GP, beyond the 1-12 "
        "places a month they declare, which matching does not propose)",
    )
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
            communes = households.one_cpts(args.departement)
            shared.generate_gps(rng, N_GPS, communes, now)
        cpts_id = int(communes[3][0])
        gp_user = households.the_gp(cpts_id)
        coordinator, referrers = the_coordinator(cpts_id)
        token = survey_link(cpts_id)
        clients = {"coord": Client(HTTP_HOST="localhost"), "gp": Client(HTTP_HOST="localhost")}
        clients["anon"] = Client(HTTP_HOST="localhost")
        clients["coord"].force_login(coordinator)
        clients["gp"].force_login(gp_user)
        queue_url = reverse("intake_staff:queue", kwargs={"cpts_slug": "cpts-banc"})
        results: dict[str, dict[int, tuple[float, int]]] = {}
        for size in args.sizes:
            with shared.fast_sqlite_writes(), transaction.atomic():
                clear_queue()
                generate_requests(rng, size, communes, cpts_id, referrers, now)
                dress_queue(rng, size, cpts_id, now, args.asked_max)
                shared.reset_sequences()
            shared.analyze()
            from accesmt.intake.models import Request

            reference = (
                Request.objects.filter(status="waiting")
                .order_by("pk")
                .values_list("reference", flat=True)[size // 4 // 2]
            )
            print(f"--- {size:,} requests in the CPTS", flush=True)
            for label, who, url in pages("cpts-banc", reference, token):
                client = clients[who]
                if url.startswith("search:"):
                    response = client.post(queue_url, {"q": url[7:]})
                    assert response.status_code == 302, response.status_code
                    url = f"{queue_url}?recherche=1"
                seconds, queries = measure(client, url, args.runs)
                results.setdefault(label, {})[size] = (seconds, queries)
                print(f"{label:<30} {seconds * 1000:8.1f} ms {queries:4d} queries", flush=True)
        if len(args.sizes) > 1:
            small, large = min(args.sizes), max(args.sizes)
            print(f"--- ratio {large:,} / {small:,}")
            worst = 0.0
            for label, by_size in results.items():
                ratio = by_size[large][0] / by_size[small][0]
                worst = max(worst, ratio)
                print(
                    f"{label:<30} {by_size[small][0] * 1000:8.1f} ms → "
                    f"{by_size[large][0] * 1000:8.1f} ms  ×{ratio:5.2f}  "
                    f"queries {by_size[small][1]} → {by_size[large][1]}"
                )
            print(f"worst ratio ×{worst:.2f} (target < 1.5)")
    finally:
        if not args.keep:
            shared.drop_database(args)


if __name__ == "__main__":
    main()
