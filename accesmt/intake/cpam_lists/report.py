"""What an import of a CPAM list found, line by line: accepted, duplicates, refused (with the line
number and the reasons, never a NIR), and the errors that refuse the whole file."""

from __future__ import annotations

from dataclasses import dataclass, field

MAX_SHOWN = 200  # lines shown per kind in the report page; every line is counted


class CpamListFormatError(Exception):
    """The file cannot be read at all (encoding, missing columns, too many lines…): French."""


@dataclass
class LineNote:
    line: int
    name: str  # "MARTIN Jeanne": the coordination's own file, shown to it only
    reasons: list[tuple[str, str]] = field(default_factory=list)  # (column key, message)
    reference: str = ""  # for a duplicate: the request already open (or "" within the file)


@dataclass
class CpamListReport:
    line_count: int = 0
    accepted: list[LineNote] = field(default_factory=list)
    duplicates: list[LineNote] = field(default_factory=list)
    refused: list[LineNote] = field(default_factory=list)
    unknown_columns: list[str] = field(default_factory=list)

    @property
    def accepted_count(self) -> int:
        return len(self.accepted)

    @property
    def duplicate_count(self) -> int:
        return len(self.duplicates)

    @property
    def refused_count(self) -> int:
        return len(self.refused)

    def shown(self, kind: str) -> list[LineNote]:
        return getattr(self, kind)[:MAX_SHOWN]
