"""Masked forms of recipients, for logs and screens that must not show personal data."""

import phonenumbers

DOT = "•"


def mask_phone(number: str) -> str:
    """ "+33612345642" → "+33 6 •• •• •• 42"; other countries keep their code and 2 last digits."""
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return DOT * 4
    national = str(parsed.national_number)
    if len(national) < 4:
        return f"+{parsed.country_code} {DOT * 4}"
    if parsed.country_code == 33 and len(national) == 9:
        return f"+33 {national[0]} {DOT * 2} {DOT * 2} {DOT * 2} {national[-2:]}"
    return f"+{parsed.country_code} {DOT * 3} {national[-2:]}"


def mask_email(address: str) -> str:
    """ "camille.dupont@example.org" → "c•••@e•••.org"."""
    local, _, domain = address.rpartition("@")
    if not local or not domain:
        return DOT * 4
    name, dot, tld = domain.rpartition(".")
    masked_domain = f"{name[:1]}{DOT * 3}.{tld}" if dot and name else f"{domain[:1]}{DOT * 3}"
    return f"{local[:1]}{DOT * 3}@{masked_domain}"


def mask_recipient(channel: str, recipient: str) -> str:
    if not recipient:
        return ""
    return mask_phone(recipient) if channel == "sms" else mask_email(recipient)
