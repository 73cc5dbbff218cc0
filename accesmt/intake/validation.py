"""Checks of what people type, with the French message shown next to the field.

Every function returns the normalised value or raises `django.core.exceptions.ValidationError`
with a French message (and a `code`, which the tests and the API use). Nothing here logs the
value it checks.
"""

from __future__ import annotations

import datetime

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.fr import nir as stdnum_nir

OLDEST_BIRTH_YEAR = 1900
MAX_AGE = 120

# Local numbers ("06…") are tried as metropolitan France first, then as the other countries
# whose numbers start with 0 and that a French form may receive (Pacific collectivités).
PHONE_REGIONS = ("FR", "NC", "PF", "WF")
# The overseas départements and collectivités that share the French national numbering plan:
# "0596 60 12 34" dialled in France is Martinique's +596 596 60 12 34, not +33 596…, although
# phonenumbers' "FR" metadata accepts both. Saint-Barthélemy and Saint-Martin share +590.
FRENCH_OVERSEAS_REGIONS = ("GP", "MQ", "GF", "RE", "YT", "PM", "BL", "MF")
# Shown as dialled from France ("0596 60 12 34"); Saint-Pierre-et-Miquelon keeps "+508 41 23 45".
NATIONAL_DISPLAY_REGIONS = {"FR", "GP", "MQ", "GF", "RE", "YT", "BL", "MF"}
OVERSEAS_LINE_TYPES = {
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE,
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
}
ACCEPTED_PHONE_TYPES = {
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE,
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    phonenumbers.PhoneNumberType.VOIP,
}
MOBILE_TYPES = {
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
}


def normalise_nir(value: str) -> str:
    """Spaces, dots and dashes removed, upper-case (Corsica: 2A / 2B)."""
    return stdnum_nir.compact(value or "").upper()


def validate_nir(value: str, *, sex: str = "", birth_date: datetime.date | None = None) -> str:
    """A 15-character NIR with a correct key, consistent with `sex` ("F"/"M") and the birth
    year and month when they are given. Returns the compact form ("" when empty)."""
    number = normalise_nir(value)
    if not number:
        return ""
    if len(number) != 15:
        raise ValidationError(
            "Le numéro de sécurité sociale compte 15 caractères (13 chiffres et la clé à 2 "
            "chiffres) ; vérifiez-le sur votre carte Vitale.",
            code="nir_length",
        )
    try:
        stdnum_nir.validate(number)
    except StdnumError:
        raise ValidationError(
            "Ce numéro de sécurité sociale n'est pas valide (la clé ne correspond pas) ; "
            "vérifiez-le sur votre carte Vitale ou laissez le champ vide.",
            code="nir_invalid",
        ) from None
    sex_digit = number[0]
    if sex_digit not in "12378":
        raise ValidationError(
            "Le premier chiffre du numéro de sécurité sociale doit être 1 ou 2.",
            code="nir_invalid",
        )
    if sex and sex_digit in "12" and {"1": "M", "2": "F"}[sex_digit] != sex:
        raise ValidationError(
            "Le numéro de sécurité sociale ne correspond pas au sexe indiqué "
            "(il commence par 1 pour un homme, 2 pour une femme).",
            code="nir_sex",
        )
    if birth_date is not None:
        if int(number[1:3]) != birth_date.year % 100:
            raise ValidationError(
                "Le numéro de sécurité sociale ne correspond pas à l'année de naissance "
                f"(chiffres 2 et 3 : {birth_date.year % 100:02d} attendu).",
                code="nir_birth_year",
            )
        month = int(number[3:5])
        if 1 <= month <= 12 and month != birth_date.month:
            raise ValidationError(
                "Le numéro de sécurité sociale ne correspond pas au mois de naissance "
                f"(chiffres 4 et 5 : {birth_date.month:02d} attendu).",
                code="nir_birth_month",
            )
    return number


def _overseas_number(national: str) -> phonenumbers.PhoneNumber | None:
    """The overseas line a French national number ("0596601234", "0508412345") designates,
    read with each overseas region's own metadata; None for a metropolitan number. VoIP (09)
    and special-rate (08) numbers, which the regions share with France, stay French."""
    for region in FRENCH_OVERSEAS_REGIONS:
        code = str(phonenumbers.country_code_for_region(region))
        candidates = [national]  # "0596 60 12 34" → +596 596 60 12 34
        if national.startswith("0" + code):  # "0508 41 23 45" → +508 41 23 45
            candidates.append(f"+{code}{national[1 + len(code) :]}")
        for candidate in candidates:
            try:
                number = phonenumbers.parse(candidate, region)
            except phonenumbers.NumberParseException:
                continue
            if (
                phonenumbers.is_valid_number(number)
                and phonenumbers.number_type(number) in OVERSEAS_LINE_TYPES
            ):
                return number
    return None


def _parse_phone(value: str) -> phonenumbers.PhoneNumber | None:
    text = (value or "").strip()
    if text.startswith("00"):
        text = "+" + text[2:]
    if text.startswith("+"):
        try:
            number = phonenumbers.parse(text, None)
        except phonenumbers.NumberParseException:
            return None
        if number.country_code == 33:  # "+33 596 60 12 34" is Martinique's number too
            number = _overseas_number(f"0{number.national_number}") or number
        return number if phonenumbers.is_valid_number(number) else None
    digits = "".join(ch for ch in text if ch.isdigit())
    if len(digits) == 10 and digits.startswith("0"):
        overseas = _overseas_number(digits)
        if overseas is not None:
            return overseas
    for region in PHONE_REGIONS:
        try:
            number = phonenumbers.parse(text, region)
        except phonenumbers.NumberParseException:
            return None
        if phonenumbers.is_valid_number(number):
            return number
    return None


