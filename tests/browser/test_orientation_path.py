"""The whole orientation path in a real browser: the coordinator asks the first GPs of the list
about a waiting request; each GP opens the link of their e-mail (anonymous, a browser of their
own), sees no name of the person, and answers (one refuses, two accept); the person opens their
follow-up link, sees the GPs and says which one they chose; the coordinator sees the request
closed, "médecin traitant trouvé". With the keyboard only where it matters (reaching and
pressing the buttons), and no Content Security Policy violation on any page."""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from accesmt.intake.models import ClosedReason, Request, Status
from accesmt.intake.services import followup_path
from accesmt.notifications.models import OutboxMessage
from accesmt.orientation.models import Placement, RecordedBy, SolicitationStatus
from tests.accounts.factories import PASSWORD, MembershipFactory, UserFactory
from tests.browser.conftest import PHONE
from tests.messages import link_in
from tests.worlds import Orientation, waiting_request

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SECRETS = ("Secret-Dupont", "Jeanne", "Léo", "foyer@exemple.fr", "06 12 34 56 78")


class Pages:
    """Browser contexts of the test, each page's console errors and uncaught errors kept."""

    def __init__(self, browser):
        self.browser = browser
        self.contexts = []
        self.console_errors: list[str] = []

    def new(self):
        context = self.browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
        self.contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.on("console", lambda m: m.type == "error" and self.console_errors.append(m.text))
        page.on("pageerror", lambda e: self.console_errors.append(f"page error: {e}"))
        return page

    def csp_violations(self) -> list[str]:
        return [
            e
            for e in self.console_errors
            if "Content Security Policy" in e or "page error" in e or "Refused to" in e
        ]

    def close(self):
        for context in self.contexts:
            context.close()


def _tab_to(page, target) -> None:
    """Press Tab until `target` has the focus (it must be reachable with the keyboard)."""
    target.wait_for()
    for _ in range(200):
        page.keyboard.press("Tab")
        if target.evaluate("el => el === document.activeElement"):
            return
    pytest.fail(f"Not reachable with Tab: {target}")


def _log_in(page, url: str, email: str) -> None:
    page.goto(url)
    page.wait_for_url(re.compile(r"/compte/"))
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name=re.compile("connecter", re.IGNORECASE)).click()
    page.wait_for_url(re.compile(re.escape(url)))


