"""Table-driven checks of what people type."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from stdnum.fr import nir as stdnum_nir

from accesmt.common.phones import format_phone_for_display, is_mobile, normalise_phone
from accesmt.intake.validation import (
    normalise_email,
    validate_birth_date,
    validate_nir,
    validate_postcode,
)


def with_key(first13: str) -> str:
    return first13 + stdnum_nir.calc_check_digits(first13)


WOMAN_1985_02 = with_key("2850262510123")
MAN_1947_03 = with_key("1470362510045")
CORSICA_2A = with_key("185022A004123")
CORSICA_2B = with_key("185022B004123")


@pytest.mark.parametrize(
    ("value", "sex", "birth", "expected"),
    [
        (WOMAN_1985_02, "F", datetime.date(1985, 2, 14), WOMAN_1985_02),
        (
            " ".join([WOMAN_1985_02[:1], WOMAN_1985_02[1:7], WOMAN_1985_02[7:]]),
            "",
            None,
            WOMAN_1985_02,
        ),
        (MAN_1947_03, "M", datetime.date(1947, 3, 1), MAN_1947_03),
        (CORSICA_2A.lower(), "M", datetime.date(1985, 2, 1), CORSICA_2A),
        (CORSICA_2B, "", None, CORSICA_2B),
        ("", "F", None, ""),
    ],
)
def test_valid_nir(value, sex, birth, expected):
    assert validate_nir(value, sex=sex, birth_date=birth) == expected


@pytest.mark.parametrize(
    ("value", "sex", "birth", "code"),
    [
        ("123", "", None, "nir_length"),
        (WOMAN_1985_02[:-2] + "00", "", None, "nir_invalid"),
        ("2850262510123AB", "", None, "nir_invalid"),
        (WOMAN_1985_02, "M", None, "nir_sex"),
        (MAN_1947_03, "F", None, "nir_sex"),
        (WOMAN_1985_02, "F", datetime.date(1986, 2, 14), "nir_birth_year"),
        (WOMAN_1985_02, "F", datetime.date(1985, 7, 14), "nir_birth_month"),
        (with_key("585026251012"[:12] + "3"), "", None, "nir_invalid"),
    ],
)
def test_invalid_nir(value, sex, birth, code):
    with pytest.raises(ValidationError) as error:
        validate_nir(value, sex=sex, birth_date=birth)
    assert error.value.code == code
    assert value.strip() not in str(error.value.messages)  # the number is not echoed


def test_nir_with_unknown_birth_month_is_accepted():
    unknown_month = with_key("2852062510123")  # month 20: unknown birth month
    assert validate_nir(unknown_month, birth_date=datetime.date(1985, 6, 1)) == unknown_month


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("06 12 34 56 78", "+33612345678"),
        ("06.12.34.56.78", "+33612345678"),
        ("+33 6 12 34 56 78", "+33612345678"),
        ("0033612345678", "+33612345678"),
        ("03 21 44 55 66", "+33321445566"),
        ("0690 12 34 56", "+590690123456"),  # Guadeloupe mobile
        ("0694 12 34 56", "+594694123456"),  # Guyane mobile
        ("0696 12 34 56", "+596696123456"),  # Martinique mobile
        ("0262 12 34 56", "+262262123456"),  # La Réunion landline
        ("+32 470 12 34 56", "+32470123456"),  # Belgian mobile (border areas)
        ("", ""),
    ],
)
def test_valid_phone(value, expected):
    assert normalise_phone(value) == expected


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("12", "phone_invalid"),
        ("06 12 34", "phone_invalid"),
        ("appelez-moi", "phone_invalid"),
        ("06 12 34 56 78 90", "phone_invalid"),
        ("+33 1 23", "phone_invalid"),
        ("08 99 12 34 56", "phone_special"),
    ],
)
def test_invalid_phone(value, code):
    with pytest.raises(ValidationError) as error:
        normalise_phone(value)
    assert error.value.code == code


def test_mobile_detection_and_display():
    assert is_mobile("+33612345678") and not is_mobile("+33321445566") and not is_mobile("")
    assert format_phone_for_display("+33612345678") == "06 12 34 56 78"
    assert format_phone_for_display("+32470123456").startswith("+32")


@pytest.mark.parametrize(
    ("value", "expected"),
    [("Marie.Dupont@Exemple.FR", "Marie.Dupont@exemple.fr"), ("", ""), (" a@b.fr ", "a@b.fr")],
)
def test_valid_email(value, expected):
    assert normalise_email(value) == expected


@pytest.mark.parametrize("value", ["marie", "marie@", "@exemple.fr", "marie dupont@exemple.fr"])
def test_invalid_email(value):
    with pytest.raises(ValidationError, match="adresse e-mail"):
        normalise_email(value)


TODAY = datetime.date(2025, 6, 15)


@pytest.mark.parametrize(
    "value", [datetime.date(2025, 6, 15), datetime.date(1948, 5, 17), datetime.date(1905, 6, 16)]
)
def test_valid_birth_date(value):
    assert validate_birth_date(value, today=TODAY) == value


@pytest.mark.parametrize(
    ("value", "code"),
    [
        (datetime.date(2025, 6, 16), "birth_date_future"),
        (datetime.date(1899, 12, 31), "birth_date_absurd"),
        (datetime.date(1904, 6, 14), "birth_date_absurd"),
    ],
)
def test_invalid_birth_date(value, code):
    with pytest.raises(ValidationError) as error:
        validate_birth_date(value, today=TODAY)
    assert error.value.code == code


@pytest.mark.parametrize(("value", "expected"), [("62800", "62800"), (" 62 800 ", "62800")])
def test_valid_postcode(value, expected):
    assert validate_postcode(value) == expected


@pytest.mark.parametrize("value", ["6280", "628000", "62A00", ""])
def test_invalid_postcode(value):
    with pytest.raises(ValidationError):
        validate_postcode(value)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("postcode", "name", "outcome"),
    [
        ("62143", "", "Angres"),
        ("62143", "ANGRES", "Angres"),
        ("62800", "Liévin", "Liévin"),
        ("62800", "", "commune_ambiguous"),
        ("62800", "Lens", "commune_mismatch"),
        ("99999", "", "postcode_unknown"),
    ],
)
def test_postcode_and_commune_must_agree(territory, postcode, name, outcome):
    from accesmt.intake.validation import resolve_commune

    if outcome[0].isupper():
        assert resolve_commune(postcode=postcode, name=name).name == outcome
    else:
        with pytest.raises(ValidationError) as error:
            resolve_commune(postcode=postcode, name=name)
        assert error.value.code == outcome
