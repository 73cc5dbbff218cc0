"""Checks of what people type, with the French message shown next to the field.

Every function returns the normalised value or raises `django.core.exceptions.ValidationError`
with a French message (and a `code`, which the tests and the API use). Nothing here logs the
value it checks.
"""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.fr import nir as stdnum_nir

OLDEST_BIRTH_YEAR = 1900
MAX_AGE = 120


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
    if len(text) != 5 or not (text.isascii() and text.isdigit()):
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
