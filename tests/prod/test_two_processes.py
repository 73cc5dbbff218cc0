"""Nothing depends on a single process (issue 15, "Done when"): TWO gunicorn processes (one
worker each, separate ports, production settings), two outbox workers and two task workers on one
PostgreSQL database, driven through HTTP by a browser that goes to either process as a load
balancer would (bench/web_client.py):

- a session opened on web 1 goes on on web 2 (same cookie); a form's CSRF token read on web 1 is
  accepted by web 2;
- failed logins are counted across both processes (lockout at LOGIN_FAILURE_LIMIT), and so are
  the API's failed authentications per address (API_FAILED_AUTH_LIMIT, counted in the database);
- a second start of an allocation run on web 2 while the one started on web 1 waits is refused;
  every queued operation is run once, by one task worker;
- every outbox message is delivered exactly once by the two outbox workers (.eml files counted
  per recipient), and /healthz of both processes says ok with both workers alive.

It needs a PostgreSQL server: the one of DATABASE_URL when the suite runs on PostgreSQL, else
127.0.0.1:5432 (user postgres); skipped when neither answers. It runs in a database of its own,
cloned from a migrated template kept between runs (rebuilt when a migration or the lock file
changes), dropped at the end."""

from __future__ import annotations

import hashlib
import os
import re
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import psycopg
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

from prod_check import CPTS_SLUG, log_in, register, setup, verify  # noqa: E402
from stack import Stack, free_port  # noqa: E402
from web_client import Browser, Mailbox  # noqa: E402

SECOND_SLUG = "prod-check-b"
PEOPLE = 6
API_LIMIT = 6


def _server_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("postgres"):
        parts = urlsplit(url)
        return f"postgresql://{parts.netloc}"
    return "postgresql://postgres@127.0.0.1:5432"


def _admin(server: str):
    return psycopg.connect(f"{server}/postgres", autocommit=True, connect_timeout=3)


def _template_name() -> str:
    """Named after the migrations and the lock file: a change of either builds a new one."""
    digest = hashlib.sha1(usedforsecurity=False)
    for path in sorted(ROOT.glob("accesmt/*/migrations/*.py")):
        digest.update(path.name.encode() + path.read_bytes())
    digest.update((ROOT / "requirements.lock").read_bytes())
    return f"accesmt_prodtest_tpl_{digest.hexdigest()[:12]}"


def _database_from_template(server: str, log_dir: Path) -> str:
    """A fresh database cloned from the migrated template (built here the first time)."""
    template = _template_name()
    with _admin(server) as admin:
        exists = admin.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [template]
        ).fetchone()
        if not exists:
            building = f"accesmt_prodtest_build_{os.getpid()}"
            admin.execute(f'DROP DATABASE IF EXISTS "{building}"')
            admin.execute(f'CREATE DATABASE "{building}"')
            builder = Stack(database_url=f"{server}/{building}", log_dir=log_dir)
            builder.database_url = builder.external_database
            builder.migrate()
            builder.manage("load_communes")
            for (old,) in admin.execute(
                "SELECT datname FROM pg_database WHERE datname LIKE 'accesmt_prodtest_tpl_%%'"
            ).fetchall():
                admin.execute(f'DROP DATABASE IF EXISTS "{old}"')
            try:
                admin.execute(f'ALTER DATABASE "{building}" RENAME TO "{template}"')
            except psycopg.errors.DuplicateDatabase:  # another run built it meanwhile
                admin.execute(f'DROP DATABASE "{building}"')
        name = f"accesmt_prodtest_{uuid.uuid4().hex[:8]}"
        for attempt in range(20):  # the template may be being copied by another run
            try:
                admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
                break
            except psycopg.errors.ObjectInUse:
                time.sleep(0.5 + attempt / 4)
    return f"{server}/{name}"


@pytest.fixture(scope="module")
def two_webs():
    server = _server_url()
    try:
        _admin(server).close()
    except psycopg.OperationalError:
        pytest.skip(f"needs a PostgreSQL server ({server} does not answer)")
    log_dir = ROOT / "var" / "prod-test"
    database = _database_from_template(server, log_dir)
    for mail in (log_dir / "mails").glob("*.eml"):
        mail.unlink()
    stack = Stack(
        web_workers=1,
        database_url=database,
        log_dir=log_dir,
        extra_env={"API_FAILED_AUTH_LIMIT": f"{API_LIMIT}/h", "LOGIN_FAILURE_LIMIT": "5"},
    )
    try:
        with stack:
            stack.start_postgres()
            stack.manage("createcachetable")  # nothing when the template has it
            stack.collect_static()  # the template may come from another checkout
            world = setup(stack, slugs=[CPTS_SLUG, SECOND_SLUG], run=uuid.uuid4().hex[:6])
            stack.start_smtp()
            urls = [stack.start_web("web-1"), stack.start_web("web-2", port=free_port())]
            yield stack, urls, world
    finally:
        with _admin(server) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{database.rsplit("/", 1)[1]}" WITH (FORCE)')


def _query(stack: Stack, sql: str, params=()) -> list[tuple]:
    with psycopg.connect(stack.database_url) as db:
        return db.execute(sql, params).fetchall()


