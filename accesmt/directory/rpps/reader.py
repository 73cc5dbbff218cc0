"""Phase 1 of an RPPS import: stream the file in binary, a block of lines at a time (constant
memory), check every line's field count, parse the GP rows and keep those of the scope. Nothing
is written to the database here: the rows kept are given to a sink, the writer's, as they come.

The GP rows of the scope (all of them, about 100,000, when the platform covers France) are not
kept as Python objects: each goes, already cleaned, as one line to a spool file on disk
(`ScopeRows`), and only compact facts stay in memory, one small integer per GP (the savoir-faire
codes seen) and per RPPS × site (a 64-bit key, for the duplicates), plus the first e-mail of the
GPs whose file gives one (docs/decisions/0004-rpps-import.md, "National scope")."""

from __future__ import annotations

import functools
import hashlib
import os
import re
import tempfile
import time
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, fields
from itertools import repeat
from operator import itemgetter

from django.db.models import Q

from accesmt.territory.codes import normalise_name
from accesmt.territory.models import Commune, PostalCode, TerritoryCommune

from ..models import GP_PROFESSION_CODE, GP_SAVOIR_FAIRE_CODES, PracticeType
from .columns import decode_line, map_columns, normalise_header, read_header
from .report import (
    TRUNCATED_ADVICE,
    ImportReport,
    Reason,
    RppsFormatError,
    RppsTruncatedFile,
)

PROGRESS_EVERY_LINES = 100_000
_READ_BUFFER = 1 << 18  # bytes read at a time; the lines of each block are checked together

# Cheap pre-filter on raw bytes: a GP row holds one of these savoir-faire codes as a whole field.
_GP_MARKERS = tuple(b"|" + code.encode() + b"|" for code in sorted(GP_SAVOIR_FAIRE_CODES))
_GP_MARKER = re.compile(b"|".join(re.escape(marker) for marker in _GP_MARKERS))
_LINE_ENDS = (b"|\n", b"|\r\n", b"|")  # a full line ends with its trailing "|"


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
    phone: str
    email: str
    practice_type: str
    commune_id: str


SITE_ROW_FIELDS = tuple(f.name for f in fields(SiteRow))
_GP_CODES = tuple(sorted(GP_SAVOIR_FAIRE_CODES))
_GP_CODE_BITS = {code: 1 << n for n, code in enumerate(_GP_CODES)}
_SEP = "\x1f"  # unit separator: never in a field of the file (fields are split on "|")

# A spooled row: the practitioner's fields, the site's (in SiteRow's order), the site's hash.
SPOOL_FIELDS = ("rpps", "civility", "first_name", "last_name", *SITE_ROW_FIELDS, "site_hash")
_SITE_AT = SPOOL_FIELDS.index("site_key")
_SITE_EMAIL_AT = SPOOL_FIELDS.index("email")


# Given each row kept: its values (SPOOL_FIELDS but the hash), its site's hash, and its
# practitioner's savoir-faire codes (bits) and e-mail so far.
RowSink = Callable[[tuple[str, ...], str, int, str], None]


def specialty_codes_of(bits: int) -> list[str]:
    return [code for code in _GP_CODES if bits & _GP_CODE_BITS[code]]


def row_hash(text: str) -> str:
    """Digest of the file's values of a row, joined by the unit separator (16 hex characters):
    equal to the one stored by the last import that wrote the row when the file has not changed
    it."""
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


@dataclass
class SpooledRow:
    """One GP row of the scope as read back from the spool: the practitioner's fields of that
    row and its site."""

    rpps: str
    civility: str
    first_name: str
    last_name: str
    site: SiteRow


