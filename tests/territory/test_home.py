"""The public home finds the CPTS of a commune typed by name or postal code (issue 13, point 1)."""

import re

import pytest
from django.urls import reverse

from accesmt.territory.models import Commune
from tests.territory.factories import CommuneFactory, CPTSFactory, TerritoryCommuneFactory

HOME = reverse("territory:home")


@pytest.fixture
def artois(db):
    lievin_cpts = CPTSFactory(name="CPTS Liévin", slug="cpts-lievin", phone="03 21 00 00 00")
    lens_cpts = CPTSFactory(name="CPTS Lens-Hénin", slug="cpts-lens")
    lievin = CommuneFactory(
        insee_code="62510", name="Liévin", population=30063, postcodes=["62800"]
    )
    lens = CommuneFactory(insee_code="62498", name="Lens", population=32920, postcodes=["62300"])
    CommuneFactory(insee_code="26162", name="Lens-Lestang", population=884, postcodes=["26210"])
    # more populated than Lens: an exact name still comes first
    CommuneFactory(insee_code="99001", name="Lensbourg", population=90000, postcodes=["99100"])
    # two communes under one postal code, one covered, one not
    angres = CommuneFactory(insee_code="62032", name="Angres", population=4400, postcodes=["62143"])
    CommuneFactory(insee_code="62784", name="Souchez", population=2600, postcodes=["62143"])
    CommuneFactory(insee_code="59350", name="Lille", population=236000, postcodes=["59000"])
    TerritoryCommuneFactory(cpts=lievin_cpts, commune=lievin)
    TerritoryCommuneFactory(cpts=lievin_cpts, commune=angres)
    TerritoryCommuneFactory(cpts=lens_cpts, commune=lens)
    return lievin_cpts, lens_cpts


def _page(response) -> str:
    assert response.status_code == 200
    return response.content.decode()


def test_a_commune_covered_by_a_cpts_leads_to_its_form(client, artois):
    page = _page(client.get(HOME, {"q": "lievin"}))  # no accent, lower case
    assert "Liévin (62800)" in page
    register = reverse("intake:register", kwargs={"cpts_slug": "cpts-lievin"})
    assert f'class="button"\n                   href="{register}?commune=62510"' in page
    # The form then knows the commune and its only postal code: the person does not type them again.
    form = client.get(register, {"commune": "62510"}).content.decode()
    assert 'name="postcode" value="62800"' in form and 'value="Liévin"' in form
    # A commune outside the CPTS, or anything else, is ignored.
    for other in ("62498", "x' OR 1", ""):
        form = client.get(register, {"commune": other}).content.decode()
        assert 'value="62800"' not in form and 'value="Lens"' not in form
    assert 'href="tel:+33321000000"' in page
    assert reverse("directory:public_list", kwargs={"cpts_slug": "cpts-lievin"}) in page
    assert reverse("intake:privacy", kwargs={"cpts_slug": "cpts-lievin"}) in page


def test_a_postal_code_finds_its_commune_exactly(client, artois):
    page = _page(client.get(HOME, {"q": " 62800 "}))
    assert "Liévin (62800)" in page and 'data-cpts="cpts-lievin"' in page
    assert "aria-invalid" not in _page(client.get(HOME, {"q": "62800"}))
    # a postal code is matched whole, never as a prefix
    assert "Aucune commune ne correspond" in _page(client.get(HOME, {"q": "6280"}))


def test_a_name_lists_exact_matches_before_longer_names(client, artois):
    page = _page(client.get(HOME, {"q": "LENS"}))
    found = re.findall(r"\?commune=(\w+)\">([^<]+)<", page)
    assert [name for _, name in found] == [
        "Lens (62300)",
        "Lensbourg (99100)",
        "Lens-Lestang (26210)",
    ]
    assert "3 communes correspondent" in page
    assert "CPTS Lens-Hénin" in page and "pas encore de CPTS sur AccèsMT" in page


def test_choosing_among_several_communes_shows_the_chosen_one(client, artois):
    page = _page(client.get(HOME, {"commune": "62498"}))
    assert "Lens (62300)" in page and 'data-cpts="cpts-lens"' in page
    assert "Lensbourg" not in page


