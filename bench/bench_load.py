"""The web under load (issue 15 point 4): gunicorn with the production settings on the country's
database (bench/region_data.py: 1,000,000 requests over 100 CPTS, 100,000 GPs), locust headless
against it, then the checks. Prints figures; asserts nothing.

1. builds the database if needed (`--skip-generate` to use it as it is);
2. starts the production stack through bench/stack.py on that database (DATABASE_URL given:
   the server is used as it is, never restarted): migrations of the current code, static files
   (when they changed), the periodic jobs that are due run once (on a new database they take
   minutes), then the SMTP sink, the outbox worker (run_worker) and gunicorn (`--workers`,
   default 2 × cores + 1) with config.settings.prod — the stack's environment: SECRET_KEY drawn
   at random, ALLOWED_HOSTS=127.0.0.1, SECURE_SSL_REDIRECT=False, PROXY_COUNT=1 since the load
   comes from one address and X-Forwarded-For carries each person's, GEOCODER_URL on a closed
   local port so that the form falls back to the commune centre at once instead of calling the
   national address API from a bench; logs in var/bench/<gunicorn|worker|smtp>.log;
3. runs `locust -f bench/locustfile.py --headless -u USERS -r RATE -t DURATION` and prints, per
   route: requests/s, p50, p95, p99, errors, against the targets (p99 < 150 ms for a page,
   < 300 ms for a registration, ≥ 200 requests/s in total, no error);
4. checks in the database that every registration acknowledged to locust is stored exactly once
   (by its unique name): lost, duplicated, stored without acknowledgment;
5. times each coordinator page over HTTP, with the server otherwise idle, for the CPTS of 1,000
   requests and the CPTS of 100,000 (median of `--calls`), and prints the ratio (target < 1.5).

Cookies are Secure (`__Host-`) in production and locust speaks plain http on loopback: the
clients' cookie jar (LoopbackCookieJar) keeps them as if they were not Secure, so that they are
sent back; the server is not changed (no setting relaxed for the bench).

    .venv/bin/python bench/bench_load.py                         # build if needed, 60 s of load
    .venv/bin/python bench/bench_load.py --skip-generate --users 80 --duration 60
    .venv/bin/python bench/bench_load.py --explain               # the SQL of each page, EXPLAIN
                                                                 # ANALYZE of the slowest ones

`--explain` runs the coordinator pages in process (Django test client, big CPTS), records their
SQL and prints the slowest statements with EXPLAIN ANALYZE (no gunicorn, no locust).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import re
import secrets
import statistics
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from stack import Stack  # noqa: E402

VENV_BIN = Path(sys.executable).parent
OUT = ROOT / "var" / "bench"
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/accesmt_bench_region"
PAGE_P99_MS, REGISTRATION_P99_MS, TOTAL_RPS, RATIO = 150, 300, 200, 1.5
REGISTRATION = "/<cpts>/inscription/ POST"
REFERENCE_LINK = re.compile(r'href="/espace/[^/"]+/demandes/(MT-[0-9A-Z]{4}-[0-9A-Z]{4})/"')
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class LoopbackCookieJar(requests.cookies.RequestsCookieJar):
    """Keeps the production cookies (Secure, `__Host-`) as if they were not Secure, so that a
    client speaking plain http on loopback sends them back (client side only: the server keeps
    its settings; the locustfile uses it too). A cookie policy would not do: requests copies
    the jar into a default one for each request."""

    def set_cookie(self, cookie, *args, **kwargs):
        cookie.secure = False
        return super().set_cookie(cookie, *args, **kwargs)


def region_file(url: str) -> Path:
    """Written by region_data.py for that database (same rule)."""
    return OUT / f"region-{url.rsplit('/', 1)[-1]}.json"


def warm_up(base: str, workers: int, region: dict) -> None:
    """Each gunicorn worker loads Django at its first request (20 s on a busy machine): a few
    rounds of concurrent requests before the measure, so that locust does not time the start."""
    from concurrent.futures import ThreadPoolExecutor

    slug = region["cpts"][0]["slug"]
    urls = [f"{base}/{slug}/inscription/", f"{base}/compte/connexion/"] * (2 * workers)
    t0 = time.perf_counter()
    with ThreadPoolExecutor(2 * workers) as pool:
        for _round in range(3):
            statuses = list(pool.map(lambda u: requests.get(u, timeout=180).status_code, urls))
    print(f"warm-up: {len(urls) * 3} requests in {time.perf_counter() - t0:.1f} s {set(statuses)}")


# --- locust's figures -------------------------------------------------------------------------


def read_stats(prefix: Path) -> list[dict]:
    with open(f"{prefix}_stats.csv", newline="") as f:
        return list(csv.DictReader(f))


def target_of(name: str) -> float | None:
    if name == "Aggregated":
        return None
    return REGISTRATION_P99_MS if name == REGISTRATION else PAGE_P99_MS


def print_stats(rows: list[dict]) -> list[str]:
    """The table; returns what misses its target."""
    misses = []
    print(
        f"\n{'route':<46} {'req':>6} {'req/s':>7} {'p50':>6} {'p95':>6} {'p99':>6} "
        f"{'err':>5}  target p99"
    )
    for row in rows:
        name = row["Name"]
        count, failures = int(row["Request Count"]), int(row["Failure Count"])
        p50, p95, p99 = (
            float(row[k]) if row[k] not in ("", "N/A") else float("nan")
            for k in ("50%", "95%", "99%")
        )
        target = target_of(name)
        verdict = ""
        if target is not None:
            ok = p99 < target and failures == 0
            verdict = f"< {target} ms {'ok' if ok else 'MISSED'}"
            if not ok:
                misses.append(f"{name}: p99 {p99:.0f} ms, {failures} errors")
        label = "TOTAL" if name == "Aggregated" else name
        print(
            f"{label:<46} {count:>6} {float(row['Requests/s']):>7.1f} {p50:>6.0f} {p95:>6.0f} "
            f"{p99:>6.0f} {failures:>5}  {verdict}"
        )
    total = next(r for r in rows if r["Name"] == "Aggregated")
    rps = float(total["Requests/s"])
    print(
        f"total: {rps:.1f} requests/s (target ≥ {TOTAL_RPS}: "
        f"{'ok' if rps >= TOTAL_RPS else 'MISSED'}), "
        f"{int(total['Failure Count'])} errors of {int(total['Request Count'])}"
    )
    if rps < TOTAL_RPS:
        misses.append(f"total {rps:.0f} requests/s")
    return misses


# --- registrations stored once ----------------------------------------------------------------


def check_registrations(url: str, run: str, ack_file: Path) -> tuple[int, int, int, int]:
    import psycopg

    names = [n for n in ack_file.read_text().split() if n] if ack_file.exists() else []
    with psycopg.connect(url) as conn:
        stored = dict(
            conn.execute(
                "SELECT last_name, count(DISTINCT request_id) FROM intake_householdmember "
                "WHERE last_name LIKE %s GROUP BY last_name",
                [f"Charge{run}%"],
            ).fetchall()
        )
    lost = sum(1 for n in names if stored.get(n, 0) == 0)
    duplicated = sum(1 for n in names if stored.get(n, 0) > 1)
    unacknowledged = len(set(stored) - set(names))
    return len(names), lost, duplicated, unacknowledged


# --- the ratio: page time at 1,000 and at 100,000 requests -------------------------------------


class Coordinator:
    """A coordinator's session over HTTP (requests, Secure cookies sent over http)."""

    def __init__(self, base: str, account: dict, password: str):
        self.base, self.account, self.password = base, account, password
        self.session = requests.Session()
        self.session.cookies = LoopbackCookieJar()
        self.session.headers["X-Forwarded-For"] = "10.255.0.1"

    def login(self) -> None:
        from django_otp.oath import totp

        page = self.session.get(f"{self.base}/compte/connexion/")
        response = self.session.post(
            f"{self.base}/compte/connexion/",
            data={
                "csrfmiddlewaretoken": CSRF.search(page.text)[1],
                "username": self.account["email"],
                "password": self.password,
            },
            allow_redirects=False,
        )
        if response.status_code != 302:
            raise RuntimeError(f"login {self.account['slug']}: {response.status_code}")
        page = self.session.get(f"{self.base}/compte/verification/")
        for _ in range(2):
            code = totp(bytes.fromhex(self.account["totp_key"]))
            response = self.session.post(
                f"{self.base}/compte/verification/",
                data={"csrfmiddlewaretoken": CSRF.search(page.text)[1], "code": f"{code:06d}"},
                allow_redirects=False,
            )
            if response.status_code == 302:
                return
            time.sleep(31 - time.time() % 30)  # this step's code was used by locust: the next
        raise RuntimeError(f"second factor {self.account['slug']}: {response.status_code}")

    def pages(self) -> dict:
        """name → a function that loads the page once and returns its status."""
        queue = f"{self.base}/espace/{self.account['slug']}/demandes/"
        first = self.session.get(queue)
        reference = REFERENCE_LINK.findall(first.text)[0]
        token = CSRF.search(first.text)[1]

        def search():
            self.session.post(
                queue,
                data={"csrfmiddlewaretoken": token, "q": "Martin", "status": "open"},
                allow_redirects=False,
            )
            return self.session.get(queue + "?status=open&recherche=1").status_code

        return {
            "queue, first page": lambda: self.session.get(queue).status_code,
            "queue, filtered": lambda: (
                self.session.get(queue + "?status=waiting&rule=senior").status_code
            ),
            "queue, page 3": lambda: self.session.get(queue + "?page=3").status_code,
            "queue, search by name (POST + page)": search,
            "request page": lambda: self.session.get(f"{queue}{reference}/").status_code,
            "orientation page": lambda: (
                self.session.get(f"{queue}{reference}/orientation/").status_code
            ),
        }