class ScopeRows:
    """The GP rows of the scope, in file order, one per RPPS × site (duplicates dropped), spooled
    to a temporary file with the hash of each site's values; in memory, per GP, the savoir-faire
    codes seen (a bit set) and the first e-mail found. Close it (or use it as a context manager)
    to delete the spool."""

    def __init__(self, sink: RowSink | None = None):
        # Closed by close() / the context manager (the rows outlive this call).
        self._spool = tempfile.TemporaryFile("w+", encoding="utf-8", newline="\n")  # noqa: SIM115
        self.specialties: dict[int, int] = {}  # RPPS number -> bits of GP savoir-faire codes
        self.emails: dict[int, str] = {}  # RPPS number -> first e-mail of their sites
        # RPPS numbers whose savoir-faire codes or e-mail a row after their first one changed.
        self.revised: set[int] = set()
        self._site_refs: set[int] = set()  # RPPS number × site key, 64 bits
        self._sink = sink
        self.rows = 0

    def __enter__(self) -> ScopeRows:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._spool.close()
        self._site_refs = set()

    def __len__(self) -> int:
        """Number of GPs (distinct RPPS numbers)."""
        return len(self.specialties)

    def add(self, values: tuple[str, ...], savoir_faire: str) -> bool:
        """Keep a row, its values in SPOOL_FIELDS' order but the hash; False when the same
        RPPS × site was already kept (a duplicate)."""
        number = int(values[0])
        seen = self.specialties.get(number)
        bits = (seen or 0) | _GP_CODE_BITS[savoir_faire]
        self.specialties[number] = bits
        email = values[_SITE_EMAIL_AT]
        if email and number not in self.emails:
            self.emails[number] = email
            if seen is not None:
                self.revised.add(number)
        if seen is not None and bits != seen:
            self.revised.add(number)
        ref = hash((number, values[_SITE_AT]))
        if ref in self._site_refs:
            return False
        self._site_refs.add(ref)
        line = _SEP.join(values)
        if line.count(_SEP) != len(values) - 1:
            line = _SEP.join(v.replace(_SEP, " ") for v in values)
        # The site's values but its key: from after the key's separator to the end.
        digest = row_hash(line[sum(map(len, values[: _SITE_AT + 1])) + _SITE_AT + 1 :])
        self._spool.write(f"{line}{_SEP}{digest}\n")
        self.rows += 1
        if self._sink is not None:
            self._sink(values, digest, bits, self.emails.get(number, ""))
        return True

    def finish_reading(self) -> None:
        self._site_refs = set()  # only needed while reading
        self._spool.flush()

    def records(self) -> Iterator[list[str]]:
        """The rows kept, in file order, each as its list of values in SPOOL_FIELDS' order (can
        be iterated several times)."""
        self._spool.seek(0)
        for line in self._spool:
            yield line[:-1].split(_SEP)

    def __iter__(self) -> Iterator[SpooledRow]:
        """The rows kept, in file order (can be iterated several times)."""
        for values in self.records():
            yield SpooledRow(*values[:_SITE_AT], SiteRow(*values[_SITE_AT:-1]))

    def specialty_codes(self, rpps: str) -> list[str]:
        return specialty_codes_of(self.specialties[int(rpps)])

    def email(self, rpps: str) -> str:
        return self.emails.get(int(rpps), "")


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
            wanted = _name_key(name)
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


@functools.lru_cache(maxsize=1 << 14)  # commune names repeat: a few thousand distinct
def _name_key(name: str) -> str:
    return normalise_name(_CEDEX.sub("", name))


def _ascii_upper(value: str) -> str:
    if value.isascii():
        return value.upper()
    return _folded_upper(value)


@functools.lru_cache(maxsize=1 << 12)  # the activity sectors, the odd accented name
def _folded_upper(value: str) -> str:
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


_NOT_PHONE = re.compile(r"[^\d+]")


def _phone(value: str) -> str:
    digits = value if value.isdecimal() else _NOT_PHONE.sub("", value)
    return digits if len(digits) <= 20 else ""


def _email(value: str) -> str:
    value = value.strip()
    return value.lower() if value and len(value) <= 254 and _EMAIL.fullmatch(value) else ""


ProgressCallback = Callable[[int, int, int], None]

# The optional columns a GP row is read from, in the order _read_gp_line unpacks them.
_OPTIONAL = (
    "civility",
    "first_name",
    "structure_id",
    "company_name",
    "brand",
    "recipient",
    "place",
    "number",
    "repetition",
    "street_type",
    "street",
    "distribution",
    "cedex",
    "commune_name",
    "phone",
    "email",
    "sector_code",
    "sector",
)


