import re

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accesmt.territory.models import CPTS, TerritoryCommune
from tests.accounts.factories import UserFactory

from .factories import CommuneFactory, CPTSFactory

pytestmark = pytest.mark.django_db

ADD_URL = "/admin/territory/cpts/add/"


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(platform_admin=True))
    return client


@pytest.fixture
def communes():
    return [
        CommuneFactory(insee_code="62510", name="Liévin", latitude=50.42, longitude=2.78,
                       population=30063, postcodes=["62800"]),
        CommuneFactory(insee_code="62498", name="Lens", latitude=50.433, longitude=2.828,
                       population=32920, postcodes=["62300"]),
        CommuneFactory(insee_code="62041", name="Arras", latitude=50.293, longitude=2.782,
                       population=42875, postcodes=["62000"]),
    ]  # fmt: skip


def form_data(**overrides):
    data = {
        "name": "CPTS de Liévin",
        "slug": "cpts-lievin",
        "phone": "",
        "email": "",
        "website": "",
        "is_active": "on",
        "insee_codes": "",
        "departement": "",
        "center_insee": "",
        "radius_km": "",
        "territory-TOTAL_FORMS": "0",
        "territory-INITIAL_FORMS": "0",
        "territory-MIN_NUM_FORMS": "0",
        "territory-MAX_NUM_FORMS": "1000",
    }
    data.update(overrides)
    return data


def field_error(html: str, field: str) -> str:
    """The text of the error list the admin renders for a field (tied to it by its id)."""
    match = re.search(rf'<ul class="errorlist" id="id_{field}_error">(.*?)</ul>', html, re.S)
    assert match, f"no error list for {field}"
    return re.sub(r"<[^>]+>", "", match.group(1)).strip()


def test_admin_creates_a_cpts_by_radius_and_shows_its_summary(admin_client, communes):
    response = admin_client.post(
        ADD_URL, form_data(center_insee="62510", radius_km="5"), follow=True
    )
    assert response.status_code == 200
    cpts = CPTS.objects.get(slug="cpts-lievin")
    assert sorted(cpts.communes.values_list("insee_code", flat=True)) == ["62498", "62510"]
    assert "2 commune(s) ajoutée(s)" in response.content.decode()
    page = admin_client.get(f"/admin/territory/cpts/{cpts.pk}/change/").content.decode()
    assert "2 communes, 62\u202f983 habitants" in page
    assert "Lens (62498)" in page
    listing = admin_client.get("/admin/territory/cpts/").content.decode()
    assert "62983" in listing or "62\u202f983" in listing or "62 983" in listing


def test_admin_shows_unknown_codes_next_to_the_field(admin_client, communes):
    response = admin_client.post(ADD_URL, form_data(insee_codes="62510\n99999\n1234"))
    assert response.status_code == 200
    html = response.content.decode()
    assert field_error(html, "insee_codes") == ("Codes INSEE inconnus : 99999, 01234.")
    assert (
        'aria-invalid="true" aria-describedby="id_insee_codes_helptext id_insee_codes_error"'
        in html
    )
    assert not CPTS.objects.exists()


def test_admin_refuses_an_overlapping_extension(admin_client, communes):
    lens = CPTSFactory(name="CPTS de Lens")
    TerritoryCommune.objects.create(cpts=lens, commune=communes[1])
    cpts = CPTSFactory(name="CPTS de Liévin", slug="cpts-lievin")
    response = admin_client.post(
        f"/admin/territory/cpts/{cpts.pk}/change/",
        form_data(departement="62"),
    )
    assert response.status_code == 200
    assert "62498 (CPTS de Lens)" in field_error(response.content.decode(), "departement")
    assert not cpts.communes.exists()


def test_admin_radius_errors_are_next_to_their_fields(admin_client, communes):
    response = admin_client.post(ADD_URL, form_data(center_insee="62510"))
    assert field_error(response.content.decode(), "radius_km") == "Indiquez le rayon en kilomètres."
    response = admin_client.post(ADD_URL, form_data(center_insee="99999", radius_km="3"))
    assert (
        field_error(response.content.decode(), "center_insee") == "Code INSEE inconnu : « 99999 »."
    )


def test_admin_removes_a_commune_through_the_inline(admin_client, communes):
    cpts = CPTSFactory(slug="cpts-lievin")
    link = TerritoryCommune.objects.create(cpts=cpts, commune=communes[0])
    data = form_data(name=cpts.name)
    data.update(
        {
            "territory-TOTAL_FORMS": "1",
            "territory-INITIAL_FORMS": "1",
            "territory-0-id": str(link.pk),
            "territory-0-cpts": str(cpts.pk),
            "territory-0-DELETE": "on",
        }
    )
    response = admin_client.post(f"/admin/territory/cpts/{cpts.pk}/change/", data)
    assert response.status_code == 302
    assert not cpts.communes.exists()


def test_commune_admin_is_read_only_and_searchable(admin_client, communes):
    response = admin_client.get("/admin/territory/commune/?q=62800")
    html = response.content.decode()
    assert "Liévin" in html and "Arras" not in html
    assert admin_client.get("/admin/territory/commune/add/").status_code == 403
    page = admin_client.get("/admin/territory/commune/62510/change/").content.decode()
    assert 'name="name"' not in page  # view only
    assert admin_client.post("/admin/territory/commune/62510/delete/").status_code == 403


def test_create_cpts_command(communes, capsys):
    call_command("create_cpts", name="CPTS Liévin", slug="lievin", center="62510", radius=5)
    assert "2 communes, 62983 habitants" in capsys.readouterr().out
    with pytest.raises(CommandError, match="62498 \\(CPTS Liévin\\)"):
        call_command("create_cpts", name="CPTS Lens", slug="lens", insee="62498,62041")
    call_command("create_cpts", name="CPTS Arras", slug="arras", insee="62041")
    assert CPTS.objects.get(slug="arras").communes.get().name == "Arras"
