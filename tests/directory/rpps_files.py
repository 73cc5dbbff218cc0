"""Files in the real format of the Annuaire Santé extraction PS_LibreAcces_Personne_activite."""

from pathlib import Path

HEADER_56 = [
    "Type d'identifiant PP",
    "Identifiant PP",
    "Identification nationale PP",
    "Code civilité d'exercice",
    "Libellé civilité d'exercice",
    "Code civilité",
    "Libellé civilité",
    "Nom d'exercice",
    "Prénom d'exercice",
    "Code profession",
    "Libellé profession",
    "Code catégorie professionnelle",
    "Libellé catégorie professionnelle",
    "Code type savoir-faire",
    "Libellé type savoir-faire",
    "Code savoir-faire",
    "Libellé savoir-faire",
    "Code mode exercice",
    "Libellé mode exercice",
    "Numéro SIRET site",
    "Numéro SIREN site",
    "Numéro FINESS site",
    "Numéro FINESS établissement juridique",
    "Identifiant technique de la structure",
    "Raison sociale site",
    "Enseigne commerciale site",
    "Complément destinataire (coord. structure)",
    "Complément point géographique (coord. structure)",
    "Numéro Voie (coord. structure)",
    "Indice répétition voie (coord. structure)",
    "Code type de voie (coord. structure)",
    "Libellé type de voie (coord. structure)",
    "Libellé Voie (coord. structure)",
    "Mention distribution (coord. structure)",
    "Bureau cedex (coord. structure)",
    "Code postal (coord. structure)",
    "Code commune (coord. structure)",
    "Libellé commune (coord. structure)",
    "Code pays (coord. structure)",
    "Libellé pays (coord. structure)",
    "Téléphone (coord. structure)",
    "Téléphone 2 (coord. structure)",
    "Télécopie (coord. structure)",
    "Adresse e-mail (coord. structure)",
    "Code Département (structure)",
    "Libellé Département (structure)",
    "Ancien identifiant de la structure",
    "Autorité d'enregistrement",
    "Code secteur d'activité",
    "Libellé secteur d'activité",
    "Code section tableau pharmaciens",
    "Libellé section tableau pharmaciens",
    "Code rôle",
    "Libellé rôle",
    "Code genre activité",
    "Libellé genre activité",
]
HEADER_52 = HEADER_56[:52]
HEADER_50 = [h for h in HEADER_52 if "Département (structure)" not in h]
assert (len(HEADER_56), len(HEADER_52), len(HEADER_50)) == (56, 52, 50)


def gp_row(
    rpps="10001234567",
    last_name="DUPONT",
    first_name="Marie",
    savoir_faire="SM54",
    profession="10",
    postcode="62800",
    commune_code="62510",
    commune_name="LIEVIN",
    structure_id="S62000001",
    street="DE LA GARE",
    number="12",
    label="CABINET MEDICAL DE LA GARE",
    sector_code="SA08",
    phone="0321000000",
    email="cabinet@example.org",
    **extra,
) -> dict:
    row = {
        "Type d'identifiant PP": "8",
        "Identifiant PP": rpps,
        "Identification nationale PP": "8" + rpps,
        "Code civilité d'exercice": "DR",
        "Libellé civilité d'exercice": "Docteur",
        "Code civilité": "MME",
        "Libellé civilité": "Madame",
        "Nom d'exercice": last_name,
        "Prénom d'exercice": first_name,
        "Code profession": profession,
        "Libellé profession": "Médecin" if profession == "10" else "Infirmier",
        "Code catégorie professionnelle": "C",
        "Libellé catégorie professionnelle": "Civil",
        "Code type savoir-faire": "S",
        "Libellé type savoir-faire": "Spécialité ordinale",
        "Code savoir-faire": savoir_faire,
        "Libellé savoir-faire": "Médecine générale",
        "Code mode exercice": "L",
        "Libellé mode exercice": "Libéral",
        "Identifiant technique de la structure": structure_id,
        "Raison sociale site": label,
        "Numéro Voie (coord. structure)": number,
        "Libellé type de voie (coord. structure)": "Rue",
        "Code type de voie (coord. structure)": "R",
        "Libellé Voie (coord. structure)": street,
        "Bureau cedex (coord. structure)": f"{postcode} {commune_name}",
        "Code postal (coord. structure)": postcode,
        "Code commune (coord. structure)": commune_code,
        "Libellé commune (coord. structure)": commune_name,
        "Code pays (coord. structure)": "99000",
        "Libellé pays (coord. structure)": "France",
        "Téléphone (coord. structure)": phone,
        "Adresse e-mail (coord. structure)": email,
        "Code Département (structure)": postcode[:2],
        "Code secteur d'activité": sector_code,
        "Libellé secteur d'activité": {
            "SA07": "Cabinet individuel",
            "SA08": "Cabinet de groupe",
            "SA05": "Centre de santé",
        }.get(sector_code, ""),
        "Code genre activité": "GENR01",
        "Libellé genre activité": "Activité standard de soin",
    }
    row.update(extra)
    return row


def render_line(header: list[str], row: dict) -> str:
    return "|".join(str(row.get(name, "")) for name in header) + "|"


def write_rpps_file(
    path: Path,
    rows: list,
    *,
    header: list[str] = HEADER_56,
    encoding: str = "utf-8",
    newline: str = "\n",
) -> Path:
    """Rows are dicts (rendered with the header) or raw strings written as they are."""
    lines = ["|".join(header) + "|"]
    for row in rows:
        lines.append(row if isinstance(row, str) else render_line(header, row))
    path.write_bytes((newline.join(lines) + newline).encode(encoding))
    return path


def pharmacist_row(rpps="20000000001", **extra) -> dict:
    """A pharmacist's row: about 95 % of a real file is not a GP's."""
    return gp_row(
        rpps=rpps,
        profession="21",
        savoir_faire="",
        **{"Libellé profession": "Pharmacien", "Libellé savoir-faire": ""},
        **extra,
    )


def cut_file(path: Path, keep_fields: int, *, newline: bool = False) -> Path:
    """Cut the file's last line after `keep_fields` fields, as a download that stopped (without
    its line ending unless `newline`)."""
    lines = path.read_bytes().decode("utf-8").splitlines()
    lines[-1] = "|".join(lines[-1].split("|")[:keep_fields])
    path.write_bytes(("\n".join(lines) + ("\n" if newline else "")).encode("utf-8"))
    return path