def time_pages(coordinator: Coordinator, calls: int) -> dict[str, float]:
    out = {}
    for name, load in coordinator.pages().items():
        load()  # warm-up
        times = []
        for _ in range(calls):
            t0 = time.perf_counter()
            status = load()
            times.append((time.perf_counter() - t0) * 1000)
            if status != 200:
                raise RuntimeError(f"{name}: {status}")
        out[name] = statistics.median(times)
    return out


def ratio(base: str, region: dict, calls: int) -> list[str]:
    by_slug = {c["slug"]: c for c in region["cpts"]}
    timings = {}
    for key in ("small", "big"):
        account = by_slug[region[key]]
        coordinator = Coordinator(base, account, region["password"])
        coordinator.login()
        timings[key] = time_pages(coordinator, calls)
    small, big = by_slug[region["small"]]["requests"], by_slug[region["big"]]["requests"]
    print(
        f"\npage time against the size of the queue (HTTP, server otherwise idle, median of "
        f"{calls}):\n{'page':<40} {f'{small:,} req.':>12} {f'{big:,} req.':>12} {'ratio':>6}"
    )
    misses = []
    for name, small_ms in timings["small"].items():
        big_ms = timings["big"][name]
        r = big_ms / small_ms
        print(
            f"{name:<40} {small_ms:>9.1f} ms {big_ms:>9.1f} ms {r:>6.2f}  "
            f"{'ok' if r < RATIO else 'MISSED'} (< {RATIO})"
        )
        if r >= RATIO:
            misses.append(f"ratio {name}: {r:.2f}")
    return misses


