import pytest
from django.core.exceptions import ValidationError

from accesmt.territory.models import CPTS, Commune, TerritoryCommune
from accesmt.territory.selectors import (
    commune_matching,
    communes_for_postcode,
    communes_within_radius,
    cpts_covering,
)
from accesmt.territory.services import (
    cpts_add_communes,
    cpts_create,
    cpts_remove_communes,
    territory_select,
)

from .factories import CommuneFactory, CPTSFactory, load_departements

pytestmark = pytest.mark.django_db


@pytest.fixture
def pas_de_calais(tmp_path):
    load_departements(tmp_path, "62", "59")
    return Commune.objects.get(insee_code="62510")


def errors_of(excinfo) -> dict[str, list[str]]:
    return excinfo.value.message_dict


# --- radius ------------------------------------------------------------------------------------


def test_radius_around_lievin_selects_the_neighbouring_towns(pas_de_calais):
    around = communes_within_radius(pas_de_calais, 12)
    codes = [c.insee_code for c in around]
    assert codes[0] == "62510" and around[0].distance_km == 0
    assert {"62498", "62065", "62413"} <= set(codes)  # Lens, Avion, Harnes
    assert "62041" not in codes  # Arras, about 14 km south
    assert "62427" not in codes  # Hénin-Beaumont, about 13 km east
    assert "62427" in {c.insee_code for c in communes_within_radius(pas_de_calais, 14)}
    assert all(c.distance_km <= 12 for c in around)
    assert [c.distance_km for c in around] == sorted(c.distance_km for c in around)
    assert sum(c.population for c in around) > 100_000
    small = communes_within_radius(pas_de_calais, 3)
    assert {c.insee_code for c in small} < set(codes)


def test_cpts_by_radius_reports_communes_without_coordinates():
    center = CommuneFactory(insee_code="62510", latitude=50.42, longitude=2.78, postcodes=["62800"])
    near = CommuneFactory(insee_code="62065", latitude=50.41, longitude=2.83, postcodes=["62210"])
    far = CommuneFactory(insee_code="62041", latitude=50.29, longitude=2.78)
    unplaced = CommuneFactory(insee_code="62999", unplaced=True, postcodes=["62210"])
    cpts = cpts_create(name="CPTS Liévin", slug="lievin", center_insee="62510", radius_km=5)
    assert set(cpts.communes.all()) == {center, near}
    assert far not in cpts.communes.all() and unplaced not in cpts.communes.all()
    assert cpts.territory_selection.without_coordinates == [unplaced]
    assert cpts.territory_selection.population == 2000


def test_radius_needs_a_placed_centre_and_a_sensible_radius():
    CommuneFactory(insee_code="62999", name="Nulle-Part", unplaced=True)
    CommuneFactory(insee_code="62510")
    with pytest.raises(ValidationError) as excinfo:
        territory_select(center_insee="62999", radius_km=10)
    assert "position de Nulle-Part (62999) est inconnue" in errors_of(excinfo)["center_insee"][0]
    with pytest.raises(ValidationError) as excinfo:
        territory_select(center_insee="99999", radius_km=10)
    assert errors_of(excinfo) == {"center_insee": ["Code INSEE inconnu : « 99999 »."]}
    for radius in (0, -3, 150, "douze"):
        with pytest.raises(ValidationError) as excinfo:
            territory_select(center_insee="62510", radius_km=radius)
        assert list(errors_of(excinfo)) == ["radius_km"]
    with pytest.raises(ValidationError) as excinfo:
        territory_select(center_insee="62510")
    assert errors_of(excinfo) == {"radius_km": ["Indiquez le rayon en kilomètres."]}
    with pytest.raises(ValidationError) as excinfo:
        territory_select(radius_km=12)
    assert list(errors_of(excinfo)) == ["center_insee"]


# --- INSEE codes and départements --------------------------------------------------------------


def test_cpts_from_pasted_codes_with_lost_leading_zero_and_corsica():
    CommuneFactory(insee_code="01004", population=15000)
    CommuneFactory(insee_code="2A004", population=70000)
    cpts = cpts_create(name="CPTS A", slug="a", insee_codes="1004\n2a004\n", email="a@exemple.fr")
    assert sorted(cpts.communes.values_list("insee_code", flat=True)) == ["01004", "2A004"]
    assert cpts.email == "a@exemple.fr"


def test_unknown_codes_refuse_the_whole_definition_and_list_them():
    CommuneFactory(insee_code="62510")
    codes = "62510 " + " ".join(f"{n}" for n in range(99001, 99013)) + " xyz"
    with pytest.raises(ValidationError) as excinfo:
        cpts_create(name="CPTS B", slug="b", insee_codes=codes)
    messages = errors_of(excinfo)["insee_codes"]
    assert "pas des codes INSEE" in messages[0] and "xyz" in messages[0]
    assert messages[1] == (
        "Codes INSEE inconnus : 99001, 99002, 99003, 99004, 99005, 99006, 99007, 99008, "
        "99009, 99010 et 2 autres."
    )
    assert not CPTS.objects.exists() and not TerritoryCommune.objects.exists()