def _wait(condition, what: str, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        assert time.monotonic() < deadline, f"{what}: still not true after {timeout} s"
        time.sleep(0.3)
    return value


def test_nothing_depends_on_a_single_process(two_webs):
    stack, urls, world = two_webs
    run = uuid.uuid4().hex[:6]

    # The session opened on web 1 goes on on web 2.
    coordinator = Browser(urls, ip="10.20.0.1")
    home = log_in(coordinator, world["coordinator"], world["password"], world["key"], at=0)
    queue = coordinator.get(f"/espace/{CPTS_SLUG}/demandes/", at=1)
    assert (queue.status, queue.url, queue.history) == (200, f"/espace/{CPTS_SLUG}/demandes/", [])
    assert "/compte/connexion/" not in queue.url and home.status == 200

    # A form read on one process (CSRF cookie and token) is sent to the other one.
    emails = [f"p{i}.{run}@prod-test.example" for i in range(PEOPLE)]
    references = []
    for index, email in enumerate(emails):
        person = Browser(urls, ip=f"10.21.0.{index + 1}")
        references.append(
            register(person, email, birth_year=1940 + index, at=index % 2, post_at=1 - index % 2)
        )
        person.close()
    for index, reference in enumerate(references):
        verify(coordinator, CPTS_SLUG, reference, at=index % 2)

    # Failed logins of one account from one address: counted across both processes.
    intruder = Browser(urls, ip="10.22.0.1")
    statuses = []
    for attempt in range(6):
        page = intruder.get("/compte/connexion/", at=attempt % 2)
        page = intruder.submit(
            page,
            "Se connecter",
            {"username": world["coordinator"], "password": "pas-le-bon"},
            at=(attempt + 1) % 2,
        )
        statuses.append(page.status)
    assert statuses == [200, 200, 200, 200, 429, 429]
    page = intruder.get("/compte/connexion/", at=0)
    page = intruder.submit(
        page, "Se connecter", {"username": world["coordinator"], "password": world["password"]}
    )
    assert page.status == 429  # even the right password waits: the pair is locked out

    # The API's failed authentications per address: counted across both processes.
    if time.time() % 3600 > 3590:  # not across the edge of the hour's window
        time.sleep(11)
    with httpx.Client() as client:
        api = [
            client.get(
                f"{urls[i]}/api/v1/requests/{references[0]}",
                headers={"Authorization": "Bearer amt_wrong_key", "X-Forwarded-For": "10.23.0.1"},
            )
            for i in [0, 1] * (API_LIMIT // 2 + 1)
        ]
    assert [r.status_code for r in api] == [401] * API_LIMIT + [429, 429], (
        "the failed authentications are not counted across processes"
    )

    # A second allocation run on web 2 while the one of web 1 waits for a task worker: refused.
    first = coordinator.submit(
        coordinator.get(f"/espace/{CPTS_SLUG}/repartition/", at=0), "Calculer la répartition"
    )
    assert re.search(r"/operations/\d+/$", first.url), first.url
    assert 'data-operation="queued"' in first.text
    second = coordinator.submit(
        coordinator.get(f"/espace/{CPTS_SLUG}/repartition/", at=1),
        "Calculer la répartition",
        at=1,
    )
    assert second.url == first.url  # sent to the progress page of the one already there
    assert "Une répartition est déjà en cours de calcul pour cette CPTS" in second.plain
    other = coordinator.submit(  # another CPTS's run is not refused: two tasks for two workers
        coordinator.get(f"/espace/{SECOND_SLUG}/repartition/", at=1),
        "Calculer la répartition",
        at=1,
    )
    assert re.search(r"/operations/\d+/$", other.url), other.url

    # Two task workers: every operation done once, every task run once by one worker.
    for name in ("tasks-1", "tasks-2"):
        stack.start_task_worker(name)

    def operations():
        rows = _query(stack, "SELECT status FROM notifications_operation")
        return rows if all(s == "done" for (s,) in rows) else None

    assert len(_wait(operations, "operations done", timeout=90)) == 2
    tasks = _query(stack, "SELECT status, worker_ids FROM django_tasks_database_dbtaskresult")
    assert len(tasks) == 2
    assert all(status == "SUCCESSFUL" and len(workers) == 1 for status, workers in tasks), tasks
    assert _query(stack, "SELECT count(*) FROM matching_allocationrun") == [(2,)]

    # Two outbox workers: each acknowledgment delivered exactly once.
    for name in ("worker-1", "worker-2"):
        stack.start_worker(name, interval=0.2)
    mailbox = Mailbox(stack.mail_dir)
    _wait(
        lambda: (
            not _query(
                stack,
                "SELECT 1 FROM notifications_outboxmessage WHERE status IN ('pending', 'sending')"
                " AND channel = 'email'",
            )
        ),
        "outbox drained",
    )
    time.sleep(1)  # a message sent twice would be written by the sink within this second
    assert [mailbox.count_to(email) for email in emails] == [1] * PEOPLE

    for at in (0, 1):
        health = _wait(
            lambda at=at: (
                (h := coordinator.get("/healthz", at=at)).status == 200
                and '"status": "ok"' in h.text
                and h
            ),
            "healthz ok",
        )
        assert re.search(r'"alive": ([2-9]|\d\d)', health.text), health.text
    for name in ("web-1", "web-2", "worker-1", "worker-2", "tasks-1", "tasks-2"):
        assert stack.alive(name), f"{name} died (var/prod-test/{name}.log)"
    coordinator.close()
    intruder.close()
