"""The columns of a CPAM list (docs/cpam-list-format.md), found by their normalised header name:
accents, case and punctuation do not matter ("Date de naissance", "DATE_NAISSANCE" and
"date naissance" are the same column); position never matters; unknown columns are ignored and
listed in the report."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    key: str  # the internal name (and the API's field name)
    title: str  # the header of the template, and the name shown in the report
    aliases: tuple[str, ...]  # other accepted headers (normalised when compared)
    required: bool
    example: str
    help: str


COLUMNS: tuple[Column, ...] = (
    Column(
        "last_name",
        "nom",
        ("nom de naissance", "nom d usage", "nom patient"),
        True,
        "Martin",
        "Nom de la personne.",
    ),
    Column("first_name", "prénom", ("prenoms", "prenom patient"), True, "Jeanne", "Prénom."),
    Column(
        "birth_date",
        "date de naissance",
        ("date naissance", "naissance", "ddn"),
        True,
        "17/05/1948",
        "JJ/MM/AAAA (ou AAAA-MM-JJ).",
    ),
    Column("sex", "sexe", ("genre",), False, "F", "F ou M (femme, homme), facultatif."),
    Column(
        "address",
        "adresse",
        ("adresse postale", "numero et rue", "voie"),
        True,
        "12 rue des Lilas",
        "Numéro et rue.",
    ),
    Column(
        "postcode",
        "code postal",
        ("cp",),
        False,
        "62800",
        "5 chiffres ; obligatoire sans code INSEE.",
    ),
    Column(
        "commune_name",
        "commune",
        ("ville", "libelle commune"),
        False,
        "Liévin",
        "Utile quand le code postal dessert plusieurs communes.",
    ),
    Column(
        "insee_code",
        "code INSEE",
        ("insee", "code commune", "code insee commune"),
        False,
        "",
        "Code INSEE de la commune (à la place du code postal et de la commune).",
    ),
    Column(
        "phone",
        "téléphone",
        ("tel", "telephone portable", "portable", "mobile"),
        False,
        "06 12 34 56 78",
        "Un mobile permet l'envoi par SMS.",
    ),
    Column(
        "email",
        "e-mail",
        ("email", "courriel", "adresse mail", "adresse e mail"),
        False,
        "",
        "Sans téléphone ni e-mail, l'information part par courrier.",
    ),
    Column(
        "nir",
        "NIR",
        ("numero de securite sociale", "nss", "numero nir"),
        False,
        "",
        "15 caractères, facultatif ; jamais affiché en clair.",
    ),
    Column("ald", "ALD", ("affection de longue duree",), False, "oui", "oui ou non."),
    Column("css", "CSS", ("complementaire sante solidaire",), False, "non", "oui ou non."),
    Column(
        "usual_gp",
        "médecin consulté habituellement",
        ("medecin habituel", "medecin consulte", "mg habituel", "rpps medecin habituel"),
        False,
        "10001234567",
        "Numéro RPPS (11 chiffres) ou nom et commune du médecin.",
    ),
)
BY_KEY = {c.key: c for c in COLUMNS}
REQUIRED = tuple(c for c in COLUMNS if c.required)


def normalise_header(text: str) -> str:
    """'Date_de  Naissance ' → 'date de naissance': accents, case and punctuation removed."""
    decomposed = unicodedata.normalize("NFKD", (text or "").strip().lstrip("\ufeff").casefold())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(re.sub(r"[^0-9a-z]+", " ", plain).split())


_LOOKUP = {
    normalise_header(name): column.key
    for column in COLUMNS
    for name in (column.title, column.key.replace("_", " "), *column.aliases)
}


def map_columns(headers: list[str]) -> tuple[dict[str, int], list[str]]:
    """({column key: position}, [unknown headers]). The first of two columns with the same
    meaning wins."""
    found: dict[str, int] = {}
    unknown: list[str] = []
    for position, header in enumerate(headers):
        key = _LOOKUP.get(normalise_header(header))
        if key is None:
            if header.strip():
                unknown.append(header.strip()[:60])
        elif key not in found:
            found[key] = position
    return found, unknown


def missing_columns(found: dict[str, int]) -> list[str]:
    """Titles of the required columns absent (code postal or code INSEE: one of them)."""
    missing = [c.title for c in REQUIRED if c.key not in found]
    if "postcode" not in found and "insee_code" not in found:
        missing.append("code postal (ou code INSEE)")
    return missing


def template_csv() -> str:
    """The downloadable template: the headers and one example line, `;`-separated as Excel
    France saves it."""
    header = ";".join(c.title for c in COLUMNS)
    example = ";".join(c.example for c in COLUMNS)
    return f"{header}\r\n{example}\r\n"