def test_departement_selects_all_its_communes_and_rejects_unknown_ones():
    CommuneFactory(insee_code="62510")
    CommuneFactory(insee_code="62498")
    CommuneFactory(insee_code="59350")
    cpts = cpts_create(name="CPTS 62", slug="cpts-62", departement="62")
    assert sorted(cpts.communes.values_list("insee_code", flat=True)) == ["62498", "62510"]
    for bad in ("99", "63", "abc"):  # 63 is a real département but has no commune loaded
        with pytest.raises(ValidationError) as excinfo:
            territory_select(departement=bad)
        assert errors_of(excinfo)["departement"][0].startswith("Département inconnu")


def test_overlap_with_another_cpts_is_refused_whole_and_keyed_by_field():
    CommuneFactory(insee_code="62510", latitude=50.42, longitude=2.78)
    CommuneFactory(insee_code="62498", latitude=50.43, longitude=2.83)
    CommuneFactory(insee_code="62413", latitude=50.45, longitude=2.90)
    first = cpts_create(name="CPTS Lens", slug="lens", insee_codes=["62498"])
    second = CPTSFactory()
    with pytest.raises(ValidationError) as excinfo:
        cpts_add_communes(cpts=second, insee_codes="62413, 62498")
    assert errors_of(excinfo) == {
        "insee_codes": [
            "Ces communes appartiennent déjà à une autre CPTS (les territoires ne se "
            "chevauchent pas) : 62498 (CPTS Lens)."
        ]
    }
    with pytest.raises(ValidationError) as excinfo:
        cpts_add_communes(cpts=second, center_insee="62510", radius_km=5)
    assert "62498 (CPTS Lens)" in errors_of(excinfo)["center_insee"][0]
    with pytest.raises(ValidationError) as excinfo:
        cpts_add_communes(cpts=second, departement="62")
    assert "62498 (CPTS Lens)" in errors_of(excinfo)["departement"][0]
    assert not second.communes.exists()  # nothing added, not even 62413
    assert list(first.communes.values_list("insee_code", flat=True)) == ["62498"]


def test_extending_a_cpts_keeps_its_communes_and_adds_the_new_ones():
    CommuneFactory(insee_code="62510")
    CommuneFactory(insee_code="62498")
    cpts = cpts_create(name="CPTS C", slug="c", insee_codes=["62510"])
    result = cpts_add_communes(cpts=cpts, insee_codes="62510;62498")
    assert result.added == 1
    assert cpts.communes.count() == 2
    assert cpts_remove_communes(cpts=cpts, insee_codes=["62510"]) == 1
    assert list(cpts.communes.values_list("insee_code", flat=True)) == ["62498"]


def test_add_communes_requires_a_definition():
    cpts = CPTSFactory()
    with pytest.raises(ValidationError) as excinfo:
        cpts_add_communes(cpts=cpts)
    assert list(errors_of(excinfo)) == ["insee_codes"]


def test_cpts_fields_are_validated_together_with_the_territory():
    CPTSFactory(name="CPTS Existante", slug="existante")
    with pytest.raises(ValidationError) as excinfo:
        cpts_create(name="CPTS Existante", slug="pas un slug", insee_codes="99999", email="x")
    assert set(errors_of(excinfo)) == {"name", "slug", "email", "insee_codes"}
    assert CPTS.objects.count() == 1


def test_cpts_without_communes_can_be_created_then_extended():
    cpts = cpts_create(name="CPTS D", slug="d")
    assert cpts.pk and not cpts.communes.exists()


# --- selectors ---------------------------------------------------------------------------------


def test_cpts_covering_a_commune():
    lievin = CommuneFactory(insee_code="62510")
    lens = CommuneFactory(insee_code="62498")
    cpts = cpts_create(name="CPTS E", slug="e", insee_codes=["62510"])
    assert cpts_covering(lievin) == cpts
    assert cpts_covering("62510") == cpts
    assert cpts_covering(lens) is None


def test_commune_for_a_postcode_and_a_typed_name():
    CommuneFactory(insee_code="62510", name="Liévin", postcodes=["62800"])
    CommuneFactory(insee_code="62757", name="Saint-Laurent-Blangy", postcodes=["62223"])
    CommuneFactory(insee_code="62756", name="Sainte-Catherine", postcodes=["62223"])
    assert [c.insee_code for c in communes_for_postcode("62223")] == ["62757", "62756"]
    assert commune_matching("62800", "").insee_code == "62510"  # the only one
    assert commune_matching("62800", "lievin").insee_code == "62510"
    assert commune_matching("62223", "ST LAURENT BLANGY").insee_code == "62757"
    assert commune_matching("62223", "ste catherine").insee_code == "62756"
    assert commune_matching("62223", "") is None  # ambiguous
    assert commune_matching("62223", "Arras") is None
    assert commune_matching("00000", "Liévin") is None


def test_communes_within_radius_refuses_an_unplaced_centre():
    with pytest.raises(ValueError, match="pas de coordonnées"):
        communes_within_radius(CommuneFactory(unplaced=True), 5)
