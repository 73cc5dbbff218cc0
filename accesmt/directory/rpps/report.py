"""What an RPPS import read and did, and why it may stop: the report, the refusal reasons and
the errors the command and the admin page show (in French)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

MAX_REPORTED_ERRORS = 100


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
    phases: dict[str, float] = field(default_factory=dict)  # seconds of each write phase

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
