"""Registrations under faults (issue 14, point 6): the public form over real HTTP against
gunicorn + PostgreSQL on loopback, while the SMTP server goes down and back and PostgreSQL is
restarted. Prints figures; exits 1 if an acknowledged submission is lost, a household is stored
twice, an acknowledgment e-mail is never delivered, or the outbox worker died.

1. a throw-away stack (bench/stack.py): its own PostgreSQL cluster (or DATABASE_URL), migrate,
   load_communes, one CPTS over four communes around Liévin; gunicorn (production settings) with
   --web-workers workers, the outbox worker, the SMTP sink;
2. --count registrations, --concurrency at a time, each as a browser does it: GET the form
   (CSRF cookie and token, submission key), POST it, follow the acknowledgment redirect. Each
   has a unique e-mail (its marker). --double share of them are double submits: the same POST
   twice at the same instant (same cookie, token and key). A POST answered with an error (5xx,
   connection cut) is sent again up to twice, one second later, as a person would;
3. at 35 % of the run the SMTP sink stops for --smtp-outage seconds, then comes back; at 60 %
   PostgreSQL is restarted (`pg_ctl restart -m fast`);
4. then the worker drains the outbox, and the database and the sink's .eml files are checked:
   every acknowledged submission stored exactly once, no household stored twice, every stored
   request's acknowledgment e-mail received.

    .venv/bin/python bench/bench_registration_faults.py                 # 5,000 (≈ 5 to 10 min)
    .venv/bin/python bench/bench_registration_faults.py --count 300     # ≈ 1 min after set-up
    DATABASE_URL=postgres://… … --no-restart                            # an existing server

Retry delays of the outbox are shortened for the run (NOTIFICATIONS_BACKOFF_BASE_SECONDS=5,
max 60) so that the drain after the SMTP outage takes seconds, not the production minutes.
Logs of every process: var/bench/*.log; e-mails received: var/bench/mails/.
"""

from __future__ import annotations

import argparse
import collections
import random
import re
import shutil
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from email import message_from_binary_file, policy
from email.utils import getaddresses
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from stack import COMMUNES, ROOT, Stack  # noqa: E402

CPTS_SLUG = "bench-faults"

SETUP = """
from accesmt.territory.models import CPTS, Commune, TerritoryCommune
cpts, _ = CPTS.objects.get_or_create(slug={slug!r}, defaults={{"name": "CPTS banc d'essai"}})
for name in {names!r}:
    commune = Commune.objects.get(departement="62", name=name)
    TerritoryCommune.objects.get_or_create(commune=commune, defaults={{"cpts": cpts}})
print(cpts.pk)
"""

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
KEY = re.compile(r'name="submission_key" value="([^"]+)"')


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def letters(number: int) -> str:
    """A name made of letters only, unique per number (names are validated as names)."""
    out = ""
    number += 26 * 26
    while number:
        number, rest = divmod(number, 26)
        out = "abcdefghijklmnopqrstuvwxyz"[rest] + out
    return out.capitalize()


@dataclass
class Submission:
    index: int
    email: str
    double: bool
    acknowledged: bool = False
    outcomes: list[str] = field(default_factory=list)  # one per POST sent
    ack_page_ok: bool | None = None