def overseas_e164(stored: str) -> str:
    """A stored "+33…" number that is really an overseas line, as its E.164 ("+33596601234" →
    "+596596601234"); any other value unchanged. For the data migrations of stored phones."""
    if not stored.startswith("+33"):
        return stored
    try:
        number = phonenumbers.parse(stored, None)
    except phonenumbers.NumberParseException:
        return stored
    overseas = _overseas_number(f"0{number.national_number}")
    if overseas is None:
        return stored
    return phonenumbers.format_number(overseas, phonenumbers.PhoneNumberFormat.E164)


def normalise_phone(value: str) -> str:
    """A French (metropolitan or overseas) or international phone number, as E.164
    ("06 12 34 56 78" → "+33612345678", "0596 60 12 34" → "+596596601234", "0508 41 23 45" →
    "+508412345", whichever way they are typed). Special-rate and
    short numbers are refused: the CPTS must be able to call back and send an SMS."""
    text = (value or "").strip()
    if not text:
        return ""
    if sum(ch.isdigit() for ch in text) < 6 or any(ch.isalpha() for ch in text):
        raise ValidationError(
            "Ce numéro de téléphone n'est pas valide. Exemple : 06 12 34 56 78.",
            code="phone_invalid",
        )
    number = _parse_phone(text)
    if number is None:
        raise ValidationError(
            "Ce numéro de téléphone n'est pas valide. Exemple : 06 12 34 56 78 "
            "(ou +32 470 12 34 56 pour un numéro étranger).",
            code="phone_invalid",
        )
    if phonenumbers.number_type(number) not in ACCEPTED_PHONE_TYPES:
        raise ValidationError(
            "Indiquez un numéro de téléphone fixe ou mobile (pas un numéro spécial ou surtaxé).",
            code="phone_special",
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def is_mobile(e164: str) -> bool:
    """True when an E.164 number can receive SMS (mobile or undetermined)."""
    if not e164:
        return False
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.number_type(number) in MOBILE_TYPES


def format_phone_for_display(e164: str) -> str:
    """ "+33612345678" → "06 12 34 56 78", "+596596601234" → "0596 60 12 34" (as dialled from
    France); Saint-Pierre-et-Miquelon and other countries in international form."""
    if not e164:
        return ""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    if phonenumbers.region_code_for_number(number) in NATIONAL_DISPLAY_REGIONS:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def normalise_email(value: str) -> str:
    text = (value or "").strip()
    if not text:
        return ""
    try:
        validate_email(text)
    except ValidationError:
        raise ValidationError(
            "Cette adresse e-mail n'est pas valide. Exemple : prenom.nom@exemple.fr.",
            code="email_invalid",
        ) from None
    local, _, domain = text.rpartition("@")
    return f"{local}@{domain.lower()}"


def validate_birth_date(value: datetime.date, *, today: datetime.date) -> datetime.date:
    if value > today:
        raise ValidationError(
            "La date de naissance ne peut pas être dans le futur.", code="birth_date_future"
        )
    age = today.year - value.year - ((today.month, today.day) < (value.month, value.day))
    if value.year < OLDEST_BIRTH_YEAR or age > MAX_AGE:
        raise ValidationError(
            "Cette date de naissance semble erronée : vérifiez l'année (format JJ/MM/AAAA).",
            code="birth_date_absurd",
        )
    return value


def validate_postcode(value: str) -> str:
    text = "".join((value or "").split())
    if len(text) != 5 or not text.isdigit():
        raise ValidationError(
            "Le code postal compte 5 chiffres. Exemple : 62800.", code="postcode_invalid"
        )
    return text


def resolve_commune(*, postcode: str, name: str):
    """The commune designated by a postcode and (when the postcode serves several) a name.

    Raises ValidationError(code="commune_unknown" / "commune_ambiguous" / "commune_mismatch")
    with a French message listing the communes of that postcode."""
    from accesmt.intake.models import normalise_name
    from accesmt.territory.models import Commune

    candidates = list(Commune.objects.filter(postal_codes__code=postcode).distinct())
    wanted = normalise_name(name)
    if not candidates:
        raise ValidationError(
            "Nous ne connaissons pas ce code postal : vérifiez-le.", code="postcode_unknown"
        )
    if wanted:
        matching = [c for c in candidates if normalise_name(c.name) == wanted]
        if len(matching) == 1:
            return matching[0]
        names = ", ".join(c.name for c in candidates)
        raise ValidationError(
            f"Cette commune ne correspond pas au code postal {postcode}. "
            f"Communes de ce code postal : {names}.",
            code="commune_mismatch",
        )
    if len(candidates) == 1:
        return candidates[0]
    names = ", ".join(c.name for c in candidates)
    raise ValidationError(
        f"Plusieurs communes ont ce code postal : précisez la vôtre ({names}).",
        code="commune_ambiguous",
    )