def test_from_the_queue_to_a_gp_found(live_server, browser, settings):
    settings.PUBLIC_BASE_URL = "https://accesmt.example"
    o = Orientation()
    request = o.request
    pages = Pages(browser)
    try:
        # The coordinator opens the request, then its orientation page, and asks the first GPs.
        coordinator = pages.new()
        detail = reverse(
            "intake_staff:request_detail",
            kwargs={"cpts_slug": o.cpts.slug, "reference": request.reference},
        )
        _log_in(coordinator, live_server.url + detail, o.coordinator.email)
        expect(
            coordinator.get_by_role("heading", name=f"Demande {request.reference}")
        ).to_be_visible()
        to_orientation = coordinator.get_by_role("link", name=re.compile("Trouver un médecin"))
        _tab_to(coordinator, to_orientation)
        coordinator.keyboard.press("Enter")
        coordinator.wait_for_url(re.compile(r"/orientation/$"))
        expect(coordinator.get_by_role("heading", level=1)).to_contain_text(request.reference)
        ask = coordinator.get_by_role("button", name="Solliciter les premiers de la liste")
        _tab_to(coordinator, ask)
        coordinator.keyboard.press("Enter")
        expect(coordinator.get_by_text("3 médecin(s) sollicité(s).")).to_be_visible()
        request.refresh_from_db()
        assert request.status == Status.PROPOSING

        # Each GP asked received an e-mail with a signed link, and no name of the person.
        asks = list(OutboxMessage.objects.filter(topic="orientation.ask").order_by("pk"))
        assert len(asks) == 3
        assert {m.recipient for m in asks} == {"dr1@exemple.fr", "dr2@exemple.fr", "dr3@exemple.fr"}
        links = []
        for message in asks:
            assert not any(secret in message.body for secret in SECRETS)
            links.append(link_in(message, "/orientation/"))

        # The first GP cannot: the reason is required, next to its field; then they refuse.
        gp = pages.new()
        gp.goto(live_server.url + links[0])
        expect(gp.get_by_role("heading", level=1)).to_have_text(
            "Pouvez-vous accueillir ce foyer comme nouveau patient ?"
        )
        assert not any(secret in gp.content() for secret in SECRETS)
        gp.get_by_role("button", name="Je ne peux pas").click()
        expect(gp.get_by_text("Indiquez le motif du refus.").first).to_be_visible()
        reason = gp.get_by_label("Motif du refus")
        reason.select_option("full")
        _tab_to(gp, gp.get_by_role("button", name="Je ne peux pas"))
        gp.keyboard.press("Enter")
        expect(gp.get_by_text("Merci : votre refus est enregistré.")).to_be_visible()

        # The two others accept, each in a browser of their own.
        for link in links[1:]:
            gp = pages.new()
            gp.goto(live_server.url + link)
            assert not any(secret in gp.content() for secret in SECRETS)
            expect(gp.get_by_text(request.reference).first).to_be_visible()
            accept = gp.get_by_role("button", name="J'accepte ce foyer")
            _tab_to(gp, accept)
            gp.keyboard.press("Enter")
            expect(gp.get_by_text("Merci : vous avez accepté ce foyer.")).to_be_visible()
            expect(gp.get_by_role("button", name="J'accepte ce foyer")).to_have_count(0)
        request.refresh_from_db()
        assert request.status == Status.AWAITING_CHOICE
        statuses = sorted(request.solicitations.values_list("status", flat=True))
        assert statuses == [SolicitationStatus.ACCEPTED] * 2 + [SolicitationStatus.DECLINED]

        # The person opens their follow-up link, sees the two GPs and says which one they chose.
        person = pages.new()
        person.goto(live_server.url + followup_path(request))
        see = person.get_by_role("link", name="Voir les médecins et indiquer mon choix")
        _tab_to(person, see)
        person.keyboard.press("Enter")
        person.wait_for_url(re.compile(r"/choix/$"))
        doctors = person.get_by_role("list", name="Médecins qui ont accepté").get_by_role(
            "heading", level=2
        )
        expect(doctors).to_have_count(2)
        expect(doctors).to_contain_text([re.compile("MEDECIN2"), re.compile("MEDECIN3")])
        choice = person.get_by_role("radio", name=re.compile("MEDECIN3"))
        _tab_to(person, person.get_by_role("radio", name=re.compile("MEDECIN2")))
        person.keyboard.press("ArrowDown")  # radios of one group: arrows move the choice
        expect(choice).to_be_checked()
        person.get_by_role("button", name="Enregistrer mon choix").click()
        expect(person.get_by_text("Merci ! Votre choix est enregistré.")).to_be_visible()
        # The page now shows the GP chosen and the next step, not only "clôturée".
        expect(person.get_by_role("heading", level=1)).to_have_text("Votre médecin traitant")
        expect(person.locator("[data-chosen] h2")).to_contain_text("MEDECIN3")
        expect(person.locator("[data-next-step]")).to_contain_text("carte Vitale")

        placement = Placement.objects.get(request=request)
        assert placement.practitioner == o.gps[2]
        assert placement.recorded_by == RecordedBy.PATIENT

        # The coordinator sees the request closed: médecin traitant trouvé.
        coordinator.goto(live_server.url + detail)
        badges = coordinator.locator(".badge")
        expect(badges.filter(has_text="clôturée")).to_have_count(1)
        expect(badges.filter(has_text="médecin traitant trouvé")).to_have_count(1)
        request.refresh_from_db()
        assert request.closed_reason == ClosedReason.MT_FOUND

        assert pages.csp_violations() == []
    finally:
        pages.close()


@pytest.mark.parametrize("viewport", [PHONE, {"width": 1280, "height": 900}], ids=["390", "1280"])
def test_a_gp_takes_one_household_from_their_list_with_the_keyboard(
    live_server, browser, settings, viewport
):
    """The GP's « foyers à prendre » with 25 households: the first « Prendre ce foyer » button
    within the first two screens, reached and pressed with the keyboard, then « Et maintenant ? »;
    sorting by distance with the keyboard too."""
    settings.PUBLIC_BASE_URL = "https://accesmt.example"
    o = Orientation()
    o.gps[0].declarations.update(monthly_capacity=30)
    for km in range(24):
        waiting_request(o.cpts, o.world.here, north=km / 5, priority=km % 4 == 0)
    gp_user = UserFactory(email=o.gps[0].email)
    MembershipFactory(cpts=o.cpts, user=gp_user, role="gp")
    pages = Pages(browser)
    try:
        page = pages.new()
        page.set_viewport_size(viewport)
        url = reverse("orientation:gp_households", kwargs={"cpts_slug": o.cpts.slug})
        _log_in(page, live_server.url + url, gp_user.email)
        expect(page.locator("[data-count]")).to_contain_text("25 foyers — Page 1 sur 2")
        expect(page.locator("[data-household]")).to_have_count(20)
        take = page.get_by_role("button", name=re.compile("^Prendre ce foyer")).first
        box = take.bounding_box()
        assert box is not None and box["y"] + box["height"] <= 2 * viewport["height"], box
        first = page.locator("[data-household]").first.get_attribute("data-household")
        _tab_to(page, take)
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", name="Et maintenant ?")).to_be_visible()
        expect(page.locator("[data-count]")).to_contain_text("24 foyers")
        taken = Request.objects.get(reference=first)
        assert taken.status == Status.AWAITING_CHOICE
        assert taken.solicitations.get().practitioner == o.gps[0]

        by_distance = page.get_by_role("link", name="Trier par distance")
        _tab_to(page, by_distance)
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"tri=distance"))
        expect(by_distance).to_have_attribute("aria-current", "page")
        assert pages.csp_violations() == []
    finally:
        pages.close()
