"""Load test of the web (issue 15 point 4), for `bench/bench_load.py` (or by hand):

    .venv/bin/locust -f bench/locustfile.py --headless -u 60 -r 10 -t 60s \\
        --host http://127.0.0.1:8001 --csv var/bench/load

Reads LOAD_REGION_FILE, by default `var/bench/region-accesmt_bench_region.json` (written by
bench/region_data.py for its database: CPTS, coordinators' accounts, TOTP keys, communes of each
CPTS). Two kinds of users:

- `Person`: a new person each time (new session, own address in X-Forwarded-For: the server
  runs as behind one reverse proxy, PROXY_COUNT=1, so that the per-address limit of the public
  form applies per person as in production): the public form of a random CPTS (GET), then a
  valid registration (POST with the form's CSRF token and a unique name), then the
  acknowledgment page. A registration counts as acknowledged when the POST is redirected to
  the acknowledgment page and that page shows a reference; the unique names of the
  acknowledged ones are written at the end to LOAD_ACK_FILE (bench_load.py checks that each is
  stored exactly once).
- `Coordinator`: logs in once (password, then the TOTP code computed from the known key; each
  user takes its own account, the big CPTS first), then loops over the queue's first page, a
  filtered page, a search by name (a POST kept in the session, then the page `?recherche=1`)
  or by reference, the page of a request seen in the queue and its orientation page.

Requests are named by route (`/<cpts>/inscription/`, `/espace/<cpts>/demandes/<ref>/`) so that
locust groups them. Cookies: production cookies are `Secure` (and `__Host-`); over plain HTTP on
loopback the standard cookie jar would not send them back, so this client's jar keeps them as
not Secure (bench_load.LoopbackCookieJar; client side only: the server keeps its production
settings).
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import string
import sys
import threading
import time
import uuid
from pathlib import Path

from django_otp.oath import totp
from locust import HttpUser, between, events, task

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_load import LoopbackCookieJar  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
REGION = json.loads(
    Path(
        os.environ.get("LOAD_REGION_FILE")
        or ROOT / "var" / "bench" / "region-accesmt_bench_region.json"
    ).read_text()
)
ACK_FILE = Path(os.environ.get("LOAD_ACK_FILE", ROOT / "var" / "bench" / "load_acknowledged.txt"))
# The names of this run: Charge<run><counter in letters> (bench_load.py gives the run).
RUN = os.environ.get("LOAD_RUN") or "".join(random.choices(string.ascii_lowercase, k=6))
PUBLIC_CPTS = [c for c in REGION["cpts"] if c["places"]]
ACCOUNTS = sorted(REGION["cpts"], key=lambda c: c["slug"] != REGION["big"])
FIRST_NAMES = ["Josiane", "Marcel", "Léa", "Hugo", "Fatima", "Karim", "Chloé", "Émile"]
SURNAME_SEARCHES = ["Martin", "Dubois", "Lefebvre", "Nguyen", "Garcia", "Mercier", "Wartel"]
REFERENCE_LINK = re.compile(r'href="/espace/[^/"]+/demandes/(MT-[0-9A-Z]{4}-[0-9A-Z]{4})/"')
REFERENCE_SHOWN = re.compile(r"MT-[0-9A-Z]{4}-[0-9A-Z]{4}")
ERROR_SUMMARY = re.compile(r'class="error-summary"[^>]*>(.*?)</div>', re.S)
TAGS = re.compile(r"<[^>]+>")
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')

_lock = threading.Lock()
_counter = itertools.count()
_accounts = itertools.cycle(range(len(ACCOUNTS)))
acknowledged: list[str] = []
stored_unacknowledged: list[str] = []


def letters(n: int) -> str:
    out = ""
    while True:
        n, r = divmod(n, 26)
        out = string.ascii_lowercase[r] + out
        if n == 0:
            return out


def unique_name() -> str:
    with _lock:
        return f"Charge{RUN}{letters(next(_counter))}".capitalize()


def random_ip() -> str:
    return f"10.{random.randint(0, 255)}.{random.randint(0, 255)}.{random.randint(1, 254)}"


def csrf_token(html: str) -> str:
    match = CSRF.search(html)
    return match[1] if match else ""


class _Base(HttpUser):
    abstract = True

    def on_start(self):
        self.client.cookies = LoopbackCookieJar()
        self.ip = random_ip()

    def headers(self) -> dict[str, str]:
        return {"X-Forwarded-For": self.ip}


class Person(_Base):
    """Someone who registers through the public form."""

    weight = 3
    wait_time = between(1, 3)

    @task
    def register(self):
        self.client.cookies.clear()
        self.ip = random_ip()
        cpts = random.choice(PUBLIC_CPTS)
        url = f"/{cpts['slug']}/inscription/"
        with self.client.get(
            url, name="/<cpts>/inscription/ GET", headers=self.headers(), catch_response=True
        ) as response:
            token = csrf_token(response.text)
            if response.status_code != 200 or not token:
                response.failure(f"formulaire : {response.status_code}, jeton CSRF absent")
                return
        place = random.choice(cpts["places"])
        name = unique_name()
        born = (
            f"{random.randint(1935, 2005)}-{random.randint(1, 12):02d}-{random.randint(1, 28):02d}"
        )
        data = {
            "csrfmiddlewaretoken": token,
            "submission_key": str(uuid.uuid4()),
            # 06 12: an assigned block (06 39, 06 90–97 are not: the form refuses them).
            "phone": f"06 12 {random.randint(10, 99)} {random.randint(10, 99)} "
            f"{random.randint(10, 99)}",
            "email": "",
            "address": f"{random.randint(1, 80)} rue de la République",
            "postcode": place["postcode"],
            "commune_name": place["commune_name"],
            "reason": "mt_retired",
            "coverage": "regime_general",
            "consent_processing": "on",
            "consent_sharing": "on",
            "website": "",
            "membres-TOTAL_FORMS": "1",
            "membres-INITIAL_FORMS": "0",
            "membres-MIN_NUM_FORMS": "1",
            "membres-MAX_NUM_FORMS": "12",
            "membres-0-first_name": random.choice(FIRST_NAMES),
            "membres-0-last_name": name,
            "membres-0-birth_date": born,
            "membres-0-home_visits": "never",
        }
        with self.client.post(
            url,
            data=data,
            name="/<cpts>/inscription/ POST",
            headers=self.headers(),
            allow_redirects=False,
            catch_response=True,
        ) as response:
            location = response.headers.get("Location", "")
            if response.status_code != 302 or not location.endswith("/inscription/merci/"):
                summary = ERROR_SUMMARY.search(response.text)
                why = " ".join(TAGS.sub(" ", summary[1]).split())[:200] if summary else location
                response.failure(f"inscription : {response.status_code} {why}")
                return
        with self.client.get(
            location,
            name="/<cpts>/inscription/merci/",
            headers=self.headers(),
            catch_response=True,
        ) as response:
            if response.status_code == 200 and REFERENCE_SHOWN.search(response.text):
                with _lock:
                    acknowledged.append(name)
            else:
                with _lock:
                    stored_unacknowledged.append(name)
                response.failure(f"accusé de réception : {response.status_code}")


class Coordinator(_Base):
    """A CPTS's coordinator working through the queue."""

    weight = 1
    wait_time = between(1, 3)

    def on_start(self):
        super().on_start()
        with _lock:
            self.account = ACCOUNTS[next(_accounts)]
        self.slug = self.account["slug"]
        self.logged_in = self.login()

    def login(self) -> bool:
        response = self.client.get("/compte/connexion/", name="/compte/connexion/ GET")
        response = self.client.post(
            "/compte/connexion/",
            data={
                "csrfmiddlewaretoken": csrf_token(response.text),
                "username": self.account["email"],
                "password": REGION["password"],
            },
            name="/compte/connexion/ POST",
            headers=self.headers(),
            allow_redirects=False,
        )
        if response.status_code != 302:
            return False
        page = self.client.get("/compte/verification/", name="/compte/verification/ GET")
        for _attempt in range(2):
            code = totp(bytes.fromhex(self.account["totp_key"]))
            response = self.client.post(
                "/compte/verification/",
                data={"csrfmiddlewaretoken": csrf_token(page.text), "code": f"{code:06d}"},
                name="/compte/verification/ POST",
                headers=self.headers(),
                allow_redirects=False,
            )
            if response.status_code == 302:
                return True
            # The code of this 30 s step was already used (an account shared by two users):
            # the next step's code.
            time.sleep(31 - time.time() % 30)
        return False

    def queue_url(self) -> str:
        return f"/espace/{self.slug}/demandes/"

    @task
    def work(self):
        if not self.logged_in:
            self.logged_in = self.login()
            if not self.logged_in:
                return
        queue = self.queue_url()
        first = self.client.get(queue, name="/espace/<cpts>/demandes/", headers=self.headers())
        references = REFERENCE_LINK.findall(first.text)
        self.client.get(
            queue + random.choice(["?status=waiting&rule=senior", "?status=to_verify", "?page=3"]),
            name="/espace/<cpts>/demandes/?filtre",
            headers=self.headers(),
        )
        term = (
            random.choice(references)
            if references and random.random() < 0.3
            else random.choice(SURNAME_SEARCHES)
        )
        self.client.post(
            queue,
            data={"csrfmiddlewaretoken": csrf_token(first.text), "q": term, "status": "open"},
            name="/espace/<cpts>/demandes/ POST recherche",
            headers=self.headers(),
            allow_redirects=False,
        )
        self.client.get(
            queue + "?status=open&recherche=1",
            name="/espace/<cpts>/demandes/?recherche=1",
            headers=self.headers(),
        )
        if not references:
            return
        reference = random.choice(references)
        self.client.get(
            f"{queue}{reference}/",
            name="/espace/<cpts>/demandes/<ref>/",
            headers=self.headers(),
        )
        self.client.get(
            f"{queue}{reference}/orientation/",
            name="/espace/<cpts>/demandes/<ref>/orientation/",
            headers=self.headers(),
        )


@events.test_stop.add_listener
def write_acknowledged(**_kwargs):
    ACK_FILE.parent.mkdir(parents=True, exist_ok=True)
    with _lock:
        ACK_FILE.write_text("".join(f"{name}\n" for name in acknowledged))
        if stored_unacknowledged:
            ACK_FILE.with_suffix(".unacknowledged.txt").write_text(
                "".join(f"{name}\n" for name in stored_unacknowledged)
            )
