"""Parsing of INSEE codes, département codes and commune names as people paste or type them."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

# Paris, Lyon and Marseille are loaded as one commune each; their arrondissements municipaux
# (which the BAN returns as citycode) map to the commune (docs/decisions/0002).
MUNICIPAL_ARRONDISSEMENTS = (
    (75101, 75120, "75056"),  # Paris
    (69381, 69389, "69123"),  # Lyon
    (13201, 13216, "13055"),  # Marseille
)

_SEPARATORS = re.compile(r"[\s,;|/]+")
_INSEE = re.compile(r"^(\d{5}|2[AB]\d{3})$")
_ARTICLES = re.compile(r"^(le|la|les|l) ")
_WORDS = {"saint": "st", "sainte": "ste", "saints": "sts", "saintes": "stes"}
ABBREVIATIONS = frozenset(_WORDS.values())


def canonical_insee_code(code: str) -> str:
    """The commune code for an arrondissement municipal code, else the code unchanged."""
    if code.isascii() and code.isdigit():
        number = int(code)
        for first, last, commune in MUNICIPAL_ARRONDISSEMENTS:
            if first <= number <= last:
                return commune
    return code


def _clean_token(token: str) -> str | None:
    """One pasted token as a 5-character INSEE code, or None when it cannot be one."""
    token = token.strip().strip("'\"").upper()
    if re.fullmatch(r"\d+\.0+", token):  # a number that went through a spreadsheet as a float
        token = token.split(".")[0]
    if re.fullmatch(r"\d{4}", token):  # Excel dropped the leading zero: 1004 → 01004
        token = "0" + token
    elif re.fullmatch(r"2[AB]\d{1,2}", token):  # 2A4 → 2A004 is too ambiguous to guess
        return None
    if not _INSEE.match(token):
        return None
    return canonical_insee_code(token)


@dataclass
class ParsedCodes:
    codes: list[str] = field(default_factory=list)  # valid, deduplicated, in input order
    invalid: list[str] = field(default_factory=list)  # tokens that cannot be INSEE codes


def parse_insee_codes(text: str | list[str] | tuple[str, ...]) -> ParsedCodes:
    """Split pasted or typed text (newlines, tabs, commas, semicolons, spaces) into codes."""
    tokens = _SEPARATORS.split(text) if isinstance(text, str) else list(text)
    parsed = ParsedCodes()
    seen = set()
    for raw in tokens:
        raw = str(raw).strip()
        if not raw:
            continue
        code = _clean_token(raw)
        if code is None:
            parsed.invalid.append(raw)
        elif code not in seen:
            seen.add(code)
            parsed.codes.append(code)
    return parsed


def normalise_departement(value: str) -> str | None:
    """'62' → '62', '1' → '01', '2a' → '2A', '974' → '974'; None when it cannot be one."""
    value = value.strip().upper()
    if re.fullmatch(r"\d", value):
        value = "0" + value
    if re.fullmatch(r"(0[1-9]|[1-8]\d|9[0-5]|2[AB]|97[1-6])", value) and value != "20":
        return value
    return None


def normalise_name(name: str) -> str:
    """A key to compare commune names: no accents or case, St for Saint, no leading article."""
    name = name.replace("œ", "oe").replace("Œ", "Oe").replace("æ", "ae").replace("Æ", "Ae")
    name = unicodedata.normalize("NFKD", name)
    name = "".join(ch for ch in name if not unicodedata.combining(ch)).lower()
    name = re.sub(r"[^a-z0-9]+", " ", name).strip()
    name = " ".join(_WORDS.get(word, word) for word in name.split())
    return _ARTICLES.sub("", name)


def format_codes(codes: list[str], limit: int = 10) -> str:
    """'62510, 62498' or '62001, …, 62010 et 5 autres' for error messages."""
    shown = ", ".join(codes[:limit])
    rest = len(codes) - limit
    return f"{shown} et {rest} autre{'s' if rest > 1 else ''}" if rest > 0 else shown
