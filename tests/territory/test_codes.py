import pytest

from accesmt.territory.codes import (
    canonical_insee_code,
    format_codes,
    normalise_departement,
    normalise_name,
    parse_insee_codes,
)
from accesmt.territory.distances import bounding_box, haversine_km, haversine_km_many


def test_pasted_excel_column_with_every_separator():
    text = "62510\n62498\t62065, 62119;62250 62413\r\n\n62510"
    parsed = parse_insee_codes(text)
    assert parsed.codes == ["62510", "62498", "62065", "62119", "62250", "62413"]
    assert parsed.invalid == []


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1004", "01004"),  # Excel dropped the leading zero
        ("1004.0", "01004"),  # and turned it into a float
        ("2a004", "2A004"),  # Corsica, lower case
        ("2B033", "2B033"),
        ("'01053", "01053"),  # Excel text prefix
        ("75111", "75056"),  # Paris 11e → Paris
        ("69383", "69123"),  # Lyon 3e → Lyon
        ("13216", "13055"),  # Marseille 16e → Marseille
        ("97411", "97411"),
    ],
)
def test_single_codes_are_normalised(raw, expected):
    assert parse_insee_codes(raw).codes == [expected]


@pytest.mark.parametrize("raw", ["abc", "123", "625100", "2C004", "2A4", "62 5 10x"])
def test_tokens_that_cannot_be_codes_are_reported(raw):
    parsed = parse_insee_codes(raw)
    assert parsed.invalid, raw


def test_list_input_is_accepted():
    assert parse_insee_codes(["62510", " 1004 ", ""]).codes == ["62510", "01004"]


def test_canonical_code_leaves_ordinary_communes_alone():
    assert canonical_insee_code("75056") == "75056"
    assert canonical_insee_code("75121") == "75121"
    assert canonical_insee_code("2A004") == "2A004"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("62", "62"), ("1", "01"), ("2a", "2A"), (" 974 ", "974"), ("20", None), ("96", None),
     ("977", None), ("x", None), ("", None)],
)  # fmt: skip
def test_departement_codes(raw, expected):
    assert normalise_departement(raw) == expected


def test_names_compare_without_accents_articles_and_saint():
    assert normalise_name("Saint-Étienne") == normalise_name("ST ETIENNE")
    assert normalise_name("Le Touquet-Paris-Plage") == normalise_name("touquet paris plage")
    assert normalise_name("L'Haÿ-les-Roses") == "hay les roses"
    assert normalise_name("Sainte-Marie-aux-Mines") == "ste marie aux mines"
    assert normalise_name("Œuilly") == "oeuilly"
    assert normalise_name("Lens") != normalise_name("Liévin")


def test_format_codes_caps_the_list():
    assert format_codes(["a", "b"]) == "a, b"
    codes = [f"{n:05d}" for n in range(13)]
    assert format_codes(codes) == ", ".join(codes[:10]) + " et 3 autres"
    assert format_codes(codes[:11]).endswith(" et 1 autre")


def test_haversine_known_distances():
    paris, lyon = (48.8566, 2.3522), (45.7640, 4.8357)
    assert haversine_km(*paris, *lyon) == pytest.approx(392, abs=2)
    assert haversine_km(*paris, *paris) == 0
    # antipodes: half the circumference, no math domain error
    assert haversine_km(0, 0, 0, 180) == pytest.approx(20015, abs=5)


def test_vectorised_distances_match_the_scalar_ones():
    lats, lons = [50.4198, 50.4329, 45.764], [2.78068, 2.8319, 4.8357]
    many = haversine_km_many(50.4198, 2.78068, lats, lons)
    assert list(many) == pytest.approx(
        [haversine_km(50.4198, 2.78068, a, b) for a, b in zip(lats, lons, strict=True)]
    )
    assert many[0] == 0


def test_bounding_box_contains_the_circle():
    min_lat, max_lat, min_lon, max_lon = bounding_box(50.42, 2.78, 12)
    assert haversine_km(50.42, 2.78, max_lat, 2.78) == pytest.approx(12, rel=1e-6)
    # the circle's easternmost point lies slightly north of the centre's parallel
    assert haversine_km(50.42, 2.78, 50.42, max_lon) >= 12
    east = [haversine_km(50.42, 2.78, 50.42 + k / 1000, max_lon) for k in range(0, 200)]
    assert min(east) >= 12 * (1 - 1e-9)
    assert min_lat < 50.42 < max_lat and min_lon < 2.78 < max_lon
