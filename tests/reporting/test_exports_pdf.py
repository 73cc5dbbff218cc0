"""The PDFs: the yearly ACI report and the mairie's one-page commune sheet. Each is opened with
pypdf (page count, text) and turned into PNG images with `pdftoppm` (poppler-utils, installed by
`scripts/install_system_deps.sh`; skipped with the reason when absent outside CI). Set
ACCESMT_KEEP_PDF_IMAGES=<dir> to keep the images and look at them."""

import datetime
import io
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from accesmt.accounts.models import Role
from accesmt.reporting.models import ReportingSettings
from tests.accounts.factories import MembershipFactory
from tests.directory.factories import (
    AvailabilityDeclarationFactory,
    PracticeSiteFactory,
    PractitionerFactory,
)
from tests.intake.factories import HouseholdMemberFactory, RequestFactory
from tests.territory.factories import CommuneFactory, CPTSFactory, TerritoryCommuneFactory

pytestmark = pytest.mark.django_db
ZONE = timezone.get_current_timezone()
YEAR = {"periode": "aci", "debut": "2026-06-01"}  # 2026-04-01 → 2027-03-31


def at(year, month, day):
    return datetime.datetime(year, month, day, 10, tzinfo=ZONE)


@pytest.fixture
def cpts():
    cpts = CPTSFactory(name="CPTS du Val de Souchez")
    ReportingSettings.objects.create(cpts=cpts, aci_contract_start=datetime.date(2025, 4, 1))
    return cpts


@pytest.fixture
def commune(cpts):
    commune = CommuneFactory(name="Souchez-les-Prés", population=4800)
    TerritoryCommuneFactory(cpts=cpts, commune=commune)
    return commune


def household(cpts, commune, when, persons=1, **fields):
    request = RequestFactory(cpts=cpts, commune=commune, created_at=when, **fields)
    for _ in range(persons):
        HouseholdMemberFactory(request=request)
    return request


def get(client, cpts, role, name, query=YEAR, **kwargs):
    membership = MembershipFactory(cpts=cpts, role=role)
    client.force_login(membership.user)
    return client.get(
        reverse(f"reporting:{name}", kwargs={"cpts_slug": cpts.slug, **kwargs}), query
    )


def pdf_text(response) -> tuple[int, str]:
    assert response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    text = "\n".join(page.extract_text() for page in reader.pages)
    return len(reader.pages), " ".join(text.split())


def reader_pages(response):
    return PdfReader(io.BytesIO(response.content)).pages


def images_of(content: bytes, tmp_path: Path, name: str) -> list[Path]:
    """The pages as PNG (pdftoppm); copied to $ACCESMT_KEEP_PDF_IMAGES when set."""
    if shutil.which("pdftoppm") is None:
        message = (
            "pdftoppm introuvable : lancez `bash scripts/install_system_deps.sh` (poppler-utils)."
        )
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true : {message}")
        pytest.skip(message)
    source = tmp_path / f"{name}.pdf"
    source.write_bytes(content)
    subprocess.run(["pdftoppm", "-r", "60", "-png", str(source), str(tmp_path / name)], check=True)
    images = sorted(tmp_path.glob(f"{name}*.png"))
    keep = os.environ.get("ACCESMT_KEEP_PDF_IMAGES")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        for image in images:
            shutil.copy(image, keep)
    return images


@pytest.fixture
def registrations(cpts, commune):
    household(cpts, commune, at(2026, 4, 1), persons=3, is_priority=True, priority_rule_count=1)
    for day in range(1, 8):
        household(cpts, commune, at(2026, 5, day), persons=2, channel="phone")
    for _ in range(6):
        household(cpts, commune, at(2025, 6, 1))


def test_aci_report_pdf_has_a_title_page_the_sections_and_charts(
    client, cpts, registrations, tmp_path
):
    response = get(client, cpts, Role.COORDINATOR, "aci_report_pdf")
    assert response.status_code == 200
    assert 'filename="rapport-aci-' in response["Content-Disposition"]
    pages, text = pdf_text(response)
    assert len(images_of(response.content, tmp_path, "rapport-aci")) == pages
    # the title page alone, then each section from a new page
    first, second = (" ".join(page.extract_text().split()) for page in reader_pages(response)[:2])
    # (the contents list every indicator's title; no table starts on it)
    assert "Rapport annuel ACI" in first and "CPTS du Val de Souchez" in first
    assert "Contenu" in first and "période précédente" not in first
    assert "Demande Inscriptions de la période" in second
    assert "Rapport annuel ACI" in text
    assert "CPTS du Val de Souchez" in text
    assert "Année du contrat : année du contrat ACI, du 1er avril 2026 au 31 mars 2027" in text
    assert f"Produit le {timezone.localdate().day}" in text.replace("1er", "1")
    assert "Inscriptions par mois" in text
    assert "Foyers inscrits 8 6 33,3" in text  # French decimal comma
    assert "Personnes inscrites 17 6 183,3" in text
    assert "(année précédente)" in text
    assert "ne pas diffuser" in text  # the coordination's copy says it is not masked