class _LineReader:
    """Reads the lines after the header a block at a time (`feed_block`), refusing into `report`
    and keeping the GP rows of the scope in `rows` (a spool on disk)."""

    def __init__(
        self,
        header: bytes,
        resolver: _CommuneResolver,
        report: ImportReport,
        sink: RowSink | None = None,
    ):
        encoding, names = read_header(header)
        mapping, unknown = map_columns(names)
        report.encoding = encoding
        report.columns = len(names)
        report.unknown_columns = unknown
        self.encoding, self.width = encoding, len(names)
        self.resolver, self.report = resolver, report
        self.i_rpps, self.i_last, self.i_prof, self.i_sf = (
            mapping[k] for k in ("rpps", "last_name", "profession", "savoir_faire")
        )
        self.i_pc, self.i_cc = mapping["postcode"], mapping["commune_code"]
        # An absent column reads the "" appended to every GP row's fields (index -1).
        self.optional = itemgetter(*(mapping.get(key, -1) for key in _OPTIONAL))
        self.rows = ScopeRows(sink)
        self.gp_rows = 0
        self.last_line_refusal = ""  # why the last line read was refused for its field count

    def feed_block(self, block: bytes, line_no: int) -> list[bytes]:
        """Read the whole lines of `block` (the bytes after its last line ending are not read);
        `line_no` is the number of its first line. Returns its lines (without line ending), the
        unread end last.

        Every line, whatever the profession, has the header's field count: a cut line (often
        the last one, from a download that stopped) is never skipped silently. The lines of a
        block are checked together in C (split, count of "|", line ends); only a block holding
        an odd line is read again line by line, and only the lines holding a GP savoir-faire
        code as a whole field are parsed."""
        lines = block.split(b"\n")
        tail = lines.pop()
        width, count = self.width, len(lines)
        pipes = list(map(bytes.count, lines, repeat(b"|")))
        ends = sum(map(bytes.endswith, lines, repeat((b"|", b"|\r"))))
        if not ((pipes.count(width) == count == ends) or pipes.count(width - 1) == count):
            for n, raw in enumerate(lines):
                self.feed(raw + b"\n", line_no + n)
            lines.append(tail)
            return lines
        self.last_line_refusal = ""
        last = index = counted = 0
        for match in _GP_MARKER.finditer(block, 0, len(block) - len(tail)):
            found = match.start()
            start = block.rfind(b"\n", 0, found) + 1
            if start < last:
                continue  # a line may hold several markers
            last = start + 1
            refusal = self._read_gp_line(block[start : block.find(b"\n", found)])
            if refusal:  # its number, counting the line endings since the last one counted
                index += block.count(b"\n", counted, start)
                counted = start
                self.report.refuse(line_no + index, refusal)
        lines.append(tail)
        return lines

    def feed(self, raw: bytes, line_no: int) -> None:
        """Read one line (`raw` with its line ending, if any)."""
        width = self.width
        pipes = raw.count(b"|")
        markers = _GP_MARKERS
        maybe_gp = markers[0] in raw or markers[1] in raw or markers[2] in raw
        if pipes == width and not raw.endswith(_LINE_ENDS):
            pipes += 1  # a field after the last "|": one too many
        if pipes != width and pipes != width - 1:  # width - 1: trailing "|" missing
            if raw.strip():  # an empty line holds no data
                self.gp_rows += maybe_gp
                reason = Reason.TRUNCATED if pipes < width else Reason.TOO_MANY_FIELDS
                self.last_line_refusal = reason + f" : {pipes} champs sur {width}"
                self.report.refuse(line_no, self.last_line_refusal)
            return
        self.last_line_refusal = ""
        if maybe_gp:
            refusal = self._read_gp_line(raw)
            if refusal:
                self.report.refuse(line_no, refusal)

    def _read_gp_line(self, raw: bytes) -> str | None:
        """Keep the row of a line that may be a GP's; returns why it is refused, if it is."""
        try:
            text = decode_line(raw, self.encoding)
        except UnicodeDecodeError:
            self.gp_rows += 1
            return Reason.ENCODING
        fields = text.rstrip("\r\n").split("|")
        savoir_faire = fields[self.i_sf].strip()
        if fields[self.i_prof].strip() != GP_PROFESSION_CODE:
            return None
        if savoir_faire not in GP_SAVOIR_FAIRE_CODES:
            return None
        self.gp_rows += 1
        rpps = fields[self.i_rpps].strip()
        last_name = fields[self.i_last].strip()
        if not _RPPS.fullmatch(rpps) or not last_name:
            return Reason.NAME if _RPPS.fullmatch(rpps) else Reason.RPPS
        fields.append("")
        (
            civility,
            first_name,
            structure_id,
            company_name,
            brand,
            recipient,
            place,
            number,
            repetition,
            street_type,
            street,
            distribution,
            cedex,
            commune_name,
            phone,
            email,
            sector_code,
            sector,
        ) = map(str.strip, self.optional(fields))
        postcode = fields[self.i_pc].strip()
        commune_name = commune_name or _CEDEX.sub("", cedex).strip()
        commune_code = fields[self.i_cc].strip().upper()
        insee, refusal = self.resolver.resolve(commune_code, postcode, commune_name)
        if refusal:
            return refusal + (f" ({postcode})" if postcode else "")
        if insee is None:
            self.report.rows_out_of_scope += 1
            return None
        self.report.rows_in_scope += 1
        street = " ".join(filter(None, (number, repetition, street_type, street)))
        line1 = " ".join(filter(None, (recipient, place)))
        label = brand or company_name
        values = (  # SPOOL_FIELDS but the hash
            rpps,
            civility[:20],
            first_name[:120],
            last_name[:120],
            site_key_for(structure_id, f"{line1} {street} {distribution}", postcode, insee),
            structure_id[:40],
            label[:200],
            line1[:200],
            street[:200],
            distribution[:200],
            postcode if _POSTCODE.fullmatch(postcode) else "",
            commune_name[:120],
            _phone(phone),
            _email(email),
            practice_type_for(sector_code, sector, label),
            insee,
        )
        if not self.rows.add(values, savoir_faire):
            self.report.duplicates += 1
        return None