# --- --explain: the SQL of each page ----------------------------------------------------------


def in_process(args) -> None:
    """Django in this process on the region database (dev settings, DEBUG off)."""
    os.environ["DATABASE_URL"] = args.url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
    os.environ["DEBUG"] = "0"
    import django

    django.setup()


def explain(args) -> None:
    in_process(args)
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accesmt.accounts.models import User

    region = json.loads(region_file(args.url).read_text())
    by_slug = {c["slug"]: c for c in region["cpts"]}
    slug = region["big"]
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(User.objects.get(email=by_slug[slug]["email"]))
    queue = f"/espace/{slug}/demandes/"
    first = client.get(queue).content.decode()
    reference = REFERENCE_LINK.findall(first)[0]

    def search():
        client.post(queue, {"q": "Martin", "status": "open"})
        return client.get(queue + "?status=open&recherche=1")

    pages = {
        "queue, first page": lambda: client.get(queue),
        "queue, filtered": lambda: client.get(queue + "?status=waiting&rule=senior"),
        "queue, search by name": search,
        "request page": lambda: client.get(f"{queue}{reference}/"),
        "orientation page": lambda: client.get(f"{queue}{reference}/orientation/"),
    }
    for name, load in pages.items():
        load()
        with CaptureQueriesContext(connection) as queries:
            t0 = time.perf_counter()
            response = load()
            wall = (time.perf_counter() - t0) * 1000
        timed = []
        with connection.cursor() as cursor:
            for q in queries.captured_queries:
                sql = q["sql"]
                if not sql.lstrip().upper().startswith("SELECT"):
                    continue
                t0 = time.perf_counter()
                cursor.execute(sql)
                cursor.fetchall()
                timed.append(((time.perf_counter() - t0) * 1000, sql))
        timed.sort(reverse=True)
        print(
            f"\n=== {name} ({slug}, {by_slug[slug]['requests']:,} requests): "
            f"{response.status_code}, {wall:.0f} ms, {len(queries.captured_queries)} queries; "
            f"slowest SELECTs: " + ", ".join(f"{ms:.1f} ms" for ms, _ in timed[:5])
        )
        for ms, sql in timed[: args.explain_top]:
            if ms < args.explain_min_ms:
                break
            print(f"\n--- {ms:.1f} ms: {sql[:600]}{'…' if len(sql) > 600 else ''}")
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
                print("\n".join(row[0] for row in cursor.fetchall()))


