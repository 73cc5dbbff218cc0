"""An allocation run followed on its progress page, in a browser without JavaScript: the page
starts "waiting for a worker", refreshes itself (meta refresh, no script) while the real
database worker (django-tasks-db) runs the task in another thread, and ends on the link to the
run."""

import re
import threading

import pytest
from django.db import connection
from django.urls import reverse

from accesmt.notifications.models import Operation
from tests.accounts.factories import PASSWORD, MembershipFactory
from tests.notifications.test_tasks import DATABASE_TASKS, run_database_worker
from tests.worlds import gp_at, two_cpts, waiting_request

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_run_is_followed_on_its_progress_page_without_javascript(live_server, browser, settings):
    settings.TASKS = DATABASE_TASKS
    w = two_cpts()
    gp_at(w.cpts, w.here, north=1, capacity=2)
    waiting_request(w.cpts, w.here, days=20, priority=True)
    waiting_request(w.cpts, w.here, days=5)
    coordinator = MembershipFactory(cpts=w.cpts, role="coordinator").user

    page = browser.new_context(locale="fr-FR", java_script_enabled=False).new_page()
    page.set_default_timeout(20_000)
    page.goto(live_server.url + reverse("matching:runs", kwargs={"cpts_slug": w.cpts.slug}))
    page.get_by_label("Adresse e-mail").fill(coordinator.email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name=re.compile("connecter", re.IGNORECASE)).click()
    page.get_by_role("button", name="Calculer la répartition").click()
    page.wait_for_url(re.compile(r"/operations/\d+/$"))
    assert "En attente d'un worker" in page.inner_text("main")
    assert page.locator("progress").get_attribute("value") == "0"
    operation = Operation.objects.get()
    assert operation.status == "queued"

    def work():
        try:
            run_database_worker()
        finally:
            connection.close()

    worker = threading.Thread(target=work)
    worker.start()
    worker.join(timeout=60)
    # no click: the page refreshes itself until the result link appears
    page.get_by_role("link", name="Voir le résultat").wait_for()
    assert "Terminée" in page.inner_text("main")
    assert page.locator("progress").get_attribute("value") == "100"
    page.get_by_role("link", name="Voir le résultat").click()
    page.wait_for_url(re.compile(r"/repartition/\d+/$"))
    assert page.locator("table[data-lines] tbody tr").count() == 2
