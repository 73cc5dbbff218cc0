"""Planned departures (date, certain or probable, full or partial) on the declaration, and planned
installations recorded by the coordination (issue 11): HTTP flows and the data migration."""

import datetime
import importlib

import pytest
from django.apps import apps
from django.urls import reverse

from accesmt.accounts.models import AuditLog, Role
from accesmt.directory.models import AvailabilityDeclaration, PlannedInstallation
from tests.accounts.factories import MembershipFactory

from .factories import AvailabilityDeclarationFactory, PracticeSiteFactory

pytestmark = pytest.mark.django_db

VALID = {"accepting": "no", "listing": "public"}


@pytest.fixture
def gp_site(cpts, communes):
    site = PracticeSiteFactory(commune=communes["lievin"], practitioner__last_name="DEPART")
    site.practitioner.email = "dr.depart@exemple.fr"
    site.practitioner.save()
    return site


@pytest.fixture
def coordinator(client, cpts):
    client.force_login(MembershipFactory(cpts=cpts, role=Role.COORDINATOR).user)
    return client


def declaration_url(cpts, practitioner):
    return reverse(
        "directory:coordinator_declaration", kwargs={"cpts_slug": cpts.slug, "pk": practitioner.pk}
    )


def test_the_gp_declares_a_partial_probable_departure_on_their_own_page(client, cpts, gp_site):
    user = MembershipFactory(cpts=cpts, role=Role.GP, user__email="dr.depart@exemple.fr").user
    client.force_login(user)
    url = reverse("directory:my_declaration", kwargs={"cpts_slug": cpts.slug})
    response = client.post(
        url,
        VALID
        | {
            "planned_departure_date": "2028-06-30",
            "departure_certainty": "probable",
            "departure_scope": "partial",
            "approx_patient_count": "1200",
        },
    )
    assert response.status_code == 302
    declaration = AvailabilityDeclaration.objects.get()
    assert declaration.planned_departure_date == datetime.date(2028, 6, 30)
    assert (declaration.departure_certainty, declaration.departure_scope) == ("probable", "partial")
    assert declaration.departure_share == 0.5
    # The next visit starts from it.
    page = client.get(url)
    assert page.context["form"].initial["departure_scope"] == "partial"


def test_coordinator_records_a_departure_and_sees_it_in_the_directory(coordinator, cpts, gp_site):
    response = coordinator.post(
        declaration_url(cpts, gp_site.practitioner),
        VALID
        | {
            "planned_departure_date": "2030-03-31",
            "departure_certainty": "certain",
            "departure_scope": "full",
            "approx_patient_count": "900",
        },
    )
    assert response.status_code == 302
    page = coordinator.get(
        reverse("directory:coordinator_directory", kwargs={"cpts_slug": cpts.slug})
    )
    body = page.content.decode()
    assert "31 mars 2030 (certain, cessation complète, environ 900 patients)" in body


def test_details_without_a_date_are_refused_next_to_the_field(coordinator, cpts, gp_site):
    response = coordinator.post(
        declaration_url(cpts, gp_site.practitioner), VALID | {"departure_certainty": "certain"}
    )
    assert response.status_code == 400
    assert "Indiquez la date prévue de départ" in response.content.decode()
    assert not AvailabilityDeclaration.objects.exists()


def test_a_date_alone_is_a_probable_full_departure(coordinator, cpts, gp_site):
    coordinator.post(
        declaration_url(cpts, gp_site.practitioner),
        VALID | {"planned_departure_date": "2029-01-31"},
    )
    declaration = AvailabilityDeclaration.objects.get()
    assert (declaration.departure_certainty, declaration.departure_scope) == ("probable", "full")


def test_coordinator_records_corrects_and_removes_an_installation(coordinator, cpts, communes):
    new_url = reverse("directory:installation_create", kwargs={"cpts_slug": cpts.slug})
    data = {
        "name": "Dr Jeanne Nouvelle",
        "kind": "new_practice",
        "practice_label": "MSP des Terrils",
        "date": "2027-09-01",
        "communes": [communes["lievin"].pk, communes["avion"].pk],
        "monthly_capacity": "15",
        "certainty": "certain",
    }
    response = coordinator.post(new_url, data)
    assert response.status_code == 302
    installation = PlannedInstallation.objects.get()
    assert installation.cpts == cpts
    assert {c.pk for c in installation.communes.all()} == {"62510", "62065"}
    assert AuditLog.objects.filter(object_id=str(installation.pk), action="create").exists()

    listing = coordinator.get(
        reverse("directory:installation_list", kwargs={"cpts_slug": cpts.slug})
    )
    assert "Dr Jeanne Nouvelle" in listing.content.decode()
    directory = coordinator.get(
        reverse("directory:coordinator_directory", kwargs={"cpts_slug": cpts.slug})
    )
    assert "Dr Jeanne Nouvelle" in directory.content.decode()

    edit_url = reverse(
        "directory:installation_edit", kwargs={"cpts_slug": cpts.slug, "pk": installation.pk}
    )
    assert coordinator.get(edit_url).context["form"].initial["monthly_capacity"] == 15
    coordinator.post(edit_url, data | {"monthly_capacity": "20", "certainty": "probable"})
    installation.refresh_from_db()
    assert (installation.monthly_capacity, installation.certainty) == (20, "probable")

    remove_url = reverse(
        "directory:installation_remove", kwargs={"cpts_slug": cpts.slug, "pk": installation.pk}
    )
    assert coordinator.post(remove_url).status_code == 302
    assert not PlannedInstallation.objects.exists()


def test_an_installation_needs_a_gp_and_communes_of_the_territory(coordinator, cpts, communes):
    url = reverse("directory:installation_create", kwargs={"cpts_slug": cpts.slug})
    response = coordinator.post(
        url,
        {"kind": "joining", "date": "2027-09-01", "monthly_capacity": "5", "certainty": "certain",
         "communes": [communes["lille"].pk]},
    )  # fmt: skip
    assert response.status_code == 400
    body = response.content.decode()
    assert "Choisissez un médecin de l&#x27;annuaire ou saisissez son nom." in body
    assert "Choisissez des communes du territoire de la CPTS." in body  # Lille is not
    assert not PlannedInstallation.objects.exists()


def test_the_migration_makes_existing_dates_probable_full_departures(cpts, gp_site):
    migration = importlib.import_module(
        "accesmt.directory.migrations.0007_departures_installations"
    )
    with_date = AvailabilityDeclarationFactory(
        practitioner=gp_site.practitioner,
        cpts=cpts,
        planned_departure_date=datetime.date(2028, 1, 1),
    )
    without = AvailabilityDeclarationFactory(practitioner=gp_site.practitioner, cpts=cpts)
    migration.existing_dates_become_departures(apps, None)
    with_date.refresh_from_db()
    without.refresh_from_db()
    assert (with_date.departure_certainty, with_date.departure_scope) == ("probable", "full")
    assert (without.departure_certainty, without.departure_scope) == ("", "")
