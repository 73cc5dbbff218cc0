"""The CPTS home's figures (reporting/indicators/home.py): the queue, places left, the last 90
days of the orientation flow; masked outside the coordination; a fixed number of queries; links
to the indicator pages."""

import datetime
import html

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accesmt.accounts.models import Role
from accesmt.common import pagination
from accesmt.orientation.models import AnswerChannel, RecordedBy
from accesmt.orientation.services import placement_record, solicitation_answer
from accesmt.reporting.indicators.home import home_shown
from accesmt.reporting.tables import Scope
from tests.accounts.factories import MembershipFactory
from tests.reporting.helpers import asked, closed, household, placed
from tests.worlds import Orientation

pytestmark = pytest.mark.django_db


@pytest.fixture
def o(settings):
    settings.PUBLIC_BASE_URL = "https://accesmt.example"
    return Orientation()


def _answer(solicitation, accept):
    return solicitation_answer(
        solicitation=solicitation,
        accept=accept,
        channel=AnswerChannel.LINK,
        decline_reason="" if accept else "full",
    )


def figures(cpts, masked=False):
    return home_shown(Scope(cpts, masked=masked))


def home(client, cpts, role):
    client.force_login(MembershipFactory(cpts=cpts, role=role).user)
    return client.get(reverse("reporting:cpts_home", kwargs={"cpts_slug": cpts.slug}))


def test_figures_follow_the_orientation_flow(o):
    before = figures(o.cpts)
    assert (before["waiting"], before["being_oriented"], before["found"]) == (1, 0, 0)
    # in persons: the household of two; five GPs with two places each
    assert (before["waiting_persons"], before["places_left"], before["gps_with_places"]) == (
        2,
        10,
        5,
    )
    created = o.ask(*o.gps[:3])
    _answer(created[0], accept=True)
    _answer(created[1], accept=False)
    middle = figures(o.cpts)
    assert (middle["waiting"], middle["being_oriented"]) == (0, 1)
    assert (middle["solicitations"], middle["acceptance_rate"]) == (3, 50.0)
    placement_record(request=o.request, practitioner=o.gps[0], recorded_by=RecordedBy.COORDINATOR)
    after = figures(o.cpts)
    assert (after["found"], after["median_wait_days"]) == (1, 10)  # waiting_request: 10 days
    assert (after["found_persons"], after["places_left"]) == (2, 8)
    other = figures(o.world.other)
    assert (other["found"], other["solicitations"], other["waiting"]) == (0, 0, 0)


def test_waiting_priority_to_check_and_the_90_days_window(o):
    for _ in range(2):
        household(o.cpts, timezone.now(), status="waiting", is_priority=True, priority_rule_count=1)
    household(o.cpts, timezone.now())  # new: to check
    household(o.cpts, timezone.now(), status="to_verify")
    old = closed(o.cpts, timezone.now() - datetime.timedelta(days=200), timezone.now())
    placed(old, o.gps[1], timezone.now() - datetime.timedelta(days=91))  # out of the window
    found = figures(o.cpts)
    assert (found["waiting"], found["waiting_priority"], found["waiting_persons"]) == (3, 2, 4)
    assert (found["to_check"], found["found"], found["median_wait_days"]) == (2, 0, None)


def test_observer_sees_small_counts_masked_and_links_to_the_indicator_pages(client, o):
    created = o.ask(*o.gps[:3])
    _answer(created[0], accept=True)
    placement_record(request=o.request, practitioner=o.gps[0], recorded_by=RecordedBy.COORDINATOR)
    exact = figures(o.cpts)
    assert (exact["found"], exact["median_wait_days"], exact["acceptance_rate"]) == (1, 10, 100.0)
    masked = figures(o.cpts, masked=True)
    assert masked["found"] == "< 5" and masked["median_wait_days"] is None
    assert masked["acceptance_rate"] is None and masked["waiting"] == 0
    assert masked["gps_with_places"] == "< 5" and masked["places_left"] == 8  # not a person
    page = home(client, o.cpts, Role.OBSERVER)
    text = " ".join(html.unescape(page.content.decode()).split())
    assert "Médecins traitants trouvés (90 derniers jours)" in text
    assert "< 5 (< 5 personnes)" in text and "attente médiane" not in text
    assert o.request.reference not in text
    for slug in ("demande", "resultats", "offre", "aci"):
        url = reverse(
            "reporting:indicators_section", kwargs={"cpts_slug": o.cpts.slug, "section_slug": slug}
        )
        assert f'href="{url}"' in page.content.decode()


def test_the_coordination_sees_exact_figures_and_a_gp_no_indicator_links(client, o):
    created = o.ask(*o.gps[:3])
    _answer(created[0], accept=True)
    placement_record(request=o.request, practitioner=o.gps[0], recorded_by=RecordedBy.COORDINATOR)
    text = " ".join(html.unescape(home(client, o.cpts, Role.COORDINATOR).content.decode()).split())
    assert "1 (2 personnes) — attente médiane 10 jours" in text
    assert "8 places chez 4 médecins" in text
    gp_page = home(client, o.cpts, Role.GP).content.decode()
    assert "data-indicator-pages" not in gp_page
    assert "Foyers en attente d'un médecin" in gp_page


def _home_queries(client, cpts) -> int:
    client.force_login(MembershipFactory(cpts=cpts, role=Role.COORDINATOR).user)
    url = reverse("reporting:cpts_home", kwargs={"cpts_slug": cpts.slug})
    client.get(url)  # sessions, settings rows created on the first visit
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_home_runs_the_same_number_of_queries_whatever_the_queue(client, o):
    small = _home_queries(client, o.cpts)
    now = timezone.now()
    for index in range(30):
        request = household(o.cpts, now, persons=2, status="waiting")
        asked(request, now, o.gps[index % 5])
        found = closed(o.cpts, now - datetime.timedelta(days=20), now)
        placed(found, o.gps[index % 5])
    assert figures(o.cpts)["found"] == 30
    assert _home_queries(client, o.cpts) == small


def test_the_queue_figures_stop_at_the_count_cap(client, o, monkeypatch):
    """The home counts the queue up to COUNT_CAP (decision 0029): above it « plus de 3 », masked or
    not; below it the exact figure, masked from 1 to 4 outside the coordination."""
    monkeypatch.setattr(pagination, "COUNT_CAP", 3)
    for _ in range(3):
        household(o.cpts, timezone.now(), status="waiting", is_priority=True, priority_rule_count=1)
    household(o.cpts, timezone.now())  # new: to check
    for masked in (False, True):
        found = figures(o.cpts, masked=masked)
        assert (found["waiting"], found["waiting_persons"]) == ("plus de 3", "plus de 3")
        assert found["waiting_priority"] == (3 if not masked else "< 5")
    assert figures(o.cpts)["to_check"] == 1
    text = " ".join(html.unescape(home(client, o.cpts, Role.COORDINATOR).content.decode()).split())
    assert "plus de 3 (plus de 3 personnes), dont 3 prioritaires" in text
