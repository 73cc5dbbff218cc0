"""Public and professional lists of GPs taking new patients (HTML and JSON)."""

import pytest
from django.urls import reverse

from tests.accounts.factories import MembershipFactory

from .factories import AvailabilityDeclarationFactory, PracticeSiteFactory

CAPACITY = 37


def _gp(cpts, commune, name, **declaration):
    site = PracticeSiteFactory(commune=commune, practitioner__last_name=name)
    AvailabilityDeclarationFactory(practitioner=site.practitioner, cpts=cpts, **declaration)
    return site.practitioner


@pytest.fixture
def gps(cpts, communes):
    return {
        "public": _gp(cpts, communes["lievin"], "PUBLICUS", monthly_capacity=CAPACITY),
        "pros": _gp(cpts, communes["avion"], "PROFESSIO", listing="professionals"),
        "hidden": _gp(cpts, communes["avion"], "CACHEDOC", listing="not_listed"),
        "refusing": _gp(cpts, communes["avion"], "REFUSEUR", accepting="no", monthly_capacity=None),
        "expired": _gp(cpts, communes["avion"], "PERIMEDOC", expired=True),
        "kids": _gp(
            cpts, communes["avion"], "PEDIATRUS", accepts_children_under_6=True, monthly_capacity=2
        ),
    }


def _names(payload):
    return sorted(m["name"].split()[-1] for m in payload["markers"])


def test_public_page_shows_only_public_current_accepting_gps_never_capacity(client, cpts, gps):
    html = client.get(reverse("directory:public_list", kwargs={"cpts_slug": cpts.slug}))
    html = html.content.decode()
    assert "PUBLICUS" in html and "PEDIATRUS" in html
    for hidden in ("PROFESSIO", "CACHEDOC", "REFUSEUR", "PERIMEDOC"):
        assert hidden not in html
    # The capacity never shows (factory names such as "Prénom337" may contain its digits).
    assert f"Environ {CAPACITY}" not in html and "par mois" not in html
    data = client.get(reverse("directory:public_markers", kwargs={"cpts_slug": cpts.slug})).json()
    assert _names(data) == ["PEDIATRUS", "PUBLICUS"]
    assert all("monthly_capacity" not in m for m in data["markers"])


def test_professionals_see_professionals_only_listing_and_capacity(client, cpts, gps):
    client.force_login(MembershipFactory(cpts=cpts, role="referrer").user)
    kwargs = {"cpts_slug": cpts.slug}
    html = client.get(reverse("directory:professional_list", kwargs=kwargs)).content.decode()
    assert "PROFESSIO" in html and "professionnels seulement" in html
    assert f"Environ {CAPACITY} nouveaux patients par mois" in html
    for hidden in ("CACHEDOC", "REFUSEUR", "PERIMEDOC"):
        assert hidden not in html
    data = client.get(reverse("directory:professional_markers", kwargs=kwargs)).json()
    assert _names(data) == ["PEDIATRUS", "PROFESSIO", "PUBLICUS"]
    assert {m["monthly_capacity"] for m in data["markers"]} == {CAPACITY, 4, 2}


def test_filters_by_profile_and_commune(client, cpts, gps, communes):
    url = reverse("directory:public_list", kwargs={"cpts_slug": cpts.slug})
    html = client.get(url, {"profil": "enfants"}).content.decode()
    assert "PEDIATRUS" in html and "PUBLICUS" not in html
    html = client.get(url, {"commune": communes["lievin"].pk}).content.decode()
    assert "PUBLICUS" in html and "PEDIATRUS" not in html


def test_observer_is_refused_the_professional_list(client, cpts, gps):
    client.force_login(MembershipFactory(cpts=cpts, role="observer").user)
    url = reverse("directory:professional_list", kwargs={"cpts_slug": cpts.slug})
    assert client.get(url).status_code == 404


def test_unknown_cpts_public_list_is_404(client, db):
    assert (
        client.get(reverse("directory:public_list", kwargs={"cpts_slug": "nulle"})).status_code
        == 404
    )


def test_coordinator_directory_shows_not_listed_gps(client, cpts, gps):
    client.force_login(MembershipFactory(cpts=cpts, role="coordinator").user)
    url = reverse("directory:coordinator_directory", kwargs={"cpts_slug": cpts.slug})
    html = client.get(url).content.decode()
    assert "CACHEDOC" in html and "ne pas apparaître" in html
    assert "PERIMEDOC" in html and "pas de déclaration en cours" in html


def _img_src(response):
    policy = response["Content-Security-Policy"]
    return next(d for d in policy.split(";") if d.strip().startswith("img-src")).split()[1:]


def test_map_container_reads_the_markers_with_the_current_filters(client, cpts, gps, communes):
    url = reverse("directory:public_list", kwargs={"cpts_slug": cpts.slug})
    html = client.get(url, {"profil": "enfants", "commune": "62065"}).content.decode()
    assert 'data-markers-url="/lievin/medecins/carte.json?profil=enfants&amp;commune=62065"' in html
    assert 'aria-label="Carte des médecins de la liste' in html
    assert "/static/leaflet/leaflet.js" in html and "/static/core/map.js" in html
    assert "<script>" not in html  # scripts come from static files only (strict CSP)


def test_leaflet_is_served_from_the_installed_package(client, db):
    from django.contrib.staticfiles import finders

    assert finders.find("leaflet/leaflet.js").endswith("xstatic/pkg/leaflet/data/leaflet.js")
    assert finders.find("leaflet/images/marker-icon.png")


def test_no_tile_server_by_default_in_tests_so_no_outside_image_source(client, cpts, gps):
    response = client.get(reverse("directory:public_list", kwargs={"cpts_slug": cpts.slug}))
    assert 'data-tile-url=""' in response.content.decode()
    assert _img_src(response) == ["'self'", "data:"]


def test_configured_tile_server_is_allowed_on_the_map_pages_only(client, cpts, gps, settings):
    settings.MAP_TILE_URL = "https://{s}.tile.openstreetmap.fr/osmfr/{z}/{x}/{y}.png"
    response = client.get(reverse("directory:public_list", kwargs={"cpts_slug": cpts.slug}))
    assert "https://*.tile.openstreetmap.fr" in _img_src(response)
    assert "osmfr/{z}/{x}/{y}.png" in response.content.decode()
    client.force_login(MembershipFactory(cpts=cpts, role="gp").user)
    pros = client.get(reverse("directory:professional_list", kwargs={"cpts_slug": cpts.slug}))
    assert "https://*.tile.openstreetmap.fr" in _img_src(pros)
    other = client.get(reverse("directory:campaigns", kwargs={"cpts_slug": cpts.slug}))
    assert "openstreetmap" not in other.get("Content-Security-Policy", "")


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)//{z}", "tiles/{z}/{x}/{y}.png", "ftp://x/{z}"]
)
def test_tile_url_that_is_not_http_is_ignored(client, cpts, gps, settings, url):
    settings.MAP_TILE_URL = url
    response = client.get(reverse("directory:public_list", kwargs={"cpts_slug": cpts.slug}))
    assert 'data-tile-url=""' in response.content.decode()
    assert _img_src(response) == ["'self'", "data:"]


def test_the_list_shows_phones_in_french_format(client, cpts, gps):
    site = gps["public"].sites.get()
    site.phone = "+33321445501"
    site.save()
    html = client.get(reverse("directory:public_list", kwargs={"cpts_slug": cpts.slug}))
    assert "Tél. 03 21 44 55 01" in html.content.decode()
