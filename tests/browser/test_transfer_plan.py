"""A transfer plan walked from its creation to its last month in a real browser (issue 11), at
phone width (390) and on a desktop (1280): the coordinator opens a plan for a departing GP (two
months before the departure), adds two receiving GPs with one transfer a month each, imports
the practice's small file (preview, the consent box ticked, confirm), computes the allocation,
asks the GPs of the first month; each GP accepts by their signed link, each person chooses on
their follow-up link; the same for the second month; the plan page then shows every month done
and nothing left; at the departure date the release job ends the plan (nothing to put into the
queue)."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from accesmt.intake.models import ClosedReason, Request, Status
from accesmt.intake.services import followup_path
from accesmt.orientation.models import (
    Origin,
    Placement,
    Solicitation,
    SolicitationStatus,
    TransferPlan,
    TransferPlanStatus,
)
from accesmt.orientation.services import solicitation_token
from accesmt.orientation.transfers.services import transfer_plans_release_due
from tests.accounts.factories import PASSWORD, MembershipFactory
from tests.intake.conftest import territory  # noqa: F401  (fixture)
from tests.worlds import gp_at, point_at

from .conftest import PHONE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
DESKTOP = {"width": 1280, "height": 900}
CSV = (
    "foyer;nom;prénom;date de naissance;sexe;adresse;code postal;commune;téléphone;e-mail;ALD;"
    "visites à domicile\r\n"
    "F1;Martin;Jeanne;17/05/1948;F;12 rue des Lilas;62800;Liévin;06 12 34 56 78;;oui;non\r\n"
    "F2;Durand;Léa;01/01/1990;F;3 rue Basse;62800;Liévin;06 22 33 44 55;;non;non\r\n"
    "F3;Petit;Marc;05/06/1985;M;4 place Haute;62800;Liévin;06 11 22 33 44;;non;non\r\n"
).encode()


@pytest.fixture(autouse=True)
def _pending_dir(settings, tmp_path):
    settings.CPAM_PENDING_DIR = tmp_path / "pending"


def _session(browser, viewport):
    context = browser.new_context(viewport=viewport, locale="fr-FR", is_mobile=viewport is PHONE)
    page = context.new_page()
    page.set_default_timeout(15_000)
    return context, page


def _fits(page, viewport):
    if viewport is PHONE:  # nothing wider than the phone screen
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def _month_cells(page, month: datetime.date) -> list[str]:
    row = page.locator(f'table[data-months] tr[data-month="{month.isoformat()}"] td')
    return [cell.strip() for cell in row.all_inner_texts()]


def _month_done(browser, viewport, base, plan, month: datetime.date, expected: int) -> None:
    """Each GP asked about a household of `month` accepts by their signed link; each person
    chooses that GP on their follow-up link."""
    asked = list(
        Solicitation.objects.filter(
            request__transfer_household__plan=plan,
            request__transfer_household__month=month,
            origin=Origin.TRANSFER,
            status=SolicitationStatus.PENDING,
        ).order_by("pk")
    )
    assert len(asked) == expected
    for solicitation in asked:
        context, gp = _session(browser, viewport)
        gp.goto(
            base + reverse("orientation:answer", kwargs={"token": solicitation_token(solicitation)})
        )
        expect(gp.get_by_role("heading", level=1)).to_have_text(
            "Pouvez-vous accueillir ce foyer comme nouveau patient ?"
        )
        assert "Martin" not in gp.content() and "Durand" not in gp.content()
        _fits(gp, viewport)
        gp.get_by_role("button", name="J'accepte ce foyer").click()
        expect(gp.get_by_text("Merci : vous avez accepté ce foyer.")).to_be_visible()
        context.close()

        request = Request.objects.get(pk=solicitation.request_id)
        assert request.status == Status.AWAITING_CHOICE
        context, person = _session(browser, viewport)
        person.goto(base + followup_path(request))
        person.get_by_role("link", name="Voir les médecins et indiquer mon choix").click()
        person.wait_for_url(re.compile(r"/choix/$"))
        person.get_by_role("radio").first.check()
        _fits(person, viewport)
        person.get_by_role("button", name="Enregistrer mon choix").click()
        expect(person.get_by_text("Merci ! Votre choix est enregistré.")).to_be_visible()
        context.close()
        placement = Placement.objects.get(request=request)
        assert placement.practitioner_id == solicitation.practitioner_id


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_a_transfer_plan_from_its_creation_to_its_last_month(
    live_server,
    browser,
    viewport,
    territory,  # noqa: F811
):
    cpts = territory["lievin"]
    lievin = territory["communes"]["Liévin"]
    lievin.latitude, lievin.longitude = point_at(0, 0)  # where gp_at puts the GPs
    lievin.save()
    departing = gp_at(cpts, lievin, capacity=0).practitioner
    receivers = [gp_at(cpts, lievin, north=km, capacity=4).practitioner for km in (1, 3)]
    coordinator = MembershipFactory(cpts=cpts, role="coordinator").user
    base = live_server.url
    today = timezone.localdate()
    first = today.replace(day=1)
    second = (first + datetime.timedelta(days=32)).replace(day=1)
    departure = (second + datetime.timedelta(days=32)).replace(day=1)  # two months: this and next

    # 1. The coordinator opens a plan for the departing GP.
    context, page = _session(browser, viewport)
    plans = reverse("orientation:transfer_plans", kwargs={"cpts_slug": cpts.slug})
    page.goto(base + plans)
    page.wait_for_url(re.compile(r"/compte/"))
    page.get_by_label("Adresse e-mail").fill(coordinator.email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name=re.compile("connecter", re.IGNORECASE)).click()
    page.wait_for_url(re.compile(re.escape(plans)))
    page.get_by_label("Médecin qui part").select_option(str(departing.pk))
    page.get_by_label("Date de départ").fill(departure.isoformat())
    page.get_by_label("Éviter les transferts en juillet et en août").uncheck()
    _fits(page, viewport)
    page.get_by_role("button", name=re.compile("Ouvrir", re.IGNORECASE)).click()
    expect(page.get_by_text("Plan de transfert ouvert.")).to_be_visible()
    plan = TransferPlan.objects.get()
    assert plan.practitioner == departing and plan.departure_date == departure
    plan_url = page.url

    # 2. Two receiving GPs, one transfer a month each.
    for receiver in receivers:
        page.get_by_label("Médecin receveur").select_option(str(receiver.pk))
        page.get_by_label("Patients transférés par mois").fill("1")
        page.get_by_role("button", name="Enregistrer").click()
        expect(page.get_by_text("Médecin receveur enregistré.")).to_be_visible()
    assert plan.receivers.count() == 2

    # 3. The practice's file: preview (nothing written), the consent box, confirm.
    page.get_by_role("link", name="Importer les patients du cabinet (fichier CSV)").click()
    page.get_by_label("Fichier des patients (CSV)").set_input_files(
        files=[{"name": "patients.csv", "mimeType": "text/csv", "buffer": CSV}]
    )
    page.get_by_role("button", name="Vérifier le fichier (aperçu)").click()
    expect(page.get_by_role("button", name="Confirmer l'import")).to_be_visible()
    assert not Request.objects.exists()
    _fits(page, viewport)
    page.get_by_role("button", name="Confirmer l'import").click()
    expect(page.get_by_text("Cochez cette case pour confirmer l'import.").first).to_be_visible()
    assert not Request.objects.exists()
    page.get_by_label(re.compile("Le cabinet a remis la lettre")).check()
    page.get_by_role("button", name="Confirmer l'import").click()
    # the import is a background operation: its progress page, then the plan
    expect(page.get_by_text("Import terminé : 3 foyer(s), 3 personne(s).")).to_be_visible()
    assert Request.objects.filter(held_for_transfer=True, status=Status.WAITING).count() == 3
    page.get_by_role("link", name="Voir le résultat").click()

    # 4. The allocation: two households this month (one per receiver), one the next.
    page.get_by_role("button", name="Calculer la répartition sur les mois").click()
    expect(
        page.get_by_text(re.compile(r"Répartition calculée sur 2 mois : 3 foyer"))
    ).to_be_visible()
    assert _month_cells(page, first)[:2] == ["2", "0"]
    assert _month_cells(page, second)[:2] == ["1", "0"]
    _fits(page, viewport)

    # 5. Month after month: asked, accepted by signed link, chosen by the person.
    for month, expected in ((first, 2), (second, 1)):
        page.get_by_label("Mois à proposer aux médecins receveurs").select_option(month.isoformat())
        page.get_by_role("button", name="Solliciter les médecins de ce mois").click()
        expect(page.get_by_text(f"{expected} foyer(s) proposé(s)")).to_be_visible()
        assert _month_cells(page, month) == [str(expected), "0", str(expected), "0", str(expected)]
        _month_done(browser, viewport, base, plan, month, expected)
        page.goto(plan_url)
        assert _month_cells(page, month) == [str(expected), str(expected), "0", "0", "0"]

    # 6. Every month done, nothing left.
    for month, expected in ((first, 2), (second, 1)):
        assert _month_cells(page, month) == [str(expected), str(expected), "0", "0", "0"]
    assert page.locator('table[data-months] tr[data-month="none"]').count() == 0
    assert not Request.objects.exclude(status=Status.CLOSED).exists()
    assert set(Request.objects.values_list("closed_reason", flat=True)) == {ClosedReason.MT_FOUND}
    _fits(page, viewport)

    # 7. At the departure date the release job ends the plan: nothing went into the queue.
    at_departure = timezone.make_aware(datetime.datetime.combine(departure, datetime.time(9)))
    transfer_plans_release_due(now=at_departure)
    assert not Request.objects.filter(status=Status.WAITING).exists()  # nothing for the queue
    page.goto(plan_url)
    expect(page.locator("[data-plan-summary]")).to_contain_text("terminé")
    plan.refresh_from_db()
    assert plan.status == TransferPlanStatus.RELEASED
    context.close()
