"""Import of the national directory of health professionals (Annuaire Santé, RPPS).

The public extraction `PS_LibreAcces_Personne_activite` (`ps-libreacces-personne-activite.txt`)
holds one line per professional × practice site, fields separated by `|`, each line ending with a
`|`, no quoting; UTF-8 (older files: latin-1 / Windows-1252, detected on the header). About 2
million lines, 800 MB for France. Columns are found by their normalised header name, so the 50-,
52- and 56-column variants (and any future one) read the same; unknown columns are ignored.

Two phases (docs/decisions/0004-rpps-import.md):

1. **Read** (`read_rpps_file`): stream the file line by line in binary; a line is parsed only
   when it may be a GP row (it contains `|SM26|`, `|SM53|` or `|SM54|`: a cheap substring test
   that skips ~95 % of the file), then checked whole: field count, RPPS number, profession 10,
   savoir-faire, name, commune. A row is kept whole or refused whole with its line number and
   reason. Only the rows of the communes in scope (the platform's CPTS territories, or some
   départements) are kept, aggregated per practitioner: memory depends on the GPs in scope, not on
   the file's size.
2. **Apply** (`apply_rpps_rows`): one database transaction. Practitioners and sites are created or
   updated in bulk (fields the coordination corrected are kept), and those of the scope that are
   no longer in the file are marked as gone (never deleted). If anything fails, the transaction
   rolls back and the previous state stays intact.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accesmt.territory.codes import normalise_name
from accesmt.territory.geocoding import commune_centre
from accesmt.territory.models import CPTS, Commune, PostalCode, TerritoryCommune

from .models import (
    GP_PROFESSION_CODE,
    GP_SAVOIR_FAIRE_CODES,
    GeocodeSource,
    PracticeSite,
    PracticeType,
    Practitioner,
    Source,
)

MAX_REPORTED_ERRORS = 100
BATCH_SIZE = 500
PROGRESS_EVERY_LINES = 100_000
_READ_BUFFER = 1 << 20

# Cheap pre-filter on raw bytes: a GP row holds one of these savoir-faire codes as a whole field.
_GP_MARKERS = tuple(b"|" + code.encode() + b"|" for code in sorted(GP_SAVOIR_FAIRE_CODES))
_LINE_ENDS = (b"|\n", b"|\r\n", b"|")  # a full line ends with its trailing "|"


class RppsFormatError(Exception):
    """The file cannot be imported at all (empty, unreadable encoding, missing header columns)."""


class RppsTruncatedFile(RppsFormatError):
    """The file's last line has no line ending or the wrong number of fields: the file was most
    likely cut (download stopped). Refused whole unless the operator accepts a partial import."""


TRUNCATED_ADVICE = (
    "Le fichier a sans doute été coupé pendant le téléchargement : téléchargez-le à nouveau. "
    "Pour importer quand même les lignes complètes, acceptez un import partiel (les médecins "
    "des lignes manquantes seraient marqués absents)."
)


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


@dataclass(frozen=True)
class CptsAbsences:
    """GPs of one CPTS that an import would mark absent, out of its present GPs."""

    cpts: str
    absent: int
    present: int

    def __str__(self) -> str:
        share = round(100 * self.absent / self.present)
        gps = "médecins" if self.absent > 1 else "médecin"
        return f"{self.cpts} : {self.absent} {gps} sur {self.present} ({share} %)"


class RppsAbsencesNeedConfirmation(Exception):
    """The import would mark absent more than settings.RPPS_MAX_ABSENT_SHARE of a CPTS's GPs.
    Nothing was written (the transaction rolled back); run again with `confirm_absences`."""

    MAX_NAMES_SHOWN = 500

    def __init__(self, *, share: float, cpts: list[CptsAbsences], practitioners, report):
        self.share = share
        self.cpts = cpts
        self.practitioners = practitioners  # [(rpps, "Dr Prénom NOM")], sorted by name
        self.report = report
        super().__init__(self.headline())

    def headline(self) -> str:
        return (
            f"Cet import marquerait absents plus de {round(100 * self.share)} % des médecins "
            f"d'au moins une CPTS : rien n'a été enregistré. Vérifiez le fichier, puis "
            f"confirmez si ces départs sont réels."
        )

    def lines(self) -> list[str]:
        """The figures and the names, in French (the command's output, the admin page)."""
        shown = self.practitioners[: self.MAX_NAMES_SHOWN]
        lines = [self.headline(), *(f"CPTS {c}" for c in self.cpts)]
        lines.append(f"Médecins qui seraient marqués absents ({len(self.practitioners)}) :")
        lines.extend(f"  {rpps} – {name}" for rpps, name in shown)
        if len(self.practitioners) > len(shown):
            lines.append(f"  … et {len(self.practitioners) - len(shown)} autres")
        return lines


class Reason:
    """Why a line is refused (French, shown in the report)."""

    ENCODING = "encodage invalide"
    TRUNCATED = "ligne tronquée (champs manquants)"
    TOO_MANY_FIELDS = "ligne malformée (trop de champs)"
    RPPS = "identifiant RPPS invalide (11 chiffres attendus)"
    NAME = "nom d'exercice manquant"
    POSTCODE = "code postal invalide"
    NO_COMMUNE = "commune introuvable (ni code commune ni code postal exploitable)"
    AMBIGUOUS = "commune ambiguë : code postal partagé et libellé de commune non reconnu"


@dataclass(frozen=True)
class RowError:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"ligne {self.line} : {self.reason}"


@dataclass
class ImportReport:
    """What an import read and did. `errors` holds the first MAX_REPORTED_ERRORS refused lines,
    `error_counts` every refusal by reason."""

    path: str = ""
    encoding: str = ""
    columns: int = 0
    unknown_columns: list[str] = field(default_factory=list)
    lines_read: int = 0
    gp_rows: int = 0
    rows_in_scope: int = 0
    rows_out_of_scope: int = 0
    duplicates: int = 0
    rejected: int = 0
    errors: list[RowError] = field(default_factory=list)
    error_counts: Counter = field(default_factory=Counter)
    practitioners_created: int = 0
    practitioners_updated: int = 0
    practitioners_unchanged: int = 0
    practitioners_back: int = 0
    practitioners_gone: int = 0
    sites_created: int = 0
    sites_updated: int = 0
    sites_gone: int = 0
    read_seconds: float = 0.0
    apply_seconds: float = 0.0

    @property
    def practitioners_seen(self) -> int:
        return (
            self.practitioners_created + self.practitioners_updated + self.practitioners_unchanged
        )

    def refuse(self, line: int, reason: str) -> None:
        self.rejected += 1
        self.error_counts[reason] += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append(RowError(line, reason))

    def summary_lines(self) -> list[str]:
        """The report in French, one line per fact (for the command and the admin page)."""
        lines = [
            f"Fichier : {self.columns} colonnes, encodage {self.encoding}, "
            f"{self.lines_read} lignes lues en {self.read_seconds:.1f} s.",
            f"Lignes de médecins généralistes : {self.gp_rows} ; dans le périmètre : "
            f"{self.rows_in_scope} ; hors périmètre : {self.rows_out_of_scope} ; "
            f"doublons ignorés : {self.duplicates} ; refusées : {self.rejected}.",
            f"Médecins : {self.practitioners_created} créés, {self.practitioners_updated} mis à "
            f"jour, {self.practitioners_unchanged} inchangés, {self.practitioners_back} "
            f"réapparus, {self.practitioners_gone} absents du fichier (marqués partis).",
            f"Lieux d'exercice : {self.sites_created} créés, {self.sites_updated} mis à jour, "
            f"{self.sites_gone} absents du fichier (marqués fermés).",
        ]
        if self.unknown_columns:
            lines.append(
                f"Colonnes ignorées ({len(self.unknown_columns)}) : "
                + ", ".join(self.unknown_columns[:10])
                + (" …" if len(self.unknown_columns) > 10 else "")
            )
        for reason, count in self.error_counts.most_common():
            lines.append(f"Refusées – {reason} : {count}")
        return lines


@dataclass
class SiteRow:
    site_key: str
    structure_id: str
    label: str
    address_line1: str
    address_line2: str
    address_line3: str
    postcode: str
    commune_name: str
    commune_id: str
    phone: str
    email: str
    practice_type: str


@dataclass
class PractitionerRow:
    rpps: str
    civility: str
    first_name: str
    last_name: str
    specialty_codes: set[str]
    email: str
    sites: dict[str, SiteRow]


@dataclass
class Scope:
    """The communes an import covers: the platform's CPTS territories or some départements."""

    communes: frozenset[str]
    departements: tuple[str, ...] = ()

    def q(self, prefix: str = "commune") -> Q:
        if self.departements:
            return Q(**{f"{prefix}__departement__in": self.departements})
        return Q(**{f"{prefix}__territory__isnull": False})

    @classmethod
    def platform(cls) -> Scope:
        return cls(frozenset(TerritoryCommune.objects.values_list("commune_id", flat=True)))

    @classmethod
    def for_departements(cls, departements: Iterable[str]) -> Scope:
        codes = tuple(sorted(set(departements)))
        communes = Commune.objects.filter(departement__in=codes).values_list("pk", flat=True)
        return cls(frozenset(communes), codes)


class _CommuneResolver:
    """Commune of a row: the INSEE code when known, else the postal code (and, when a postal
    code serves several communes, the commune name). Loaded once for the scope."""

    def __init__(self, scope: Scope):
        self.scope = scope.communes
        self.known = frozenset(Commune.objects.values_list("pk", flat=True))
        scope_postcodes = PostalCode.objects.filter(commune_id__in=self.scope).values("code")
        self.by_postcode: dict[str, list[tuple[str, str]]] = {}
        for code, insee, name in PostalCode.objects.filter(code__in=scope_postcodes).values_list(
            "code", "commune_id", "commune__name"
        ):
            self.by_postcode.setdefault(code, []).append((insee, normalise_name(name)))

    def resolve(self, commune_code: str, postcode: str, name: str) -> tuple[str | None, str | None]:
        """(INSEE code in scope, None), (None, None) when out of scope, (None, reason) when
        refused."""
        if commune_code and commune_code in self.known:
            return (commune_code, None) if commune_code in self.scope else (None, None)
        if not postcode:
            return None, Reason.NO_COMMUNE
        if not _POSTCODE.fullmatch(postcode):
            return None, Reason.POSTCODE
        candidates = self.by_postcode.get(postcode)
        if not candidates:
            return None, None  # no commune of the scope has this postal code
        if len(candidates) == 1:
            insee = candidates[0][0]
        else:
            wanted = normalise_name(_CEDEX.sub("", name))
            matches = [insee for insee, key in candidates if key == wanted]
            if len(matches) != 1:
                if all(insee not in self.scope for insee, _ in candidates):
                    return None, None
                return None, Reason.AMBIGUOUS
            insee = matches[0]
        return (insee, None) if insee in self.scope else (None, None)


_POSTCODE = re.compile(r"\d{5}")
_RPPS = re.compile(r"\d{11}")
_CEDEX = re.compile(r"^\s*\d{5}\s+|\s+cedex(\s+\d+)?\s*$", re.IGNORECASE)
_EMAIL = re.compile(r"[^@\s|]+@[^@\s|]+\.[a-zA-Z]{2,}")
_MSP = re.compile(
    r"\b(MSP|MAISON\s+(DE\s+)?SANTE|MAISON\s+MEDICALE\s+PLURI|POLE\s+(DE\s+)?SANTE)\b"
)


def _ascii_upper(value: str) -> str:
    value = unicodedata.normalize("NFKD", value)
    return "".join(ch for ch in value if not unicodedata.combining(ch)).upper()


def practice_type_for(sector_code: str, sector: str, label: str) -> str:
    """Solo / group / MSP / centre de santé from the activity sector and the structure's name
    (a heuristic: the file has no MSP flag; the coordination corrects it when wrong)."""
    name = _ascii_upper(label)
    sector_upper = _ascii_upper(sector)
    if sector_code == "SA05" or "CENTRE DE SANTE" in sector_upper or "CENTRE DE SANTE" in name:
        return PracticeType.HEALTH_CENTRE
    if _MSP.search(name):
        return PracticeType.MSP
    if sector_code == "SA07" or "INDIVIDUEL" in sector_upper:
        return PracticeType.SOLO
    if sector_code in ("SA08", "SA09") or "GROUPE" in sector_upper or "SOCIETE" in sector_upper:
        return PracticeType.GROUP
    return PracticeType.OTHER


def site_key_for(structure_id: str, address: str, postcode: str, commune: str) -> str:
    """Stable key of a site: the structure's technical identifier when the file gives one, else
    the normalised address. 32 hex characters."""
    if structure_id:
        basis = "s:" + structure_id
    else:
        basis = "a:" + "|".join(normalise_header(p) for p in (address, postcode, commune))
    return hashlib.blake2b(basis.encode(), digest_size=16).hexdigest()


def _clip(value: str, length: int) -> str:
    return value[:length]


def _phone(value: str) -> str:
    digits = re.sub(r"[^\d+]", "", value)
    return digits if len(digits) <= 20 else ""


def _email(value: str) -> str:
    value = value.strip()
    return value.lower() if len(value) <= 254 and _EMAIL.fullmatch(value) else ""


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


def _decode(raw: bytes, encoding: str) -> str:
    """Decode a line; raises UnicodeDecodeError only for a UTF-8 file. In a latin-1 file, bytes
    that Windows-1252 leaves undefined (0x81, 0x8D…) read as latin-1."""
    if encoding == "utf-8":
        return raw.decode("utf-8")
    try:
        return raw.decode("cp1252")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _read_header(raw: bytes) -> tuple[str, list[str]]:
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    encoding = detect_encoding(raw)
    text = _decode(raw, encoding)
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


ProgressCallback = Callable[[int, int, int], None]


def read_rpps_file(
    path: str | os.PathLike,
    *,
    scope: Scope,
    report: ImportReport | None = None,
    progress: ProgressCallback | None = None,
    accept_partial: bool = False,
) -> tuple[dict[str, PractitionerRow], ImportReport]:
    """Stream the file and return the GP rows of the scope, aggregated per RPPS number, with the
    report of what was read and refused. Raises RppsFormatError when the file cannot be read,
    RppsTruncatedFile when its last line has no line ending or the wrong field count (a cut
    file: the GPs after the cut would be marked absent), unless `accept_partial`."""
    report = report or ImportReport()
    report.path = os.fspath(path)
    started = time.monotonic()
    total = os.path.getsize(path)
    resolver = _CommuneResolver(scope)
    practitioners: dict[str, PractitionerRow] = {}
    with open(path, "rb", buffering=_READ_BUFFER) as fh:
        header = fh.readline()
        if not header.strip():
            raise RppsFormatError("Fichier vide : aucune ligne d'en-tête.")
        encoding, names = _read_header(header)
        mapping, unknown = map_columns(names)
        report.encoding = encoding
        report.columns = len(names)
        report.unknown_columns = unknown
        width = len(names)
        col = mapping.get
        i_rpps, i_last, i_prof, i_sf = (
            mapping[k] for k in ("rpps", "last_name", "profession", "savoir_faire")
        )
        i_pc, i_cc = mapping["postcode"], mapping["commune_code"]
        optional = {
            key: col(key)
            for key in COLUMNS
            if key
            not in ("rpps", "last_name", "profession", "savoir_faire", "postcode", "commune_code")
        }
        present = [(key, index) for key, index in optional.items() if index is not None]
        absent = [key for key, index in optional.items() if index is None]
        markers = _GP_MARKERS
        line_no = 1
        gp_rows = 0
        raw = header
        last_line_refusal = ""  # why the last line read was refused for its field count
        for raw in fh:
            line_no += 1
            if line_no % PROGRESS_EVERY_LINES == 0 and progress is not None:
                progress(line_no - 1, fh.tell(), total)
            # Every line, whatever the profession, has the header's field count: a cut line
            # (often the last one, from a download that stopped) is never skipped silently.
            # Counting "|" runs in C on the raw bytes: the read stays cheap.
            pipes = raw.count(b"|")
            maybe_gp = markers[0] in raw or markers[1] in raw or markers[2] in raw
            if pipes == width and not raw.endswith(_LINE_ENDS):
                pipes += 1  # a field after the last "|": one too many
            if pipes != width and pipes != width - 1:  # width - 1: trailing "|" missing
                if not raw.strip():
                    continue  # an empty line holds no data
                gp_rows += maybe_gp
                reason = Reason.TRUNCATED if pipes < width else Reason.TOO_MANY_FIELDS
                last_line_refusal = reason + f" : {pipes} champs sur {width}"
                report.refuse(line_no, last_line_refusal)
                continue
            last_line_refusal = ""
            if not maybe_gp:
                continue
            try:
                text = _decode(raw, encoding)
            except UnicodeDecodeError:
                gp_rows += 1
                report.refuse(line_no, Reason.ENCODING)
                continue
            fields = text.rstrip("\r\n").split("|")
            if fields[i_prof].strip() != GP_PROFESSION_CODE:
                continue
            savoir_faire = fields[i_sf].strip()
            if savoir_faire not in GP_SAVOIR_FAIRE_CODES:
                continue
            gp_rows += 1
            rpps = fields[i_rpps].strip()
            if not _RPPS.fullmatch(rpps):
                report.refuse(line_no, Reason.RPPS)
                continue
            last_name = fields[i_last].strip()
            if not last_name:
                report.refuse(line_no, Reason.NAME)
                continue

            values = dict.fromkeys(absent, "")
            values.update((key, fields[index].strip()) for key, index in present)
            get = values.__getitem__
            postcode = fields[i_pc].strip()
            commune_name = get("commune_name") or _CEDEX.sub("", get("cedex")).strip()
            insee, refusal = resolver.resolve(fields[i_cc].strip().upper(), postcode, commune_name)
            if refusal:
                report.refuse(line_no, refusal + (f" ({postcode})" if postcode else ""))
                continue
            if insee is None:
                report.rows_out_of_scope += 1
                continue
            street = " ".join(
                p
                for p in (get("number"), get("repetition"), get("street_type"), get("street"))
                if p
            )
            line1 = " ".join(p for p in (get("recipient"), get("place")) if p)
            line3 = get("distribution")
            structure_id = get("structure_id")
            label = get("brand") or get("company_name")
            site = SiteRow(
                site_key=site_key_for(structure_id, f"{line1} {street} {line3}", postcode, insee),
                structure_id=_clip(structure_id, 40),
                label=_clip(label, 200),
                address_line1=_clip(line1, 200),
                address_line2=_clip(street, 200),
                address_line3=_clip(line3, 200),
                postcode=postcode if _POSTCODE.fullmatch(postcode) else "",
                commune_name=_clip(commune_name, 120),
                commune_id=insee,
                phone=_phone(get("phone")),
                email=_email(get("email")),
                practice_type=practice_type_for(get("sector_code"), get("sector"), label),
            )
            report.rows_in_scope += 1
            practitioner = practitioners.get(rpps)
            if practitioner is None:
                practitioner = practitioners[rpps] = PractitionerRow(
                    rpps=rpps,
                    civility=_clip(get("civility"), 20),
                    first_name=_clip(get("first_name"), 120),
                    last_name=_clip(last_name, 120),
                    specialty_codes={savoir_faire},
                    email=site.email,
                    sites={},
                )
            else:
                practitioner.specialty_codes.add(savoir_faire)
                practitioner.email = practitioner.email or site.email
            if site.site_key in practitioner.sites:
                report.duplicates += 1
                continue
            practitioner.sites[site.site_key] = site
        report.lines_read = line_no - 1
        report.gp_rows = gp_rows
    if line_no > 1 and not accept_partial:
        if not raw.endswith(b"\n"):
            raise RppsTruncatedFile(
                f"Fichier incomplet : la dernière ligne (ligne {line_no}) n'a pas de fin de "
                "ligne. " + TRUNCATED_ADVICE
            )
        if last_line_refusal:
            raise RppsTruncatedFile(
                f"Fichier incomplet : la dernière ligne (ligne {line_no}) n'a pas le nombre de "
                f"champs de l'en-tête ({last_line_refusal}). " + TRUNCATED_ADVICE
            )
    if progress is not None:
        progress(report.lines_read, total, total)
    report.read_seconds = time.monotonic() - started
    return practitioners, report


PRACTITIONER_FIELDS = ("civility", "first_name", "last_name", "specialty_codes", "email")
SITE_FIELDS = (
    "structure_id",
    "label",
    "address_line1",
    "address_line2",
    "address_line3",
    "postcode",
    "commune_name",
    "phone",
    "email",
    "practice_type",
)
_ADDRESS_FIELDS = ("address_line1", "address_line2", "address_line3", "postcode")


def _chunks(items: list, size: int = BATCH_SIZE) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _place(site: PracticeSite, communes: dict[str, Commune]) -> None:
    site.latitude, site.longitude, site.geocode_source = commune_centre(
        communes.get(site.commune_id)
    )


def _present_gps_by_cpts() -> dict[int, set[int]]:
    """Ids of the present GPs of each CPTS (a present site in its territory), before the import."""
    by_cpts: dict[int, set[int]] = {}
    rows = (
        PracticeSite.objects.filter(
            is_gone=False, practitioner__is_gone=False, commune__territory__isnull=False
        )
        .values_list("commune__territory__cpts_id", "practitioner_id")
        .distinct()
    )
    for cpts_id, practitioner_id in rows.iterator(chunk_size=5000):
        by_cpts.setdefault(cpts_id, set()).add(practitioner_id)
    return by_cpts


def _check_absences(
    present: dict[int, set[int]], gone_ids: set[int], *, share: float, report: ImportReport
) -> None:
    """Raise RppsAbsencesNeedConfirmation when the GPs to mark absent exceed `share` of the
    present GPs of a CPTS."""
    over = {
        cpts_id: ids & gone_ids
        for cpts_id, ids in present.items()
        if len(ids & gone_ids) > share * len(ids)
    }
    if not over:
        return
    names = dict(CPTS.objects.filter(pk__in=over).values_list("pk", "name"))
    cpts = [
        CptsAbsences(names[cpts_id], len(absent), len(present[cpts_id]))
        for cpts_id, absent in sorted(over.items(), key=lambda item: names[item[0]])
    ]
    ids = set().union(*over.values())
    practitioners = sorted(
        ((p.rpps, p.display_name) for p in Practitioner.objects.filter(pk__in=ids)),
        key=lambda item: (item[1].split()[-1], item[1]),
    )
    raise RppsAbsencesNeedConfirmation(
        share=share, cpts=cpts, practitioners=practitioners, report=report
    )


@transaction.atomic
def apply_rpps_rows(
    practitioners: dict[str, PractitionerRow],
    *,
    scope: Scope,
    report: ImportReport,
    confirm_absences: bool = False,
) -> ImportReport:
    """Write the rows read into the directory, in one transaction (all or nothing). Raises
    RppsAbsencesNeedConfirmation (nothing written) when the GPs to mark absent exceed
    settings.RPPS_MAX_ABSENT_SHARE of a CPTS's present GPs, unless `confirm_absences`."""
    started = time.monotonic()
    now = timezone.now()
    present_before = None if confirm_absences else _present_gps_by_cpts()
    communes = {
        c.pk: c
        for c in Commune.objects.filter(
            pk__in={s.commune_id for p in practitioners.values() for s in p.sites.values()}
        )
    }
    existing: dict[str, Practitioner] = {}
    rpps_numbers = list(practitioners)
    for chunk in _chunks(rpps_numbers):
        for practitioner in Practitioner.objects.filter(rpps__in=chunk):
            existing[practitioner.rpps] = practitioner

    to_create: list[Practitioner] = []
    to_update: list[Practitioner] = []
    seen_ids: list[int] = []
    for rpps, row in practitioners.items():
        practitioner = existing.get(rpps)
        values: dict[str, Any] = {
            "civility": row.civility,
            "first_name": row.first_name,
            "last_name": row.last_name,
            "specialty_codes": sorted(row.specialty_codes),
            "email": row.email,
        }
        if practitioner is None:
            to_create.append(Practitioner(rpps=rpps, source=Source.RPPS, imported_at=now, **values))
            continue
        changed = False
        for name, value in values.items():
            if name in practitioner.corrections or getattr(practitioner, name) == value:
                continue
            if name == "email" and not value:
                continue  # keep an address found earlier rather than blanking it
            setattr(practitioner, name, value)
            changed = True
        if practitioner.is_gone:
            practitioner.is_gone, practitioner.gone_since = False, None
            report.practitioners_back += 1
            changed = True
        if practitioner.source != Source.RPPS:
            practitioner.source = Source.RPPS  # a GP added by hand is now in the national file
            changed = True
        report.practitioners_updated += changed
        report.practitioners_unchanged += not changed
        seen_ids.append(practitioner.pk)
        if changed:
            practitioner.updated_at = now
            to_update.append(practitioner)
    Practitioner.objects.bulk_create(to_create, batch_size=BATCH_SIZE)
    report.practitioners_created = len(to_create)
    # bulk_update writes CASE expressions, slow to build: only for the rows that changed.
    Practitioner.objects.bulk_update(
        to_update,
        [*PRACTITIONER_FIELDS, "is_gone", "gone_since", "source", "updated_at"],
        batch_size=BATCH_SIZE,
    )
    for chunk in _chunks(seen_ids):
        Practitioner.objects.filter(pk__in=chunk).update(imported_at=now)
    # bulk_create on SQLite/PostgreSQL sets pks; re-read to be independent of the backend.
    ids: dict[str, int] = {}
    for chunk in _chunks(rpps_numbers):
        ids.update(Practitioner.objects.filter(rpps__in=chunk).values_list("rpps", "pk"))

    existing_sites: dict[tuple[int, str], PracticeSite] = {}
    practitioner_ids = list(ids.values())
    for chunk in _chunks(practitioner_ids):
        for site in PracticeSite.objects.filter(practitioner_id__in=chunk, source=Source.RPPS):
            existing_sites[(site.practitioner_id, site.site_key)] = site
    seen_site_ids: set[int] = set()
    sites_to_create: list[PracticeSite] = []
    sites_to_update: list[PracticeSite] = []
    for rpps, row in practitioners.items():
        practitioner_id = ids[rpps]
        for key, site_row in row.sites.items():
            site = existing_sites.get((practitioner_id, key))
            values = {name: getattr(site_row, name) for name in SITE_FIELDS}
            if site is None:
                site = PracticeSite(
                    practitioner_id=practitioner_id,
                    site_key=key,
                    commune_id=site_row.commune_id,
                    source=Source.RPPS,
                    imported_at=now,
                    **values,
                )
                _place(site, communes)
                sites_to_create.append(site)
                continue
            seen_site_ids.add(site.pk)
            corrected = site.corrections
            changed = False
            moved = False
            for name, value in values.items():
                if name in corrected or getattr(site, name) == value:
                    continue
                setattr(site, name, value)
                changed = True
                moved = moved or name in _ADDRESS_FIELDS
            if "commune" not in corrected and site.commune_id != site_row.commune_id:
                site.commune_id = site_row.commune_id
                changed = moved = True
            coordinates_corrected = "latitude" in corrected or "longitude" in corrected
            if not coordinates_corrected and (moved or site.geocode_source == GeocodeSource.NONE):
                placed = (site.latitude, site.longitude, site.geocode_source)
                _place(site, communes)
                changed = changed or placed != (site.latitude, site.longitude, site.geocode_source)
            if site.is_gone:
                site.is_gone, site.gone_since = False, None
                changed = True
            report.sites_updated += changed
            if changed:
                site.updated_at = now
                sites_to_update.append(site)
    PracticeSite.objects.bulk_create(sites_to_create, batch_size=BATCH_SIZE)
    report.sites_created = len(sites_to_create)
    PracticeSite.objects.bulk_update(
        sites_to_update,
        [
            *SITE_FIELDS,
            "commune",
            "latitude",
            "longitude",
            "geocode_source",
            "is_gone",
            "gone_since",
            "updated_at",
        ],
        batch_size=BATCH_SIZE,
    )
    for chunk in _chunks(list(seen_site_ids)):
        PracticeSite.objects.filter(pk__in=chunk).update(imported_at=now)

    # Sites of the scope from an earlier file that this file no longer lists: gone.
    stale_sites = PracticeSite.objects.filter(scope.q(), source=Source.RPPS, is_gone=False).exclude(
        imported_at=now
    )
    report.sites_gone = stale_sites.update(is_gone=True, gone_since=now, updated_at=now)
    # Practitioners of the scope no longer in the file (no present site left): gone.
    stale_practitioners = (
        Practitioner.objects.filter(source=Source.RPPS, is_gone=False)
        .exclude(imported_at=now)
        .filter(sites__in=PracticeSite.objects.filter(scope.q()))
        .exclude(sites__is_gone=False)
        .distinct()
    )
    gone_ids = list(stale_practitioners.values_list("pk", flat=True))
    if present_before is not None:
        _check_absences(
            present_before, set(gone_ids), share=settings.RPPS_MAX_ABSENT_SHARE, report=report
        )
    report.practitioners_gone = Practitioner.objects.filter(pk__in=gone_ids).update(
        is_gone=True, gone_since=now, updated_at=now
    )
    report.apply_seconds = time.monotonic() - started
    return report


def rpps_import(
    path: str | os.PathLike,
    *,
    departements: Iterable[str] = (),
    progress: ProgressCallback | None = None,
    dry_run: bool = False,
    accept_partial: bool = False,
    confirm_absences: bool = False,
) -> ImportReport:
    """Import the GPs of an Annuaire Santé extraction for the platform's CPTS territories (or
    the given départements). Raises RppsFormatError when the file cannot be imported at all;
    otherwise returns the report (refused lines included). The database changes are applied in
    one transaction: a failure leaves the previous state intact.

    A cut file (last line without line ending or with the wrong field count) raises
    RppsTruncatedFile unless `accept_partial`; marking absent more than
    settings.RPPS_MAX_ABSENT_SHARE of a CPTS's GPs raises RppsAbsencesNeedConfirmation (nothing
    written) unless `confirm_absences`."""
    departements = tuple(d for d in departements if d)
    scope = Scope.for_departements(departements) if departements else Scope.platform()
    if not scope.communes:
        raise RppsFormatError(
            "Aucune commune dans le périmètre : définissez le territoire d'au moins une CPTS "
            "ou indiquez un département (les communes doivent être chargées : manage.py "
            "load_communes)."
        )
    rows, report = read_rpps_file(
        path, scope=scope, progress=progress, accept_partial=accept_partial
    )
    if dry_run:
        return report
    return apply_rpps_rows(rows, scope=scope, report=report, confirm_absences=confirm_absences)


__all__ = [
    "CptsAbsences",
    "ImportReport",
    "RppsAbsencesNeedConfirmation",
    "RppsTruncatedFile",
    "RowError",
    "RppsFormatError",
    "Scope",
    "apply_rpps_rows",
    "read_rpps_file",
    "rpps_import",
]
