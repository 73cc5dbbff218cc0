"""Column mapping of the Annuaire Santé extraction: header names normalised and mapped to our
names (any variant of the file: 50, 52, 56 columns…), and the encoding of the file."""

from __future__ import annotations

import re
import unicodedata

from .report import RppsFormatError


def normalise_header(name: str) -> str:
    """'Code commune (coord. structure)' -> 'code commune coord structure'."""
    name = unicodedata.normalize("NFKD", name)
    name = "".join(ch for ch in name if not unicodedata.combining(ch)).lower()
    return re.sub(r"[^a-z0-9]+", " ", name).strip()


# Our name for a column -> the normalised header names it may carry (first found wins).
COLUMNS: dict[str, tuple[str, ...]] = {
    "rpps": ("identifiant pp",),
    "civility": ("libelle civilite d exercice", "libelle civilite", "code civilite d exercice"),
    "last_name": ("nom d exercice",),
    "first_name": ("prenom d exercice",),
    "profession": ("code profession",),
    "savoir_faire": ("code savoir faire",),
    "mode": ("code mode exercice",),
    "structure_id": ("identifiant technique de la structure",),
    "company_name": ("raison sociale site",),
    "brand": ("enseigne commerciale site",),
    "recipient": ("complement destinataire coord structure",),
    "place": ("complement point geographique coord structure",),
    "number": ("numero voie coord structure",),
    "repetition": ("indice repetition voie coord structure",),
    "street_type": ("libelle type de voie coord structure", "code type de voie coord structure"),
    "street": ("libelle voie coord structure",),
    "distribution": ("mention distribution coord structure",),
    "cedex": ("bureau cedex coord structure",),
    "postcode": ("code postal coord structure",),
    "commune_code": ("code commune coord structure",),
    "commune_name": ("libelle commune coord structure",),
    "phone": ("telephone coord structure",),
    "email": ("adresse e mail coord structure",),
    "sector_code": ("code secteur d activite",),
    "sector": ("libelle secteur d activite",),
}
# Every column of the published variants (50, 52, 56 columns): the others are "unknown".
KNOWN_HEADERS = frozenset(
    normalise_header(name)
    for name in (
        "Type d'identifiant PP|Identifiant PP|Identification nationale PP|Code civilité d'exercice|"
        "Libellé civilité d'exercice|Code civilité|Libellé civilité|Nom d'exercice|"
        "Prénom d'exercice|Code profession|Libellé profession|Code catégorie professionnelle|"
        "Libellé catégorie professionnelle|Code type savoir-faire|Libellé type savoir-faire|"
        "Code savoir-faire|Libellé savoir-faire|Code mode exercice|Libellé mode exercice|"
        "Numéro SIRET site|Numéro SIREN site|Numéro FINESS site|"
        "Numéro FINESS établissement juridique|Identifiant technique de la structure|"
        "Raison sociale site|Enseigne commerciale site|"
        "Complément destinataire (coord. structure)|"
        "Complément point géographique (coord. structure)|Numéro Voie (coord. structure)|"
        "Indice répétition voie (coord. structure)|Code type de voie (coord. structure)|"
        "Libellé type de voie (coord. structure)|Libellé Voie (coord. structure)|"
        "Mention distribution (coord. structure)|Bureau cedex (coord. structure)|"
        "Code postal (coord. structure)|Code commune (coord. structure)|"
        "Libellé commune (coord. structure)|Code pays (coord. structure)|"
        "Libellé pays (coord. structure)|Téléphone (coord. structure)|"
        "Téléphone 2 (coord. structure)|Télécopie (coord. structure)|"
        "Adresse e-mail (coord. structure)|Code Département (structure)|"
        "Libellé Département (structure)|Code département (coord. structure)|"
        "Ancien identifiant de la structure|Autorité d'enregistrement|Code secteur d'activité|"
        "Libellé secteur d'activité|Code section tableau pharmaciens|"
        "Libellé section tableau pharmaciens|Code rôle|Libellé rôle|Code genre activité|"
        "Libellé genre activité"
    ).split("|")
)
REQUIRED = ("rpps", "last_name", "profession", "savoir_faire", "postcode", "commune_code")
REQUIRED_LABELS = {
    "rpps": "Identifiant PP",
    "last_name": "Nom d'exercice",
    "profession": "Code profession",
    "savoir_faire": "Code savoir-faire",
    "postcode": "Code postal (coord. structure)",
    "commune_code": "Code commune (coord. structure)",
}


def detect_encoding(header: bytes) -> str:
    """'utf-8' or 'latin-1' (read as Windows-1252) from the header line; raises RppsFormatError for
    anything else (UTF-16, binary)."""
    if header.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in header:
        raise RppsFormatError(
            "Encodage non reconnu (UTF-16 ou fichier binaire) : le fichier doit être l'extraction "
            "texte de l'Annuaire Santé, en UTF-8 ou en latin-1."
        )
    try:
        header.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        return "latin-1"


def decode_line(raw: bytes, encoding: str) -> str:
    """Decode a line; raises UnicodeDecodeError only for a UTF-8 file. In a latin-1 file, bytes
    that Windows-1252 leaves undefined (0x81, 0x8D…) read as latin-1."""
    if encoding == "utf-8":
        return raw.decode("utf-8")
    try:
        return raw.decode("cp1252")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def read_header(raw: bytes) -> tuple[str, list[str]]:
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    encoding = detect_encoding(raw)
    text = decode_line(raw, encoding)
    names = text.rstrip("\r\n").split("|")
    if names and names[-1] == "":
        names.pop()  # the trailing "|"
    return encoding, names


def map_columns(names: list[str]) -> tuple[dict[str, int], list[str]]:
    """Position of each known column and the list of ignored (unknown) columns. Raises
    RppsFormatError naming the missing required columns."""
    positions: dict[str, int] = {}
    for index, name in enumerate(names):
        positions.setdefault(normalise_header(name), index)
    mapping: dict[str, int] = {}
    for key, aliases in COLUMNS.items():
        for alias in aliases:
            if alias in positions:
                mapping[key] = positions[alias]
                break
    missing = [REQUIRED_LABELS[key] for key in REQUIRED if key not in mapping]
    if missing:
        raise RppsFormatError(
            "En-tête incomplet : colonne(s) obligatoire(s) absente(s) : "
            + ", ".join(f"« {m} »" for m in missing)
            + ". La première ligne doit être l'en-tête de l'extraction PS_LibreAcces_Personne_"
            "activite (champs séparés par « | »)."
        )
    unknown = [name for name in names if normalise_header(name) not in KNOWN_HEADERS]
    return mapping, unknown