def test_a_postal_code_of_several_communes_lists_them_with_their_cpts(client, artois):
    page = _page(client.get(HOME, {"q": "62143"}))
    assert "2 communes correspondent" in page
    assert re.search(r"Angres \(62143\)</a>\s*— CPTS Liévin", page)
    assert re.search(r"Souchez \(62143\)</a>\s*— pas encore de CPTS", page)


def test_a_commune_no_cpts_covers_says_what_to_do_meanwhile(client, artois):
    page = _page(client.get(HOME, {"q": "Lille"}))
    assert "Aucune CPTS présente sur AccèsMT ne couvre encore Lille" in page
    assert 'href="tel:3646"' in page and "pharmacien" in page and "ameli.fr" in page
    assert 'href="tel:15"' in page and 'href="tel:112"' in page
    assert "inscription" not in page.split("data-no-cpts")[1].split("</div>")[0]


def test_an_inactive_cpts_is_not_offered(client, artois):
    lievin_cpts, _ = artois
    lievin_cpts.is_active = False
    lievin_cpts.save()
    page = _page(client.get(HOME, {"q": "62800"}))
    assert "Aucune CPTS présente sur AccèsMT ne couvre encore Liévin" in page
    assert "cpts-lievin" not in page


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("Atlantide", "Aucune commune ne correspond à « Atlantide »"),
        ("", "Indiquez le nom de votre commune ou son code postal."),
        ("--", "Aucune commune ne correspond"),
    ],
)
def test_nothing_found_is_said_next_to_the_field(client, artois, query, message):
    page = _page(client.get(HOME, {"q": query}))
    error = re.search(r'<div id="id_q-error">(.*?)</div>', page, re.S)
    assert error and message in error.group(1)
    assert 'aria-invalid="true"' in page and "<title>\n  Erreur" in page
    assert "communes correspondent" not in page


def test_the_home_without_a_query_lists_the_cpts_and_no_error(client, artois):
    page = _page(client.get(HOME))
    assert "aria-invalid" not in page and "Aucune commune" not in page
    assert "CPTS Lens-Hénin" in page and "CPTS Liévin" in page
    assert '<label for="id_q">Commune ou code postal</label>' in page


def test_results_are_capped_and_cost_a_fixed_number_of_queries(
    client, artois, django_assert_num_queries
):
    for n in range(30):
        CommuneFactory(insee_code=f"97{n:03d}", name=f"Saint-Lens {n}", postcodes=["97100"])
    # communes, their postal codes, the CPTS list
    with django_assert_num_queries(3):
        page = _page(client.get(HOME, {"q": "st lens"}))
    assert page.count("?commune=") == 20
    assert "D'autres communes correspondent" in page
    with django_assert_num_queries(3):
        _page(client.get(HOME, {"q": "97100"}))


def test_the_search_name_follows_the_name(db):
    commune = CommuneFactory(insee_code="62001", name="L'Abbaye-Sainte-Œuvre")
    assert Commune.objects.get(pk="62001").search_name == "abbaye ste oeuvre"
    commune.name = "Le Touquet-Paris-Plage"
    commune.save(update_fields=["name"])
    assert Commune.objects.get(pk="62001").search_name == "touquet paris plage"


def test_loading_the_reference_file_fills_the_search_name(client, db, tmp_path):
    from tests.territory.factories import load_departements

    load_departements(tmp_path, "62")
    page = _page(client.get(HOME, {"q": "saint pol sur ternoise"}))
    assert "Saint-Pol-sur-Ternoise (62130)" in page


def test_saint_finds_whole_words_only(client, artois):
    CommuneFactory(insee_code="62767", name="Saint-Pol-sur-Ternoise", postcodes=["62130"])
    CommuneFactory(insee_code="67482", name="Strasbourg", population=290000, postcodes=["67000"])
    page = _page(client.get(HOME, {"q": "Saint"}))
    assert "Saint-Pol-sur-Ternoise (62130)" in page and "Strasbourg" not in page
    assert "Saint-Pol-sur-Ternoise (62130)" in _page(client.get(HOME, {"q": "st-pol"}))
