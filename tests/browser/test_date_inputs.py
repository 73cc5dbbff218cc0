"""Every form with a date input, opened pre-filled in Chromium and saved unchanged, keeps every
value (issue #8, point 1: a date rendered 20/05/2028 in an `<input type="date">` was shown empty
by the browser and the saved copy lost it).

The forms with a date input (tests/core/test_date_inputs.py lists them from the code): the
availability declaration (coordinator's page, GP's own page, survey link) and the members of a
request (coordinator's edit page; the public intake form, which starts empty, is re-rendered
filled by "Ajouter une personne du foyer")."""

import datetime
import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from accesmt.directory.forms import DeclarationForm
from accesmt.directory.models import AvailabilityDeclaration, DeclarationSource
from accesmt.directory.services import declaration_create
from accesmt.directory.survey import invitation_token, survey_campaign_launch
from accesmt.intake.forms import HouseholdForm, MemberForm
from accesmt.intake.models import HouseholdMember, Request
from tests.accounts.factories import PASSWORD, MembershipFactory
from tests.directory.factories import PracticeSiteFactory
from tests.intake.conftest import territory  # noqa: F401  (fixture)
from tests.intake_staff.conftest import make_request

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DECLARED = {
    "accepting": "yes",
    "monthly_capacity": 4,
    "accepts_children_under_6": True,
    "accepts_aged_70_plus": False,
    "accepts_ald": True,
    "accepts_css_ame": True,
    "accepts_home_visits": True,
    "accepts_households": False,
    "home_visit_radius_km": 7,
    "listing": "professionals",
    "planned_departure_date": datetime.date(2028, 5, 20),
    "approx_patient_count": 1450,
}
# The remarks are a one-off message to the coordination: the form starts them empty on purpose.
DECLARATION_FIELDS = [name for name in DeclarationForm.base_fields if name != "remarks"]


def _log_in(page, url: str, email: str) -> None:
    page.goto(url)
    page.wait_for_url(re.compile(r"/compte/"))
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name=re.compile("connecter", re.IGNORECASE)).click()
    page.wait_for_url(re.compile(re.escape(url)))


def _declaration_values(practitioner) -> dict:
    current = AvailabilityDeclaration.objects.current().get(practitioner=practitioner)
    return {name: getattr(current, name) for name in DECLARATION_FIELDS}


def _request_values(request) -> dict:
    request = Request.objects.get(pk=request.pk)
    household = {
        name: getattr(request, name)
        for name in HouseholdForm.base_fields
        if hasattr(Request, name) and name not in ("email",)
    } | {"email": request.email, "phone": request.phone, "commune": request.commune_id}
    member_fields = [name for name in MemberForm.base_fields if hasattr(HouseholdMember, name)]
    members = [
        {name: getattr(member, name) for name in member_fields}
        for member in request.members.order_by("position")
    ]
    return {"household": household, "members": members}


def test_every_date_form_saved_unchanged_keeps_every_value(live_server, browser, territory):  # noqa: F811
    cpts = territory["lievin"]
    site = PracticeSiteFactory(commune=territory["communes"]["Liévin"])
    gp = site.practitioner
    gp.email = "dr.martin@exemple.fr"
    gp.save()
    declaration_create(practitioner=gp, cpts=cpts, source=DeclarationSource.COORDINATOR, **DECLARED)
    expected = _declaration_values(gp)
    assert expected["planned_departure_date"] == datetime.date(2028, 5, 20)
    invitation = survey_campaign_launch(cpts=cpts, title="Enquête").invitations.get()
    coordinator = MembershipFactory(cpts=cpts, role="coordinator").user
    gp_user = MembershipFactory(cpts=cpts, role="gp", user__email=gp.email).user
    request = make_request(
        cpts,
        commune=territory["communes"]["Liévin"],
        members=2,
        birth_date=datetime.date(1948, 5, 17),
    )
    before = _request_values(request)

    declaration_pages = [
        (
            coordinator.email,
            reverse(
                "directory:coordinator_declaration", kwargs={"cpts_slug": cpts.slug, "pk": gp.pk}
            ),
        ),
        (gp_user.email, reverse("directory:my_declaration", kwargs={"cpts_slug": cpts.slug})),
        (None, reverse("directory:survey_answer", kwargs={"token": invitation_token(invitation)})),
    ]
    for email, path in declaration_pages:
        context = browser.new_context(locale="fr-FR")
        try:
            page = context.new_page()
            page.set_default_timeout(15_000)
            if email:
                _log_in(page, live_server.url + path, email)
            else:
                page.goto(live_server.url + path)
            date_input = page.locator('input[name="planned_departure_date"]')
            expect(date_input).to_have_value("2028-05-20")
            saved = AvailabilityDeclaration.objects.count()
            page.get_by_role("button", name="Enregistrer", exact=True).click()
            page.wait_for_load_state()
            expect(page.locator(".errorlist")).to_have_count(0)
            assert AvailabilityDeclaration.objects.count() == saved + 1, path
            assert _declaration_values(gp) == expected, path
        finally:
            context.close()

    context = browser.new_context(locale="fr-FR")
    try:
        page = context.new_page()
        page.set_default_timeout(15_000)
        path = reverse(
            "intake_staff:request_edit",
            kwargs={"cpts_slug": cpts.slug, "reference": request.reference},
        )
        _log_in(page, live_server.url + path, coordinator.email)
        expect(page.locator('input[name="membres-0-birth_date"]')).to_have_value("1948-05-17")
        page.get_by_role("button", name="Enregistrer les modifications").click()
        page.wait_for_url(re.compile(r"/demandes/[^/]+/$"))
        assert _request_values(request) == before
    finally:
        context.close()

    # The public form re-rendered with what was typed ("Ajouter une personne du foyer"), then sent.
    context = browser.new_context(locale="fr-FR")
    try:
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto(live_server.url + reverse("intake:register", kwargs={"cpts_slug": cpts.slug}))
        page.get_by_label("Téléphone").fill("06 12 34 56 78")
        page.get_by_label("Adresse (numéro et rue)").fill("8 rue de la Gare")
        page.get_by_label("Code postal").fill("62143")  # Angres: one commune
        page.locator('input[name="membres-0-first_name"]').fill("Marcelle")
        page.locator('input[name="membres-0-last_name"]').fill("Datefixe")
        page.locator('input[name="membres-0-birth_date"]').fill("1948-05-17")
        page.get_by_role("button", name="Ajouter une personne du foyer").click()
        page.wait_for_load_state()
        expect(page.locator('input[name="membres-0-birth_date"]')).to_have_value("1948-05-17")
        expect(page.locator('input[name="membres-1-birth_date"]')).to_have_value("")
        page.get_by_label("Pourquoi cherchez-vous un médecin traitant ?").select_option(
            "mt_retired"
        )
        page.locator("input[name=consent_processing]").check()
        page.locator("input[name=consent_sharing]").check()
        page.get_by_role("button", name="Envoyer ma demande").click()
        page.wait_for_url(re.compile(r"/inscription/merci/$"))
        member = HouseholdMember.objects.get(last_name="Datefixe")
        assert member.birth_date == datetime.date(1948, 5, 17)
        assert member.request.members.count() == 1
    finally:
        context.close()