def cpu_seconds(web_pid: int) -> dict[str, float]:
    """CPU time (user + system) used so far by the web processes (gunicorn and its workers), by
    PostgreSQL's processes (every one on this machine: its server is shared) and by the rest of
    the stack's children (workers, SMTP sink). Processes that ended in between are not counted,
    hence the persistent connections (CONN_MAX_AGE) and gunicorn's long-lived workers."""
    import psutil

    def total(processes) -> float:
        seconds = 0.0
        for process in processes:
            with contextlib.suppress(psutil.Error):
                times = process.cpu_times()
                seconds += times.user + times.system
        return seconds

    web = psutil.Process(web_pid)
    postgres = [p for p in psutil.process_iter(["name"]) if p.info["name"] == "postgres"]
    return {"web": total([web, *web.children(recursive=True)]), "postgres": total(postgres)}


def print_cost(before: dict[str, float], after: dict[str, float], served: int) -> None:
    """What a request of the mix costs the server in CPU, and the throughput that two cores
    given to the server alone (no locust on them) would sustain at that cost."""
    if not served:
        return
    web, db = (1000 * (after[k] - before[k]) / served for k in ("web", "postgres"))
    cores = os.cpu_count() or 1
    print(
        f"server CPU per request of the mix: web {web:.1f} ms + PostgreSQL {db:.1f} ms = "
        f"{web + db:.1f} ms; {cores} cores given to the server alone would serve at most "
        f"≈ {1000 * cores / (web + db):.0f} requests/s of this mix"
    )


