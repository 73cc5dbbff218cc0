"""Issue 15, "done when": an allocation run of 100,000 households launched from its page,
followed to the end on its progress page in a browser (no JavaScript: the page refreshes itself),
then its send launched from the run page and followed to the end too, while the real database
worker (django-tasks-db) runs both operations.

The database is built with bench/bench_allocation_send.py's `build_queue` (bulk inserts): one
CPTS over mainland France, 100,000 waiting households, 10,000 GPs with an e-mail and an
availability declaration. Timings are printed (`-s`); screenshots of the progress page mid-run, at
390 and 1280 px, go to var/shots/. PostgreSQL only (the production database; CI's second pass):
about 3 min 30 s on the shared 2-core machine (build 32 s, run 15 s, send 105 s)."""

import re
import threading
import time
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.db.models import Count
from django.urls import reverse

from accesmt.accounts.models import Membership, User
from accesmt.intake.models import Request, Status
from accesmt.matching.models import AllocationLine, AllocationRun, LineOutcome
from accesmt.notifications.models import Operation, OutboxMessage
from accesmt.orientation.models import Solicitation
from bench.bench_allocation_send import build_queue
from tests.accounts.factories import PASSWORD
from tests.notifications.test_tasks import DATABASE_TASKS, run_database_worker

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    # The test database on SQLite is in memory, shared between threads by SQLite's shared cache,
    # whose table locks fail at once ("database table is locked") instead of waiting when the
    # worker writes the operation while the page reads it.
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="worker et pages en parallèle sur 100 000 foyers : PostgreSQL seulement",
    ),
]

HOUSEHOLDS = 100_000
GPS = 10_000
SHOTS = Path(django_settings.BASE_DIR) / "var" / "shots"


def in_thread(target):
    def work():
        try:
            target()
        finally:
            connection.close()

    thread = threading.Thread(target=work)
    thread.start()
    return thread


def progress_value(page) -> int:
    return int(page.locator("progress").get_attribute("value") or 0)


def follow_to_the_end(page, worker, *, shots: str | None = None) -> float:
    """Wait (no click: the page refreshes itself) for "Voir le résultat" while the worker runs;
    with `shots`, screenshot the page at both widths once it shows some progress."""
    t0 = time.perf_counter()
    seen = set()
    result = page.get_by_role("link", name="Voir le résultat")
    while not result.count():
        if not worker.is_alive():  # finished (or failed): the next refresh shows it
            assert not Operation.objects.filter(status="failed").exists(), page.inner_text("main")
            result.wait_for(timeout=15_000)
            break
        seen.add(progress_value(page))
        if shots and 0 < progress_value(page) < 100:
            SHOTS.mkdir(parents=True, exist_ok=True)
            for width, height in ((390, 844), (1280, 900)):
                page.set_viewport_size({"width": width, "height": height})
                page.screenshot(path=SHOTS / f"{shots}-{width}.png", full_page=True)
            shots = None
        page.wait_for_timeout(500)
    seconds = time.perf_counter() - t0
    assert "Terminée" in page.inner_text("main")
    assert progress_value(page) == 100
    assert seen - {0, 100}, f"avancement jamais vu en cours : {sorted(seen)}"
    return seconds


def test_a_100k_household_run_and_its_send_are_followed_to_the_end(live_server, browser, settings):
    settings.TASKS = DATABASE_TASKS
    t0 = time.perf_counter()
    cpts = build_queue(households=HOUSEHOLDS, gps=GPS)
    coordinator = User.objects.create_user(email="coordination@banc.example.org", password=PASSWORD)
    Membership.objects.create(user=coordinator, cpts=cpts, role="coordinator")
    build = time.perf_counter() - t0
    assert Request.objects.filter(status=Status.WAITING).count() == HOUSEHOLDS

    page = browser.new_context(locale="fr-FR", java_script_enabled=False).new_page()
    page.set_default_timeout(60_000)
    page.goto(live_server.url + reverse("matching:runs", kwargs={"cpts_slug": cpts.slug}))
    page.get_by_label("Adresse e-mail").fill(coordinator.email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name=re.compile("connecter", re.IGNORECASE)).click()

    # the run: launched from its page, computed by the database worker, followed to the end
    page.get_by_role("button", name="Calculer la répartition").click()
    page.wait_for_url(re.compile(r"/operations/\d+/$"))
    run_seconds = follow_to_the_end(page, in_thread(run_database_worker), shots="progress-run")
    run = AllocationRun.objects.get()
    assert run.households == HOUSEHOLDS
    lines = AllocationLine.objects.filter(run=run).assigned()
    proposed = lines.count()
    assert proposed == run.assigned > 10_000  # tens of thousands of lines to send

    # the result, then its send (every proposed line), followed to the end the same way
    page.get_by_role("link", name="Voir le résultat").click()
    page.wait_for_url(re.compile(r"/repartition/\d+/$"))
    send_button = page.get_by_role("button", name=re.compile("Envoyer toutes les propositions"))
    assert f"({proposed})" in send_button.inner_text()
    send_button.click()
    page.wait_for_url(re.compile(r"/operations/\d+/$"))
    send_seconds = follow_to_the_end(page, in_thread(run_database_worker), shots="progress-send")
    assert f"{proposed} demandes envoyées" in page.inner_text("main")
    assert Operation.objects.filter(status="done").count() == 2

    # every proposed line sent once: one solicitation of its GP, one e-mail to that GP
    assert lines.filter(outcome=LineOutcome.SENT).count() == proposed
    asked = Solicitation.objects.filter(origin="allocation")
    assert asked.count() == proposed
    assert not asked.values("request").annotate(n=Count("pk")).filter(n__gt=1).exists()
    assert Request.objects.filter(status=Status.PROPOSING).count() == proposed
    messages = OutboxMessage.objects.filter(topic="orientation.ask")
    assert messages.count() == proposed == OutboxMessage.objects.count()
    assert set(messages.values_list("related_id", flat=True)) == {
        str(pk) for pk in asked.values_list("pk", flat=True)
    }
    # nothing personal in what the GPs receive: the households' names, addresses and
    # references appear nowhere in the messages (the CPTS name, a date and the signed link)
    sample = list(messages.order_by("?")[:200].values_list("subject", "body"))
    for subject, body in sample:
        text = subject + body
        assert "Camille" not in text and "Banc d'Essai" not in text
        assert not re.search(r"MT-[0-9A-Z]{4}-[0-9A-Z]{4}", text)
    print(
        f"\n{HOUSEHOLDS:,} households × {GPS:,} GPs: built in {build:.1f} s; run followed in "
        f"{run_seconds:.1f} s ({proposed:,} lines proposed); send followed in "
        f"{send_seconds:.1f} s ({1000 * send_seconds / proposed:.2f} ms per line)"
    )
