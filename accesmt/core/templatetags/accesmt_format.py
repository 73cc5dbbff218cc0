from django import template
from django.core.exceptions import ValidationError

from accesmt.common import formats
from accesmt.common.phones import format_phone_for_display, normalise_phone

register = template.Library()


@register.filter
def phone(value: str) -> str:
    """ "+33321445501" → "03 21 44 55 01" (stored numbers are E.164, or as imported)."""
    return format_phone_for_display(value) if value and value.startswith("+") else value


@register.filter
def tel_href(value: str) -> str:
    """ "03 21 44 55 01" → "tel:+33321445501": a number as stored or typed, for a `tel:` link."""
    try:
        return "tel:" + normalise_phone(value)
    except ValidationError:
        return "tel:" + "".join(ch for ch in value if ch.isdigit() or ch == "+")


# Dates: the only way templates write them (see accesmt.common.formats).


@register.filter
def long_date(value) -> str:
    """ "2 décembre 2026" (in sentences)."""
    return formats.long_date(value)


@register.filter
def long_datetime(value) -> str:
    """ "2 décembre 2026 à 14 h 05"."""
    return formats.long_date(value, with_time=True)


@register.filter
def short_date(value) -> str:
    """ "02/12/2026" (in tables and lists)."""
    return formats.short_date(value)


@register.filter
def short_datetime(value) -> str:
    """ "02/12/2026 à 14 h 05"."""
    return formats.short_date(value, with_time=True)


@register.filter
def figure(value) -> str:
    """12 345 ; 12,5 ; "< 5" and "—" unchanged (indicator tables)."""
    return formats.figure(value)


@register.filter
def figure_class(value) -> str:
    """ "number" (right-aligned) for a figure or a masked one; "" for a text cell."""
    numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
    return "number" if numeric or value in ("< 5", "—") else "text"


@register.filter
def month_year(value) -> str:
    """ "septembre 2026" (a month, in tables)."""
    return formats.month_year(value)