class Client:
    """One browser per thread: cookies are handled by hand (the production cookies are
    `__Host-` and Secure, which a cookie jar would not send over plain http)."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.local = threading.local()
        self.host = base_url.split("//", 1)[1]

    def http(self) -> httpx.Client:
        if not hasattr(self.local, "client"):
            self.local.client = httpx.Client(base_url=self.base_url, timeout=60.0)
        return self.local.client

    def headers(self, ip: str, cookies: dict[str, str]) -> dict[str, str]:
        return {
            "X-Forwarded-Proto": "https",
            "X-Forwarded-For": ip,
            "Origin": f"https://{self.host}",
            "Referer": f"https://{self.host}/{CPTS_SLUG}/inscription/",
            "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()),
        }


def cookies_of(response: httpx.Response) -> dict[str, str]:
    found = {}
    for header in response.headers.get_list("set-cookie"):
        name, _, rest = header.partition("=")
        found[name.strip()] = rest.split(";", 1)[0]
    return found


class Run:
    def __init__(self, args, stack: Stack):
        self.args = args
        self.stack = stack
        self.client = Client(stack.base_url)
        self.run_id = uuid.uuid4().hex[:6]
        self.lock = threading.Lock()
        self.done = 0
        self.post_latencies: list[float] = []
        self.errors: collections.Counter[str] = collections.Counter()
        self.form_errors = 0
        self.twins = ThreadPoolExecutor(max_workers=args.concurrency, thread_name_prefix="twin")
        self.rng = random.Random(args.seed)
        self.events: list[tuple[float, str]] = []
        self.aborted = threading.Event()  # Ctrl-C: the client threads give up at once

    def form(self, ip: str) -> tuple[dict[str, str], str, str]:
        """GET the form (retried: a page that did not load is not a submission)."""
        for attempt in range(10):
            if self.aborted.is_set():
                raise RuntimeError("aborted")
            try:
                response = self.client.http().get(
                    f"/{CPTS_SLUG}/inscription/", headers=self.client.headers(ip, {})
                )
                if response.status_code == 200:
                    token = TOKEN.search(response.text).group(1)
                    key = KEY.search(response.text).group(1)
                    return cookies_of(response), token, key
                kind = f"GET {response.status_code}"
            except httpx.HTTPError as exc:
                kind = f"GET {type(exc).__name__}"
            with self.lock:
                self.errors[kind] += 1
            time.sleep(1 + attempt)
        raise RuntimeError("the form never loaded")

    def post(self, data, ip, cookies) -> tuple[str, dict[str, str]]:
        started = time.monotonic()
        try:
            response = self.client.http().post(
                f"/{CPTS_SLUG}/inscription/", data=data, headers=self.client.headers(ip, cookies)
            )
        except httpx.HTTPError as exc:
            outcome, new_cookies = f"POST {type(exc).__name__}", {}
        else:
            new_cookies = cookies_of(response)
            location = response.headers.get("location", "")
            if response.status_code == 302 and location.endswith("/inscription/merci/"):
                outcome = "ack"
            elif response.status_code == 200:
                outcome = "POST 200 form refused"
            else:
                outcome = f"POST {response.status_code}"
        with self.lock:
            self.post_latencies.append(time.monotonic() - started)
        return outcome, new_cookies

    def post_until_answered(self, submission, data, ip, cookies) -> dict[str, str]:
        """POST; on an error (never on an answered form), send the same form again, at most
        twice, a second later. Returns the cookies of the acknowledgment (the session)."""
        for attempt in range(3):
            if self.aborted.is_set():
                return {}
            outcome, new_cookies = self.post(data, ip, cookies)
            with self.lock:
                submission.outcomes.append(outcome)
                if outcome != "ack":
                    self.errors[outcome] += 1
            if outcome == "ack":
                submission.acknowledged = True
                return new_cookies
            if outcome.startswith("POST 200") or outcome in ("POST 403", "POST 429"):
                return {}
            time.sleep(1 + attempt)
        return {}

    def register(self, submission: Submission) -> None:
        n = submission.index
        ip = f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}"  # one address per person
        cookies, token, key = self.form(ip)
        year = 1935 + submission.index % 85
        data = {
            "csrfmiddlewaretoken": token,
            "submission_key": key,
            "phone": "",
            "email": submission.email,
            "address": f"{1 + submission.index % 200} rue Jean Jaurès",
            "postcode": COMMUNES[submission.index % len(COMMUNES)][1],
            "commune_name": COMMUNES[submission.index % len(COMMUNES)][0],
            "reason": "mt_retired",
            "coverage": "regime_general",
            "consent_processing": "on",
            "consent_sharing": "on",
            "website": "",
            "membres-TOTAL_FORMS": "1",
            "membres-INITIAL_FORMS": "0",
            "membres-MIN_NUM_FORMS": "1",
            "membres-MAX_NUM_FORMS": "12",
            "membres-0-first_name": "Camille",
            "membres-0-last_name": letters(submission.index) + "banc",
            "membres-0-birth_date": f"{year}-{1 + n % 12:02d}-{1 + n % 28:02d}",
            "membres-0-home_visits": "never",
        }
        if submission.double:
            barrier = threading.Barrier(2)

            def twin():
                barrier.wait()
                return self.post_until_answered(submission, data, ip, cookies)

            other = self.twins.submit(twin)
            barrier.wait()
            session = self.post_until_answered(submission, data, ip, cookies)
            session = session or other.result()
            other.result()
        else:
            session = self.post_until_answered(submission, data, ip, cookies)
        if submission.acknowledged and session:
            try:
                page = self.client.http().get(
                    f"/{CPTS_SLUG}/inscription/merci/",
                    headers=self.client.headers(ip, {**cookies, **session}),
                )
                submission.ack_page_ok = page.status_code == 200 and "suivi" in page.text
            except httpx.HTTPError:
                submission.ack_page_ok = False
        with self.lock:
            self.done += 1

    def faults(self, total: int, stop: threading.Event) -> None:
        """At 35 % the SMTP sink goes down for a while; at 60 % PostgreSQL restarts."""
        started = time.monotonic()

        def wait_until(share: float) -> bool:
            while not stop.is_set() and self.done < share * total:
                time.sleep(0.1)
            return not stop.is_set()

        def event(text: str) -> None:
            self.events.append((time.monotonic() - started, text))
            print(f"  [{time.monotonic() - started:6.1f} s] {text}", flush=True)

        if self.args.smtp_outage and wait_until(0.35):
            self.stack.stop_smtp()
            event(f"SMTP sink stopped ({self.done}/{total} done)")
            stop.wait(self.args.smtp_outage)
            self.stack.start_smtp()
            event("SMTP sink started again")
        if self.args.restart and wait_until(0.60):
            event(f"PostgreSQL restart -m fast ({self.done}/{total} done)")
            took = self.stack.restart_postgres()
            event(f"PostgreSQL back after {took:.1f} s")


def progress(run: Run, total: int, stop: threading.Event) -> None:
    while not stop.wait(10):
        print(f"  … {run.done}/{total} registrations", flush=True)


def database_counts(url: str, run_id: str):
    import psycopg

    with psycopg.connect(url.replace("postgres://", "postgresql://", 1)) as conn:
        rows = conn.execute(
            "SELECT r.email, count(*) FROM intake_request r"
            " JOIN territory_cpts c ON c.id = r.cpts_id"
            " WHERE c.slug = %s AND r.email LIKE %s GROUP BY r.email",
            (CPTS_SLUG, f"%.{run_id}@bench.example"),
        ).fetchall()
        outbox = dict(
            conn.execute(
                "SELECT status, count(*) FROM notifications_outboxmessage"
                " WHERE topic = 'intake.acknowledgment' GROUP BY status"
            ).fetchall()
        )
    return dict(rows), outbox


def wait_for_drain(url: str, run_id: str, timeout: float) -> tuple[float, dict]:
    started = time.monotonic()
    while True:
        _, outbox = database_counts(url, run_id)
        open_ = outbox.get("pending", 0) + outbox.get("sending", 0)
        if not open_ or time.monotonic() - started > timeout:
            return time.monotonic() - started, outbox
        time.sleep(1)


def delivered(mail_dir: Path) -> collections.Counter[str]:
    received: collections.Counter[str] = collections.Counter()
    for path in mail_dir.glob("*.eml"):
        with path.open("rb") as handle:
            message = message_from_binary_file(handle, policy=policy.default)
        for _name, address in getaddresses(message.get_all("To", [])):
            received[address.lower()] += 1
    return received


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--double", type=float, default=0.10, help="share of double submits")
    parser.add_argument("--web-workers", type=int, default=4)
    parser.add_argument("--smtp-outage", type=float, default=10.0, help="seconds (0: none)")
    parser.add_argument("--no-restart", dest="restart", action="store_false")
    parser.add_argument("--drain-timeout", type=float, default=600.0)
    parser.add_argument("--seed", type=int, default=14)
    args = parser.parse_args()

    import os

    external = os.environ.get("DATABASE_URL", "").startswith("postgres")
    if external and args.restart:
        print("DATABASE_URL given: that server is never restarted (add --no-restart).")
        return 2
    log_dir = ROOT / "var" / "bench"
    shutil.rmtree(log_dir / "mails", ignore_errors=True)
    for log in log_dir.glob("*.log"):
        log.unlink()
    stack = Stack(
        web_workers=args.web_workers,
        database_url=os.environ["DATABASE_URL"] if external else None,
        log_dir=log_dir,
        extra_env={
            "NOTIFICATIONS_BACKOFF_BASE_SECONDS": "5",
            "NOTIFICATIONS_BACKOFF_MAX_SECONDS": "60",
        },
    )
    with stack:
        t0 = time.monotonic()
        stack.start_postgres(durable=False)
        stack.migrate()
        stack.manage("load_communes")
        names = [name for name, _ in COMMUNES]
        stack.manage("shell", "-c", SETUP.format(slug=CPTS_SLUG, names=names))
        if not external:
            stack.restart_postgres(durable=True)  # the run itself with fsync on
        stack.start_smtp()
        stack.start_worker()
        stack.start_web()
        print(
            f"Set-up: {time.monotonic() - t0:.0f} s (PostgreSQL "
            f"{'given' if external else 'own cluster'}, gunicorn {args.web_workers} workers, "
            f"logs in {log_dir})"
        )

        run = Run(args, stack)
        rng = random.Random(args.seed)
        submissions = [
            Submission(
                index=i, email=f"p{i}.{run.run_id}@bench.example", double=rng.random() < args.double
            )
            for i in range(args.count)
        ]
        for _ in range(args.web_workers * 2):  # every gunicorn worker loads the app
            run.form("127.0.0.1")
        stop = threading.Event()
        threads = [
            threading.Thread(target=run.faults, args=(args.count, stop), daemon=True),
            threading.Thread(target=progress, args=(run, args.count, stop), daemon=True),
        ]
        for thread in threads:
            thread.start()
        print(
            f"Registrations: {args.count} ({sum(s.double for s in submissions)} double submits), "
            f"{args.concurrency} at a time"
        )
        started = time.monotonic()
        pool = ThreadPoolExecutor(max_workers=args.concurrency)
        try:
            futures = [pool.submit(run.register, s) for s in submissions]
            for future in futures:
                future.result()
        except BaseException:
            run.aborted.set()
            stop.set()
            raise
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
        elapsed = time.monotonic() - started
        stop.set()
        threads[0].join()
        run.twins.shutdown()

        drain_time, outbox = wait_for_drain(stack.database_url, run.run_id, args.drain_timeout)
        worker_alive = stack.alive("worker")
        stored, _ = database_counts(stack.database_url, run.run_id)
        received = delivered(stack.mail_dir)

    acknowledged = [s for s in submissions if s.acknowledged]
    lost = [s for s in acknowledged if stored.get(s.email, 0) == 0]
    duplicated = [e for e, n in stored.items() if n > 1]
    unacked_stored = [s for s in submissions if not s.acknowledged and stored.get(s.email)]
    expected_mail = list(stored)
    undelivered = [e for e in expected_mail if not received.get(e)]
    extra_mail = sum(max(0, received.get(e, 0) - 1) for e in expected_mail)
    posts = sum(len(s.outcomes) for s in submissions)
    lat = run.post_latencies

    print()
    print(
        f"Elapsed: {elapsed:.1f} s — {args.count / elapsed:.1f} registrations/s, "
        f"{posts / elapsed:.1f} POST/s"
    )
    print(
        f"POST latency: p50 {percentile(lat, 50) * 1000:.0f} ms, "
        f"p95 {percentile(lat, 95) * 1000:.0f} ms, p99 {percentile(lat, 99) * 1000:.0f} ms, "
        f"max {max(lat) * 1000:.0f} ms ({len(lat)} POST)"
    )
    print(
        f"Acknowledged: {len(acknowledged)}/{args.count}; acknowledgment page shown: "
        f"{sum(1 for s in acknowledged if s.ack_page_ok)}"
    )
    print("Errors by kind (each answered POST or GET that was not an acknowledgment):")
    for kind, number in sorted(run.errors.items()):
        print(f"  {kind}: {number}")
    if not run.errors:
        print("  none")
    doubles = [s for s in submissions if s.double]
    print(
        f"Double submits: {len(doubles)}, both acknowledged: "
        f"{sum(1 for s in doubles if s.outcomes.count('ack') >= 2)}, stored once: "
        f"{sum(1 for s in doubles if stored.get(s.email) == 1)}"
    )
    print(f"Stored without acknowledgment (the person saw an error): {len(unacked_stored)}")
    print(f"Lost (acknowledged, not stored): {len(lost)}")
    print(f"Duplicated (stored more than once): {len(duplicated)}")
    print(f"Outbox drained in {drain_time:.1f} s after the last registration: {outbox}")
    print(
        "Acknowledgment e-mails delivered: "
        f"{len(expected_mail) - len(undelivered)}/{len(expected_mail)}"
        f" (received twice or more: {extra_mail})"
    )
    print(
        "Outbox worker alive at the end: "
        + ("yes" if worker_alive else "NO (see var/bench/worker.log)")
    )
    for offset, text in run.events:
        print(f"  fault at {offset:.1f} s: {text}")
    failed = bool(lost or duplicated or undelivered or not worker_alive)
    print("RESULT:", "FAILED" if failed else "ok")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
