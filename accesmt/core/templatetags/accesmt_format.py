from django import template

from accesmt.intake.validation import format_phone_for_display

register = template.Library()


@register.filter
def phone(value: str) -> str:
    """ "+33321445501" → "03 21 44 55 01" (stored numbers are E.164, or as imported)."""
    return format_phone_for_display(value) if value and value.startswith("+") else value