def test_aci_report_pdf_is_masked_for_an_observer(client, cpts, registrations):
    _pages, text = pdf_text(get(client, cpts, Role.OBSERVER, "aci_report_pdf"))
    assert "Foyers prioritaires < 5 0 —" in text
    assert "Foyers inscrits 8 6 33,3" in text
    assert "Effectifs de 1 à 4 affichés « < 5 »" in text


@pytest.fixture
def offer(cpts, commune):
    """In the commune: 6 GPs present — 5 accepting (current declarations), 2 born 1960 and
    one with an age band of 65+ (so 3 aged 60+), 1 declaring a departure in a year; one GP
    gone from the directory and one in another commune, not counted."""
    year = timezone.localdate().year
    gps = [PractitionerFactory(birth_year=year - 45) for _ in range(3)]
    gps += [PractitionerFactory(birth_year=year - 66) for _ in range(2)]
    gps.append(PractitionerFactory(birth_year=None, age_band="65_plus"))
    for gp in gps:
        PracticeSiteFactory(practitioner=gp, commune=commune)
    for gp in gps[:5]:
        AvailabilityDeclarationFactory(practitioner=gp, cpts=cpts)
    AvailabilityDeclarationFactory(practitioner=gps[5], cpts=cpts, refusing=True)
    gps[3].declarations.update(
        planned_departure_date=timezone.localdate() + datetime.timedelta(days=365)
    )
    PracticeSiteFactory(practitioner=PractitionerFactory(gone=True), commune=commune)
    PracticeSiteFactory(commune=CommuneFactory())
    return gps


def test_commune_sheet_is_one_page_always_masked(client, cpts, commune, offer, tmp_path):
    household(cpts, commune, at(2026, 4, 1), persons=3, is_priority=True, priority_rule_count=1)
    for day in range(1, 7):
        household(cpts, commune, at(2026, 5, day), persons=1, status="waiting")
    household(cpts, commune, at(2026, 5, 9), persons=2, closed=True)
    household(cpts, CommuneFactory(), at(2026, 5, 9), persons=4)  # another commune
    response = get(client, cpts, Role.COORDINATOR, "commune_pdf", insee=commune.insee_code)
    assert response.status_code == 200
    pages, text = pdf_text(response)
    assert len(images_of(response.content, tmp_path, "commune")) == pages == 1
    assert "Souchez-les-Prés" in text and "CPTS du Val de Souchez" in text
    # need: 8 households, 11 persons registered this year (3 + 6 + 2); 7 open households
    # (3 + 6 persons, the 3 of a priority household), the closed one not waiting
    assert "Personnes inscrites 11 0" in text
    assert "Foyers inscrits 8 0" in text
    assert "Foyers prioritaires < 5 0 —" in text  # masked for the coordination too
    assert "Personnes en attente 9" in text
    assert "dont personnes de foyers prioritaires < 5" in text
    assert "Foyers en attente 7" in text
    # offer: 6 GPs, 5 accepting, 3 aged 60+ (masked), 1 departure (masked), 4 800 / 6 = 800
    assert "Médecins généralistes 6" in text
    assert "acceptant de nouveaux patients 5" in text
    assert "âgés de 60 ans ou plus < 5" in text
    assert "départs déclarés dans les 24 prochains mois < 5" in text
    assert "Habitants 4 800" in text
    assert "Habitants par médecin généraliste 800" in text


def test_commune_sheet_hides_the_ratio_over_few_gps(client, cpts, commune):
    PracticeSiteFactory(commune=commune)
    _pages, text = pdf_text(
        get(client, cpts, Role.OBSERVER, "commune_pdf", insee=commune.insee_code)
    )
    assert "Médecins généralistes < 5" in text
    assert "Habitants par médecin généraliste —" in text


def test_communes_page_lists_the_territory_with_links(client, cpts, commune):
    other = CommuneFactory()  # not in the territory
    response = get(client, cpts, Role.OBSERVER, "communes")
    assert response.status_code == 200
    body = response.content.decode()
    url = reverse(
        "reporting:commune_pdf", kwargs={"cpts_slug": cpts.slug, "insee": commune.insee_code}
    )
    assert f'href="{url}?periode=aci&amp;debut=2026-04-01"' in body
    assert "Souchez-les-Prés" in body
    assert other.name not in body
    missing = get(client, cpts, Role.OBSERVER, "commune_pdf", insee=other.insee_code)
    assert missing.status_code == 404


@pytest.mark.parametrize("role", [Role.REFERRER, Role.GP])
def test_other_roles_get_no_pdf(client, cpts, commune, role):
    assert get(client, cpts, role, "aci_report_pdf").status_code == 404
    assert get(client, cpts, role, "commune_pdf", insee=commune.insee_code).status_code == 404
