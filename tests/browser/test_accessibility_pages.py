"""axe-core on the main pages of every role of the demo that no other browser test walks
through (issue 13, point 9): the demo territory is loaded (a small one), each demo account opens
its pages in its own browser, and axe-core checks each page at phone and desktop widths
(tests/browser/axe.py); the violations fail the test at its end, all pages listed together.
The GP map shows tiles and their attribution, as in production (the tiles themselves are
absent: served by nobody)."""

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse

from accesmt.accounts.models import User
from accesmt.demo.loader import demo_load
from accesmt.directory.models import SurveyCampaign
from accesmt.intake.models import CpamList, Request
from accesmt.orientation.transfers.models import TransferPlan
from accesmt.reporting.catalogue import SECTION_SLUGS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SLUG = "cpts-lievin"


def _cpts(name, **kwargs):
    return reverse(name, kwargs={"cpts_slug": SLUG, **kwargs})


def _pages() -> dict[str, list[str]]:
    """The pages each demo account opens (None: an anonymous visitor)."""
    campaign = SurveyCampaign.objects.filter(cpts__slug=SLUG).latest("pk")
    plan = TransferPlan.objects.filter(cpts__slug=SLUG).latest("pk")
    cpam_list = CpamList.objects.filter(cpts__slug=SLUG).latest("pk")
    rights = Request.objects.filter(cpts__slug=SLUG, needs_rights_help=True).latest("pk")
    waiting = Request.objects.filter(cpts__slug=SLUG, status="waiting").latest("pk").reference
    sections = [
        _cpts("reporting:indicators_section", section_slug=s) for s in SECTION_SLUGS.values()
    ]
    home = _cpts("reporting:cpts_home")
    return {
        "coordination@cpts-lievin.example.org": [
            home,
            _cpts("reporting:indicators"),
            *sections,
            _cpts("reporting:catalogue"),
            _cpts("reporting:communes"),
            _cpts("reporting:settings"),
            _cpts("reporting:demography"),
            _cpts("reporting:person_export"),
            _cpts("directory:campaigns"),
            _cpts("directory:campaign", pk=campaign.pk),
            _cpts("directory:coordinator_directory"),
            _cpts("directory:installation_list"),
            _cpts("directory:installation_create"),
            _cpts("matching:runs"),
            _cpts("orientation:request", reference=waiting),
            _cpts("orientation:request_exclusions", reference=waiting),
            _cpts("orientation:letters"),
            _cpts("orientation:still_needed"),
            _cpts("orientation:transfer_plans"),
            _cpts("orientation:transfer_plan", pk=plan.pk),
            _cpts("orientation:transfer_import", pk=plan.pk),
            _cpts("intake_staff:cpam_lists"),
            _cpts("intake_staff:cpam_list_upload"),
            _cpts("intake_staff:cpam_list_detail", pk=cpam_list.pk),
            _cpts("intake:phone_entry"),
            reverse("accounts:password_change"),
        ],
        "pharmacie@cpts-lievin.example.org": [
            home,
            _cpts("intake:my_referrals"),
            _cpts("directory:professional_list"),
        ],
        "medecin@cpts-lievin.example.org": [home, _cpts("directory:my_declaration")],
        "mediation@cpam-artois.example.org": [
            home,
            _cpts("intake_staff:rights_help"),
            _cpts("intake_staff:rights_file", reference=rights.reference),
        ],
        "agent@cpam-artois.example.org": [home, _cpts("intake:refer")],
        "observatoire@cpts-lievin.example.org": [home, _cpts("reporting:indicators")],
        "mairie@lievin.example.org": [
            home,
            _cpts("reporting:indicators"),
            _cpts("reporting:communes"),
        ],
        "admin@accesmt.example.org": [
            reverse("reporting:espace"),
            reverse("reporting:region_indicators"),
            reverse("reporting:region_catalogue"),
        ],
        None: [
            reverse("territory:home"),
            reverse("accounts:login"),
            reverse("accounts:password_reset"),
            _cpts("intake:privacy"),
            _cpts("directory:public_list"),
            _cpts("reporting:public_report"),
        ],
    }


def _logged_in_context(browser, base_url, email):
    context = browser.new_context(locale="fr-FR")
    if email:
        client = Client()
        client.force_login(User.objects.get(email=email))
        name = django_settings.SESSION_COOKIE_NAME
        context.add_cookies([{"name": name, "value": client.cookies[name].value, "url": base_url}])
    return context


def test_the_pages_of_every_demo_role_are_reached_and_checked_by_axe(
    live_server, browser, settings
):
    settings.MAP_TILE_URL = live_server.url + "/tuiles-absentes/{z}/{x}/{y}.png"
    demo_load(households=20, history=8)
    for email, paths in _pages().items():
        context = _logged_in_context(browser, live_server.url, email)
        page = context.new_page()
        page.set_default_timeout(15_000)
        for path in paths:
            response = page.goto(live_server.url + path)
            assert response.status == 200, (email, path, response.status)
            assert page.locator("h1").count() == 1, (email, path)
            context.check_page(page)  # at both widths; violations fail the test at its end
        # Every page was recorded (and checked: the fixture does not open them again).
        assert [u.removeprefix(live_server.url) for u in context.urls] == list(dict.fromkeys(paths))
