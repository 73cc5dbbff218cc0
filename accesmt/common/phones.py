"""Phone numbers, parsed and shown the French way: one place for every app (intake's forms,
the API, notifications, the `phone` template filter). Nothing here logs the number it reads.

`normalise_phone` returns E.164 or raises `ValidationError` with a French message and a `code`.
"""

from __future__ import annotations

import phonenumbers
from django.core.exceptions import ValidationError

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
