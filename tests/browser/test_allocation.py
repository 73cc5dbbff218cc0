"""Queue-wide allocation in a real browser: the coordinator launches a run, reviews it (priority
household first, no names), unchecks nothing and sends; the proposed GPs are asked."""

import re

import pytest
from django.urls import reverse

from accesmt.intake.models import Request, Status
from accesmt.orientation.models import Solicitation
from tests.accounts.factories import PASSWORD, MembershipFactory
from tests.worlds import gp_at, two_cpts, waiting_request

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_launch_review_and_send_a_run(live_server, browser, settings):
    settings.PUBLIC_BASE_URL = live_server.url
    w = two_cpts()
    for km in (1, 2):
        site = gp_at(w.cpts, w.here, north=km, capacity=1)
        site.practitioner.email = f"dr{km}@exemple.fr"
        site.practitioner.last_name = f"MEDECIN{km}"
        site.practitioner.save()
    priority = waiting_request(w.cpts, w.here, days=2, priority=True)
    old = waiting_request(w.cpts, w.here, days=90)
    recent = waiting_request(w.cpts, w.here, days=1)
    names = list(priority.members.values_list("last_name", flat=True))
    coordinator = MembershipFactory(cpts=w.cpts, role="coordinator").user

    page = browser.new_context(locale="fr-FR").new_page()
    page.set_default_timeout(15_000)
    page.goto(live_server.url + reverse("matching:runs", kwargs={"cpts_slug": w.cpts.slug}))
    page.get_by_label("Adresse e-mail").fill(coordinator.email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name=re.compile("connecter", re.IGNORECASE)).click()

    page.get_by_role("button", name="Calculer la répartition").click()
    # the run is a background operation (run at once by the test settings): its progress page
    page.wait_for_url(re.compile(r"/operations/\d+/$"))
    assert "2 foyers sur 3 avec un médecin proposé" in page.content()
    assert page.locator("progress").get_attribute("value") == "100"
    page.get_by_role("link", name="Voir le résultat").click()
    page.wait_for_url(re.compile(r"/repartition/\d+/$"))
    rows = page.locator("table[data-lines] tbody tr")
    assert rows.count() == 2
    assert priority.reference in rows.nth(0).inner_text()
    assert old.reference in rows.nth(1).inner_text()
    assert "prioritaire" in rows.nth(0).inner_text()
    assert all(name not in page.content() for name in names)

    page.get_by_role("button", name=re.compile("Envoyer toutes les propositions")).click()
    page.wait_for_url(re.compile(r"/operations/\d+/$"))
    assert "2 demandes envoyées" in page.content()
    page.get_by_role("link", name="Voir le résultat").click()
    page.wait_for_url(re.compile(r"/repartition/\d+/$"))
    assert page.locator("table[data-lines] input[type=checkbox]").count() == 0

    page.get_by_role("link", name=re.compile("Foyers sans proposition")).click()
    assert recent.reference in page.locator("table[data-lines]").inner_text()
    statuses = dict(Request.objects.values_list("pk", "status"))
    assert (statuses[priority.pk], statuses[old.pk], statuses[recent.pk]) == (
        Status.PROPOSING,
        Status.PROPOSING,
        Status.WAITING,
    )
    assert Solicitation.objects.filter(origin="allocation").count() == 2
