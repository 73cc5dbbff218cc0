"""How dates read in French, everywhere (pages, e-mails, SMS, letters, notes): one long form for
sentences, "2 décembre 2026" ("1er décembre 2026", "… à 14 h 05" with the time), and one short
form for tables and lists, "02/12/2026" ("02/12/2026 à 14 h 05"). Aware datetimes are shown in
local time (Europe/Paris). Month names are written here, so that a message rendered outside a
request (the worker) reads the same as a page."""

from __future__ import annotations

import datetime

from django.utils import timezone

MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)


def _local(value: datetime.date | datetime.datetime) -> datetime.date | datetime.datetime:
    if isinstance(value, datetime.datetime) and timezone.is_aware(value):
        return timezone.localtime(value)
    return value


def _time(value: datetime.date | datetime.datetime) -> str:
    if not isinstance(value, datetime.datetime):
        return ""
    return f" à {value.hour} h {value.minute:02d}"


def long_date(value: datetime.date | datetime.datetime | None, *, with_time: bool = False) -> str:
    """ "2 décembre 2026", "1er mars 2027"; with_time: "2 décembre 2026 à 14 h 05"."""
    if value is None or value == "":
        return ""
    value = _local(value)
    day = "1er" if value.day == 1 else str(value.day)
    text = f"{day} {MONTHS[value.month - 1]} {value.year}"
    return text + (_time(value) if with_time else "")


def short_date(value: datetime.date | datetime.datetime | None, *, with_time: bool = False) -> str:
    """ "02/12/2026"; with_time: "02/12/2026 à 14 h 05"."""
    if value is None or value == "":
        return ""
    value = _local(value)
    text = f"{value.day:02d}/{value.month:02d}/{value.year}"
    return text + (_time(value) if with_time else "")


def figure(value) -> str:
    """An indicator value as French readers write it: 12 345 (narrow no-break space), 12,5;
    strings ("< 5", "—") unchanged."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "" if value is None else str(value)
    if isinstance(value, float) and not value.is_integer():
        whole, _, decimals = f"{value:,.1f}".partition(".")
        return whole.replace(",", "\u202f") + "," + decimals
    return f"{int(value):,}".replace(",", "\u202f")


def month_year(value: datetime.date | datetime.datetime | None) -> str:
    """ "septembre 2026" (a month in tables: the first day of it, without the day)."""
    if value is None or value == "":
        return ""
    value = _local(value)
    return f"{MONTHS[value.month - 1]} {value.year}"
