"""The public registration form on a phone (issue 13, point 2), in Chromium at 390 × 844.

The flyer promises "2 minutes": a script filling the form is not a person, so what is measured
is the layout: screens to scroll (page height / 844), fields shown, taps. One adult must fit in
three phone screens; the figures are printed (`pytest -s`). Household members are added and
removed in place with JavaScript, and by the server without it (the page lands on the new
person)."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from accesmt.intake.models import Request
from tests.directory.factories import PracticeSiteFactory, PractitionerFactory
from tests.intake.conftest import territory  # noqa: F401  (fixture)

from .conftest import PHONE

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("territory"),
]

DESKTOP = {"width": 1280, "height": 800}
# Visible fields of the form (radios and lists count once), its height in screens (to the bottom of
# the form), and the whole page's.
MEASURE = """() => {
  const form = document.querySelector('form[data-intake-form]');
  const names = new Set();
  form.querySelectorAll('input, select, textarea').forEach(el => {
    const shown = el.type !== 'hidden' && !el.closest('.honeypot') && el.checkVisibility();
    if (shown) names.add(el.name);
  });
  // The screens the person scrolls through to fill and send: down to the bottom of the form (the
  // CPTS's links and the footer below it are not part of filling it in).
  const height = Math.round(form.getBoundingClientRect().bottom + scrollY);
  const page = document.documentElement.scrollHeight;
  return {fields: names.size, height: height, screens: +(height / innerHeight).toFixed(2),
          page_screens: +(page / innerHeight).toFixed(2)};
}"""


def _open(browser, live_server, viewport=PHONE, **options):
    context = browser.new_context(viewport=viewport, locale="fr-FR", **options)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(live_server.url + reverse("intake:register", kwargs={"cpts_slug": "lievin"}))
    return context, page


def _birth(years: int) -> str:
    today = timezone.localdate()
    return datetime.date(today.year - years, 3, 14).isoformat()


class Taps:
    """Counts what the person does: one tap per field filled, box ticked, choice, button."""

    def __init__(self, page):
        self.page, self.count = page, 0

    def fill(self, locator, value):
        self.count += 1
        locator.fill(value)

    def check(self, locator):
        self.count += 1
        locator.check()

    def select(self, locator, value):
        self.count += 1
        locator.select_option(value)

    def click(self, locator):
        self.count += 1
        locator.click()


def _fill_contact_and_adult(page, taps):
    taps.fill(page.get_by_label("Téléphone"), "06 12 34 56 78")
    taps.fill(page.get_by_label("Adresse (numéro et rue)"), "8 rue de la Gare")
    taps.fill(page.get_by_label("Code postal"), "62143")  # Angres: one commune
    taps.fill(page.locator("[name='membres-0-first_name']"), "Marcelle")
    taps.fill(page.locator("[name='membres-0-last_name']"), "Téléphone")
    taps.fill(page.locator("[name='membres-0-birth_date']"), _birth(78))


def _fill_situation_and_consent(page, taps):
    taps.select(page.get_by_label("Pourquoi cherchez-vous un médecin traitant ?"), "mt_retired")
    taps.check(page.locator("input[name=consent_processing]"))
    taps.check(page.locator("input[name=consent_sharing]"))


def test_one_adult_fits_three_phone_screens_and_registers(live_server, browser):
    context, page = _open(browser, live_server, is_mobile=True)
    shown = page.evaluate(MEASURE)
    taps = Taps(page)
    _fill_contact_and_adult(page, taps)
    _fill_situation_and_consent(page, taps)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    taps.click(page.get_by_role("button", name="Envoyer ma demande"))
    page.wait_for_url(re.compile(r"/inscription/merci/$"))
    print(f"\none adult at 390 × 844: {shown}, {taps.count} taps")
    assert shown["screens"] <= 3
    assert Request.objects.get().members.get().first_name == "Marcelle"
    context.close()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390", "1280"])
def test_household_of_three_added_and_one_removed_without_reload(live_server, browser, viewport):
    context, page = _open(browser, live_server, viewport=viewport)
    navigations = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))
    taps = Taps(page)
    _fill_contact_and_adult(page, taps)
    add = page.get_by_role("button", name="Ajouter une personne du foyer")
    for number, first_name, years in ((2, "Lou", 4), (3, "Jules", 9)):
        taps.click(add)
        focused = page.evaluate("document.activeElement.name")
        assert focused == f"membres-{number - 1}-first_name"
        fieldset = page.locator(f"#personne-{number}")
        expect(fieldset.locator("> legend")).to_have_text(f"Personne {number} du foyer")
        # The household's name is there already; the person can change it.
        expect(fieldset.get_by_label("Nom", exact=True)).to_have_value("Téléphone")
        expect(page.locator("[data-members-status]")).to_contain_text(
            f"Personne {number} du foyer ajoutée"
        )
        taps.fill(page.locator(f"[name='membres-{number - 1}-first_name']"), first_name)
        taps.fill(page.locator(f"[name='membres-{number - 1}-birth_date']"), _birth(years))
    _fill_situation_and_consent(page, taps)
    shown = page.evaluate(MEASURE)
    print(f"\nhousehold of three at {viewport['width']}: {shown}, {taps.count + 1} taps")
    assert navigations == []  # no page load: everything typed stays
    expect(page.locator("input[name=membres-TOTAL_FORMS]")).to_have_value("3")

    # Lou is not looking for a GP after all: remove person 2, Jules becomes person 2.
    page.get_by_role("button", name="Retirer la personne 2").click()
    expect(page.locator("[data-member]")).to_have_count(2)
    expect(page.locator("input[name=membres-TOTAL_FORMS]")).to_have_value("2")
    expect(page.locator("#personne-2 > legend")).to_have_text("Personne 2 du foyer")
    expect(page.locator("[name='membres-1-first_name']")).to_have_value("Jules")
    expect(page.get_by_role("button", name="Retirer la personne 2")).to_be_visible()
    assert page.evaluate("document.activeElement.dataset.addMember") is not None
    assert navigations == []

    page.get_by_role("button", name="Envoyer ma demande").click()
    page.wait_for_url(re.compile(r"/inscription/merci/$"))
    stored = Request.objects.get()
    assert sorted(stored.members.values_list("first_name", "last_name")) == [
        ("Jules", "Téléphone"),
        ("Marcelle", "Téléphone"),
    ]
    context.close()


def test_precisez_only_for_another_reason(live_server, browser):
    context, page = _open(browser, live_server)
    reason = page.get_by_label("Pourquoi cherchez-vous un médecin traitant ?")
    precisez = page.get_by_label("Précisez la raison")
    rights_help = page.locator("input[name=needs_rights_help]")
    expect(precisez).to_be_hidden()
    expect(rights_help).to_be_hidden()
    reason.select_option("other")
    expect(precisez).to_be_visible()
    precisez.fill("Mon médecin a déménagé")
    reason.select_option("moved_in")
    expect(precisez).to_be_hidden()
    # Help with one's rights is asked when the coverage calls for it.
    page.get_by_label("Couverture sociale").select_option("ame")
    expect(rights_help).to_be_visible()
    context.close()


def test_errors_are_summarised_with_links_that_move_the_focus(live_server, browser):
    context, page = _open(browser, live_server)
    page.locator("[name='membres-0-last_name']").fill("Oubli")
    page.get_by_label("Pourquoi cherchez-vous un médecin traitant ?").select_option("other")
    page.get_by_role("button", name="Envoyer ma demande").click()
    page.wait_for_load_state()
    summary = page.locator(".error-summary")
    assert page.evaluate("document.activeElement.classList.contains('error-summary')")
    expect(summary.get_by_role("heading")).to_contain_text("points à corriger")
    summary.get_by_role("link", name=re.compile("^Personne 1 — Prénom")).click()
    assert page.evaluate("document.activeElement.name") == "membres-0-first_name"
    first_name = page.locator("[name='membres-0-first_name']")
    expect(first_name).to_have_attribute("aria-invalid", "true")
    expect(first_name).to_have_attribute("aria-describedby", "id_membres-0-first_name-error")
    summary.get_by_role("link", name=re.compile("^Précisez la raison")).click()
    assert page.evaluate("document.activeElement.name") == "reason_other"
    expect(page.get_by_label("Précisez la raison")).to_be_visible()
    expect(page.locator("[name='membres-0-last_name']")).to_have_value("Oubli")
    context.close()


def test_without_javascript_adding_a_person_lands_on_them(live_server, browser):
    context, page = _open(browser, live_server, is_mobile=True, java_script_enabled=False)
    # Without JavaScript every follow-on question is shown: nothing is out of reach.
    expect(page.get_by_label("Précisez la raison")).to_be_visible()
    taps = Taps(page)
    _fill_contact_and_adult(page, taps)
    page.get_by_role("button", name="Ajouter une personne du foyer").click()
    page.wait_for_url(re.compile(r"#id_membres-1-first_name$"))
    first_name = page.locator("[name='membres-1-first_name']")
    expect(first_name).to_be_focused()
    expect(first_name).to_be_in_viewport()
    expect(page.locator("[name='membres-0-first_name']")).to_have_value("Marcelle")
    expect(page.locator("[name='membres-1-last_name']")).to_have_value("Téléphone")

    # Removing the person works too, then the registration goes through with one person.
    page.get_by_role("button", name="Retirer la personne 2").click()
    page.wait_for_url(re.compile(r"#personnes$"))
    expect(page.locator("[data-member]")).to_have_count(1)
    _fill_situation_and_consent(page, taps)
    page.get_by_role("button", name="Envoyer ma demande").click()
    page.wait_for_url(re.compile(r"/inscription/merci/$"))
    assert Request.objects.get().members.count() == 1
    context.close()


def test_without_javascript_the_list_of_gps_comes_with_a_button(live_server, browser, territory):  # noqa: F811
    # Up to 2,000 GPs in a large CPTS: the list is not in the page until asked for.
    gp = PractitionerFactory(first_name="Paul", last_name="HABITUEL")
    PracticeSiteFactory(practitioner=gp, commune=territory["communes"]["Liévin"])
    context, page = _open(browser, live_server, is_mobile=True, java_script_enabled=False)
    taps = Taps(page)
    _fill_contact_and_adult(page, taps)
    expect(page.locator("select[name=usual_gp_rpps]")).to_have_count(0)
    page.get_by_text("Préciser la situation (facultatif)").click()
    page.get_by_role("button", name="Choisir dans la liste des médecins du territoire").click()
    page.wait_for_url(re.compile(r"#id_usual_gp_rpps$"))
    gps = page.get_by_label(
        "Médecin que vous consultez déjà (dans la liste des médecins du territoire)"
    )
    expect(gps).to_be_focused()
    # the page lands on the question, not below it: its legend and the list both on screen
    expect(page.get_by_text("Médecin consulté habituellement (facultatif)")).to_be_in_viewport()
    expect(gps).to_be_in_viewport()
    expect(page.locator("[name='membres-0-first_name']")).to_have_value("Marcelle")
    gps.select_option(gp.rpps)
    _fill_situation_and_consent(page, taps)
    page.get_by_role("button", name="Envoyer ma demande").click()
    page.wait_for_url(re.compile(r"/inscription/merci/$"))
    assert Request.objects.get().usual_gp_rpps == gp.rpps
    context.close()
