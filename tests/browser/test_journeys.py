"""The five journeys of issue 13, walked in Chromium and measured: the person (one adult, then a
household of three), the referrer (a pharmacist), the coordinator, the GP and the CPAM mediator.

Each journey is one realistic world and one `Journey` (journey.py), which counts the clicks and
fields and measures every page: load time, height in screens, width. What is asserted is layout
and flow (each journey ends on its success page; the person's form, to its « Envoyer » button,
fits three phone screens; the coordinator's first row is on the first screen; the GP's first
« Prendre ce foyer » is within two; no page is wider than its screen; no script error or CSP
refusal); times are printed (`pytest -s`) and written to var/journeys.json, never asserted."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from accesmt.intake.models import ContactNote, Request, Status
from accesmt.intake.services import request_recompute_priority
from accesmt.notifications.models import OutboxMessage
from accesmt.orientation.models import SolicitationStatus
from tests.accounts.factories import PASSWORD, MembershipFactory, UserFactory
from tests.intake.conftest import territory  # noqa: F401  (fixture)
from tests.intake.factories import HouseholdMemberFactory, RequestFactory
from tests.messages import link_in
from tests.worlds import Orientation, waiting_request

from .conftest import PHONE
from .journey import Journey, save, table

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
DESKTOP = {"width": 1280, "height": 900}
# The person's journey for one adult, from the home to the acknowledgment, as measured: press
# Entrée, the CPTS's link, two consent boxes, « Envoyer »; the postal code twice (home, form),
# phone, address, first name, name, birth date, reason. A ceiling: fewer is welcome.
PERSON_CLICKS = 5
PERSON_FIELDS = 8


@pytest.fixture(scope="module")
def walked():
    """The journeys of the module: their table is printed and saved at the end."""
    journeys = []
    yield journeys
    if journeys:
        print("\n" + table(journeys))
        save(journeys)


@pytest.fixture
def walk(browser, live_server, walked):
    """Starts a journey in a browser context of its own (a phone is a touch screen)."""
    contexts = []

    def start(name, viewport):
        context = browser.new_context(
            viewport=viewport, locale="fr-FR", is_mobile=viewport is PHONE, has_touch=True
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        journey = Journey(name=name, viewport=viewport, page=page)
        page.on("pageerror", lambda error: journey.errors.append(str(error)))
        page.on(
            "console",
            lambda m: m.type == "error" and journey.errors.append(m.text),
        )
        walked.append(journey)
        return journey

    yield start
    for context in contexts:
        context.close()


def _ends_well(journey):
    """Nothing wider than the screen on any page, no script error, no CSP refusal."""
    assert journey.totals()["max_width"] <= journey.viewport["width"], journey.pages
    assert journey.errors == []


def _log_in(journey, base, user, cpts):
    page = journey.page
    journey.goto(base + reverse("accounts:login"))
    journey.fill(page.get_by_label("Adresse e-mail"), user.email)
    journey.fill(page.get_by_label("Mot de passe"), PASSWORD)
    home = reverse("reporting:cpts_home", kwargs={"cpts_slug": cpts.slug})
    journey.click(page.get_by_role("button", name="Se connecter"), to=re.compile(f"{home}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(cpts.name)


def _birth(years: int) -> str:
    today = timezone.localdate()
    return datetime.date(today.year - years, 3, 14).isoformat()


# --- 1. The person, on their phone ----------------------------------------------------------
def _person_to_the_form(journey, base):
    page = journey.page
    journey.goto(base + reverse("territory:home"))
    field = page.get_by_label("Commune ou code postal")
    journey.fill(field, "62143")
    journey.press(field, "Enter", to=re.compile(r"\?q=62143"))
    journey.click(
        page.get_by_role("link", name="Faire ma demande auprès de CPTS Liévin Pays d'Artois"),
        to=re.compile(r"/lievin/inscription/\?commune=\w+$"),  # the commune goes along
    )


def _person_fills_an_adult(journey):
    page = journey.page
    journey.fill(page.get_by_label("Téléphone"), "06 12 34 56 78")
    journey.fill(page.get_by_label("Adresse (numéro et rue)"), "8 rue de la Gare")
    journey.fill(page.get_by_label("Code postal"), "62143")
    journey.fill(page.locator("[name='membres-0-first_name']"), "Marcelle")
    journey.fill(page.locator("[name='membres-0-last_name']"), "Parcours")
    journey.fill(page.locator("[name='membres-0-birth_date']"), _birth(78))


def _person_sends(journey):
    """Sends the form; returns the request and the screens scrolled to « Envoyer ma demande »."""
    page = journey.page
    journey.select(page.get_by_label("Pourquoi cherchez-vous un médecin traitant ?"), "mt_retired")
    journey.check(page.locator("input[name=consent_processing]"))
    journey.check(page.locator("input[name=consent_sharing]"))
    send = page.get_by_role("button", name="Envoyer ma demande")
    to_send = journey.screens_to(send, "bas du bouton « Envoyer ma demande »")
    journey.click(send, to=re.compile(r"/inscription/merci/$"))
    expect(page.get_by_text("Votre demande est enregistrée")).to_be_visible()
    reference = page.locator("[data-reference]").inner_text().strip()
    return Request.objects.get(reference=reference), to_send


@pytest.mark.usefixtures("territory")
def test_person_one_adult(walk, live_server):
    journey = walk("personne, un adulte", PHONE)
    _person_to_the_form(journey, live_server.url)
    _person_fills_an_adult(journey)
    request, to_send = _person_sends(journey)

    assert request.members.get().first_name == "Marcelle"
    assert [p.path for p in journey.pages] == [
        "/",
        "/",
        "/lievin/inscription/",
        "/lievin/inscription/merci/",
    ]
    # The form, to its « Envoyer » button, fits three phone screens (the CPTS's public links
    # and the footer below it are not part of it).
    assert to_send <= 3
    totals = journey.totals()
    assert totals["clicks"] <= PERSON_CLICKS and totals["fields"] <= PERSON_FIELDS
    _ends_well(journey)


@pytest.mark.usefixtures("territory")
def test_person_household_of_three(walk, live_server):
    journey = walk("personne, foyer de trois", PHONE)
    page = journey.page
    _person_to_the_form(journey, live_server.url)
    _person_fills_an_adult(journey)
    add = page.get_by_role("button", name="Ajouter une personne du foyer")
    for index, first_name, years in ((1, "Lou", 4), (2, "Jules", 9)):
        journey.click(add)  # added in place by script: the same page
        journey.fill(page.locator(f"[name='membres-{index}-first_name']"), first_name)
        journey.fill(page.locator(f"[name='membres-{index}-birth_date']"), _birth(years))
    request, _ = _person_sends(journey)

    assert sorted(request.members.values_list("first_name", flat=True)) == [
        "Jules",
        "Lou",
        "Marcelle",
    ]
    assert len(journey.pages) == 4  # adding people loaded no page
    form = journey.page_named("inscription/$")
    assert (form.clicks, form.fields) == (5, 11)
    _ends_well(journey)


# --- 2. The referrer: a pharmacist, on their phone --------------------------------------------
def test_referrer_pharmacist(walk, live_server, territory):  # noqa: F811
    cpts = territory["lievin"]
    pharmacist = MembershipFactory(cpts=cpts, role="referrer", profession="pharmacien").user
    journey = walk("orienteur (pharmacienne)", PHONE)
    page = journey.page
    _log_in(journey, live_server.url, pharmacist, cpts)
    journey.click(
        page.get_by_role("link", name="Orienter un patient"), to=re.compile(r"/orienter/$")
    )
    journey.fill(page.get_by_label("Téléphone"), "06 98 76 54 32")
    journey.fill(page.get_by_label("Adresse (numéro et rue)"), "3 place de la République")
    journey.fill(page.get_by_label("Code postal"), "62143")
    journey.fill(page.get_by_label("Prénom"), "Robert")
    journey.fill(page.get_by_label("Nom", exact=True), "Officine")
    journey.fill(page.get_by_label("Date de naissance"), _birth(71))
    journey.select(page.get_by_label("Pourquoi cherchez-vous un médecin traitant ?"), "mt_retired")
    journey.check(page.locator("input[name=attestation]"))
    journey.click(
        page.get_by_role("button", name="Enregistrer l'orientation"),
        to=re.compile(r"/mes-orientations/$"),
    )

    request = Request.objects.get()
    assert request.referrer == pharmacist and request.referrer_attested_consent
    expect(
        page.get_by_text(f"Orientation enregistrée sous la référence {request.reference}")
    ).to_be_visible()
    assert [p.path for p in journey.pages] == [
        "/compte/connexion/",
        "/espace/lievin/",
        "/espace/lievin/orienter/",
        "/espace/lievin/mes-orientations/",
    ]
    _ends_well(journey)


# --- 3. The coordinator, at their desk ------------------------------------------------------
def _queue_of(o, count=12):
    """Requests of all ages before the one the coordinator works on: a queue of a real day."""
    for index in range(count):
        since = timezone.now() - datetime.timedelta(days=5 + 3 * index)
        request = RequestFactory(
            cpts=o.cpts, commune=o.world.here, waiting_since=since, created_at=since
        )
        HouseholdMemberFactory(request=request, is_contact_person=True)
        request_recompute_priority(request=request)


def test_coordinator(walk, live_server):
    o = Orientation()
    o.cpts.slug = "alpha"
    o.cpts.save()
    _queue_of(o)
    request = o.request
    journey = walk("coordinatrice", DESKTOP)
    page = journey.page
    _log_in(journey, live_server.url, o.coordinator, o.cpts)
    queue = reverse("intake_staff:queue", kwargs={"cpts_slug": o.cpts.slug})
    journey.click(page.get_by_role("link", name="File des demandes"), to=re.compile(f"{queue}$"))
    first_row = journey.screens_to(
        page.locator("table[data-queue] tbody tr").first, "bas de la 1re ligne de la file"
    )
    assert first_row <= 1

    search = page.get_by_role("searchbox", name="Rechercher une demande")
    journey.fill(search, request.reference)
    journey.click(  # posted, kept in the session: back to the queue, never in the URL
        page.get_by_role("button", name="Rechercher"), to=re.compile(f"{queue}\\?.*recherche=1")
    )
    rows = page.locator("table[data-queue] tbody tr")
    expect(rows).to_have_count(1)
    assert request.reference not in page.url
    journey.click(
        rows.get_by_role("link", name=request.reference), to=re.compile(f"{request.reference}/$")
    )

    call_back_on = timezone.localdate() + datetime.timedelta(days=2)
    journey.click(page.get_by_text("Noter un appel", exact=True))  # <details>: no script
    journey.check(page.get_by_label("message laissé"))
    journey.fill(page.get_by_label("Rappeler le (facultatif)"), call_back_on.isoformat())
    journey.click(
        page.get_by_role("button", name="Enregistrer l'appel"), to=re.compile("#historique$")
    )
    expect(page.get_by_text(f"Appel noté pour {request.reference}.")).to_be_visible()
    note = ContactNote.objects.get(request=request)
    assert (note.outcome, note.call_back_on) == ("message_left", call_back_on)

    journey.click(
        page.get_by_role("link", name=re.compile("Trouver un médecin")),
        to=re.compile(r"/orientation/$"),
    )
    journey.click(
        page.get_by_role("button", name="Solliciter les premiers de la liste"),
        to=re.compile(r"/orientation/$"),
    )
    expect(page.get_by_text("3 médecin(s) sollicité(s).")).to_be_visible()
    request.refresh_from_db()
    assert request.status == Status.PROPOSING
    assert [p.path for p in journey.pages] == [
        "/compte/connexion/",
        f"/espace/{o.cpts.slug}/",
        f"/espace/{o.cpts.slug}/demandes/",
        f"/espace/{o.cpts.slug}/demandes/",
        f"/espace/{o.cpts.slug}/demandes/<réf>/",
        f"/espace/{o.cpts.slug}/demandes/<réf>/",
        f"/espace/{o.cpts.slug}/demandes/<réf>/orientation/",
        f"/espace/{o.cpts.slug}/demandes/<réf>/orientation/",
    ]
    _ends_well(journey)


# --- 4. The GP, on their phone between two patients ------------------------------------------
def test_gp(walk, live_server, settings):
    settings.PUBLIC_BASE_URL = "https://accesmt.example"
    o = Orientation()
    o.cpts.slug = "alpha"
    o.cpts.save()
    gp = o.gps[0]
    gp.declarations.update(monthly_capacity=10)
    for km in range(8):  # households waiting around the practice, some of them prioritaires
        waiting_request(o.cpts, o.world.here, north=km / 4, priority=km % 3 == 0)
    o.ask(gp)  # the coordinator asked them about one household: its e-mail carries a link
    link = link_in(OutboxMessage.objects.get(topic="orientation.ask"), "/orientation/")
    user = UserFactory(email=gp.email)
    MembershipFactory(cpts=o.cpts, user=user, role="gp")
    journey = walk("médecin généraliste", PHONE)
    page = journey.page
    _log_in(journey, live_server.url, user, o.cpts)
    households = reverse("orientation:gp_households", kwargs={"cpts_slug": o.cpts.slug})
    journey.click(
        page.get_by_role("link", name="Nouveaux patients près de chez moi"),
        to=re.compile(f"{households}$"),
    )
    take = page.get_by_role("button", name=re.compile("^Prendre ce foyer")).first
    take_at = journey.screens_to(take, "bas du 1er bouton « Prendre ce foyer »")
    assert take_at <= 2
    first = Request.objects.get(
        reference=page.locator("[data-household]").first.get_attribute("data-household")
    )
    journey.click(take, to=re.compile(r"pris=1"))
    expect(page.get_by_role("heading", name="Et maintenant ?")).to_be_visible()
    first.refresh_from_db()
    assert first.status == Status.AWAITING_CHOICE
    assert first.solicitations.get().practitioner == gp

    # The e-mail's signed link: no account needed, the GP accepts the household asked about.
    journey.goto(live_server.url + link)
    journey.click(
        page.get_by_role("button", name="J'accepte ce foyer"), to=re.compile(r"/orientation/")
    )
    expect(page.get_by_text("Merci : vous avez accepté ce foyer.")).to_be_visible()
    expect(page.get_by_role("heading", name="Et maintenant ?")).to_be_visible()
    assert o.request.solicitations.get().status == SolicitationStatus.ACCEPTED
    assert [p.path for p in journey.pages] == [
        "/compte/connexion/",
        "/espace/alpha/",
        "/espace/alpha/foyers-a-prendre/",
        "/espace/alpha/foyers-a-prendre/",
        "/orientation/<jeton>/",
        "/orientation/<jeton>/",
    ]
    _ends_well(journey)


# --- 5. The CPAM mediator, on their phone ----------------------------------------------------
def test_mediator(walk, live_server, territory):  # noqa: F811
    cpts = territory["lievin"]
    mediator = MembershipFactory(cpts=cpts, role="cpam_mediator", profession="cpam").user
    since = timezone.now() - datetime.timedelta(days=20)
    request = RequestFactory(
        cpts=cpts,
        commune=territory["communes"]["Liévin"],
        status="waiting",
        coverage="none",
        needs_rights_help=True,
        waiting_since=since,
        created_at=since,
    )
    HouseholdMemberFactory(request=request, last_name="Droits", is_contact_person=True)
    request_recompute_priority(request=request)
    journey = walk("médiatrice CPAM", PHONE)
    page = journey.page
    _log_in(journey, live_server.url, mediator, cpts)
    worklist = reverse("intake_staff:rights_help", kwargs={"cpts_slug": cpts.slug})
    journey.click(
        page.get_by_role("link", name="Demandes « accès aux droits »"),
        to=re.compile(f"{worklist}$"),
    )
    row = page.locator(f'table[data-worklist] tr[data-reference="{request.reference}"]')
    journey.click(
        row.get_by_role("link", name=request.reference), to=re.compile(f"{request.reference}/$")
    )
    journey.check(page.get_by_label("droits ouverts"))
    journey.check(page.get_by_label("complémentaire santé solidaire (CSS)"))
    journey.click(page.get_by_role("button", name="Enregistrer"), to=re.compile(f"{worklist}$"))

    expect(page.get_by_text("Droits ouverts enregistrés")).to_be_visible()
    stored = Request.objects.get(pk=request.pk)
    assert not stored.needs_rights_help and stored.coverage == "css"
    assert [p.path for p in journey.pages] == [
        "/compte/connexion/",
        "/espace/lievin/",
        "/espace/lievin/acces-aux-droits/",
        "/espace/lievin/acces-aux-droits/<réf>/",
        "/espace/lievin/acces-aux-droits/",
    ]
    _ends_well(journey)