def _refuse_cut_file(last_raw: bytes, line_no: int, last_line_refusal: str) -> None:
    if not last_raw.endswith(b"\n"):
        raise RppsTruncatedFile(
            f"Fichier incomplet : la dernière ligne (ligne {line_no}) n'a pas de fin de "
            "ligne. " + TRUNCATED_ADVICE
        )
    if last_line_refusal:
        raise RppsTruncatedFile(
            f"Fichier incomplet : la dernière ligne (ligne {line_no}) n'a pas le nombre de "
            f"champs de l'en-tête ({last_line_refusal}). " + TRUNCATED_ADVICE
        )


def _report_progress(
    progress: ProgressCallback, lines: list[bytes], line_no: int, position: int, total: int
) -> None:
    """Call `progress` for every PROGRESS_EVERY_LINES-th line among `lines` (whole lines, the
    first numbered `line_no`, starting at byte `position`), with the position after it."""
    every = PROGRESS_EVERY_LINES
    first = -(-line_no // every) * every  # first multiple of `every` from line_no on
    if first >= line_no + len(lines):
        return
    ends = [position]
    for raw in lines:
        ends.append(ends[-1] + len(raw) + 1)
    for number in range(first, line_no + len(lines), every):
        progress(number - 1, ends[number - line_no + 1], total)


def read_rpps_file(
    path: str | os.PathLike,
    *,
    scope: Scope,
    report: ImportReport | None = None,
    progress: ProgressCallback | None = None,
    accept_partial: bool = False,
    sink: RowSink | None = None,
) -> tuple[ScopeRows, ImportReport]:
    """Stream the file and return the GP rows of the scope (spooled to disk: close them after
    use), with the report of what was read and refused; `sink`, if given, is also given each row
    kept as it is read. Raises RppsFormatError when the file cannot be read, RppsTruncatedFile
    when its last line has no line ending or the wrong field count (a cut file: the GPs after
    the cut would be marked absent), unless `accept_partial`."""
    report = report or ImportReport()
    report.path = os.fspath(path)
    started = time.monotonic()
    total = os.path.getsize(path)
    with open(path, "rb") as fh:
        header = fh.readline()
        if not header.strip():
            raise RppsFormatError("Fichier vide : aucune ligne d'en-tête.")
        lines = _LineReader(header, _CommuneResolver(scope), report, sink)
        try:
            line_no = 2  # of the next line to read
            position = len(header)
            raw = header  # the last line read
            tail = b""  # the start of a line that the next block ends
            while block := fh.read(_READ_BUFFER):
                read = lines.feed_block(tail + block if tail else block, line_no)
                tail = read.pop()
                if read:
                    raw = read[-1] + b"\n"
                    if progress is not None:
                        _report_progress(progress, read, line_no, position, total)
                    line_no += len(read)
                    position += sum(map(len, read)) + len(read)
            if tail:  # a last line without line ending
                raw = tail
                if line_no % PROGRESS_EVERY_LINES == 0 and progress is not None:
                    progress(line_no - 1, total, total)
                lines.feed(raw, line_no)
                line_no += 1
            line_no -= 1  # the last line read
            report.lines_read = line_no - 1
            report.gp_rows = lines.gp_rows
            if line_no > 1 and not accept_partial:
                _refuse_cut_file(raw, line_no, lines.last_line_refusal)
        except BaseException:
            lines.rows.close()
            raise
    lines.rows.finish_reading()
    if progress is not None:
        progress(report.lines_read, total, total)
    report.read_seconds = time.monotonic() - started
    return lines.rows, report