def measure(args, base: str, region: dict, web_pid: int) -> None:
    """Warm-up, locust, the per-route table, the stored-once check, the ratio."""
    warm_up(base, args.workers, region)
    print(
        f"gunicorn: {args.workers} workers on {base} (config.settings.prod), database "
        f"{args.url.rsplit('/', 1)[-1]}: {sum(c['requests'] for c in region['cpts']):,} "
        f"requests, {len(region['cpts'])} CPTS"
    )
    run = secrets.token_hex(3).translate(str.maketrans("0123456789", "ghijklmnop"))
    ack_file = OUT / "load_acknowledged.txt"
    ack_file.unlink(missing_ok=True)
    prefix = OUT / "load"
    locust_env = {
        **os.environ,
        "LOAD_RUN": run,
        "LOAD_ACK_FILE": str(ack_file),
        "LOAD_REGION_FILE": str(region_file(args.url)),
    }
    argv = [
        str(VENV_BIN / "locust"),
        "-f",
        "bench/locustfile.py",
        "--headless",
        "-u",
        str(args.users),
        "-r",
        str(args.spawn_rate),
        "-t",
        args.duration,
        "--host",
        base,
        "--csv",
        str(prefix),
        "--only-summary",
        "--stop-timeout",
        "10",
    ]
    print(f"locust: {' '.join(argv[1:])}", flush=True)
    print(f"load average before: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    cpu_before = cpu_seconds(web_pid)
    with open(OUT / "load-locust.log", "w") as log:
        subprocess.run(argv, cwd=ROOT, env=locust_env, stdout=log, stderr=subprocess.STDOUT)
    cpu_after = cpu_seconds(web_pid)
    print(f"load average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())} (2 cores)")
    rows = read_stats(prefix)
    misses = print_stats(rows)
    print_cost(
        cpu_before,
        cpu_after,
        sum(int(r["Request Count"]) for r in rows if r["Name"] != "Aggregated"),
    )
    acknowledged, lost, duplicated, unacknowledged = check_registrations(args.url, run, ack_file)
    print(
        f"registrations acknowledged: {acknowledged:,}; lost {lost}, stored twice or more "
        f"{duplicated}; stored without acknowledgment {unacknowledged}"
    )
    if lost or duplicated:
        misses.append(f"registrations: {lost} lost, {duplicated} duplicated")
    if not args.skip_ratio:
        misses += ratio(base, region, args.calls)
    print("\nmissed: " + ("; ".join(misses) if misses else "nothing"))


# --- --form: the public form in process -------------------------------------------------------


def form_pages(args) -> None:
    """The public form of the big and the small CPTS (Django test client, `--form-calls` each):
    median and p95 time, size, number of its CPTS's GPs and communes; then the same page with
    the list of the GPs, as shown after "Choisir dans la liste des médecins" (a POST)."""
    in_process(args)
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accesmt.intake.usual_gp import usual_gp_choices
    from accesmt.territory.models import CPTS

    region = json.loads(region_file(args.url).read_text())
    client = Client(HTTP_HOST="127.0.0.1")
    list_data = {"usual_gp_list": "1", "membres-TOTAL_FORMS": "1", "membres-INITIAL_FORMS": "0"}
    print(
        f"{'public form':<34} {'CPTS':<14} {'GPs':>5} {'communes':>8} {'median':>8} {'p95':>8} "
        f"{'size':>7} {'queries':>7}"
    )
    for key in ("small", "big"):
        cpts = CPTS.objects.get(slug=region[key])
        url = f"/{cpts.slug}/inscription/"
        for label, load in (
            ("GET", lambda url=url: client.get(url)),
            ("with the GPs' list (POST)", lambda url=url: client.post(url, list_data)),
        ):
            load()
            with CaptureQueriesContext(connection) as queries:
                response = load()
            n_queries = len(queries)  # (read now: the next requests empty the log)
            times = []
            for _ in range(args.form_calls):
                t0 = time.perf_counter()
                load()
                times.append((time.perf_counter() - t0) * 1000)
            times.sort()
            print(
                f"{label:<34} {cpts.slug:<14} {len(usual_gp_choices(cpts)):>5} "
                f"{cpts.communes.count():>8} {statistics.median(times):>5.1f} ms "
                f"{times[int(0.95 * len(times))]:>5.1f} ms {len(response.content) / 1000:>4.0f} kB "
                f"{n_queries:>7}"
            )


# --- main -------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=DEFAULT_URL, help=f"database (default {DEFAULT_URL})")
    parser.add_argument("--users", type=int, default=150, help="locust users (default 150)")
    parser.add_argument("--spawn-rate", type=float, default=25)
    parser.add_argument("--duration", default="60s", help="locust's -t (default 60s)")
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1)
    parser.add_argument("--calls", type=int, default=5, help="calls per page for the ratio")
    parser.add_argument("--skip-generate", action="store_true", help="use the database as is")
    parser.add_argument("--skip-ratio", action="store_true")
    parser.add_argument("--explain", action="store_true", help="only the SQL of each page")
    parser.add_argument("--explain-top", type=int, default=2)
    parser.add_argument("--explain-min-ms", type=float, default=5.0)
    parser.add_argument("--form", action="store_true", help="only the public form, in process")
    parser.add_argument("--form-calls", type=int, default=200)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    if args.explain:
        explain(args)
        return
    if args.form:
        form_pages(args)
        return

    if not args.skip_generate or not region_file(args.url).exists():
        subprocess.run(
            [sys.executable, "bench/region_data.py", "--url", args.url], cwd=ROOT, check=True
        )
    region = json.loads(region_file(args.url).read_text())
    # The stack on the external database: its URL only (the server is never restarted).
    with Stack(web_workers=args.workers, database_url=args.url, log_dir=OUT) as stack:
        stack.start_postgres()
        t0 = time.perf_counter()
        stack.migrate()  # the current code's migrations; static files when they changed
        print(f"migrations and static files: {time.perf_counter() - t0:.1f} s")
        # The periodic jobs due (anonymisation of old closed requests, indicator snapshots…)
        # run once before the measure: on a new database they take minutes and would overlap.
        # run_worker queues them (and delivers the outbox), a task worker runs the queue dry.
        t0 = time.perf_counter()
        stack.manage("run_worker", "--once")
        stack.manage("db_worker", "--batch", "--no-startup-delay", "--verbosity", "0")
        print(f"periodic jobs due run once before the measure: {time.perf_counter() - t0:.1f} s")
        stack.start_smtp()
        stack.start_worker()
        stack.start_task_worker()
        stack.start_web()
        measure(args, stack.base_url, region, stack.processes["gunicorn"].pid)


if __name__ == "__main__":
    main()
