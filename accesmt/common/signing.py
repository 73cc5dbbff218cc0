"""Signed links sent to people without an account (follow-up, GP solicitation, survey, GP
households, still-needed check): a timestamped token holding one id, nothing personal.

- `make_link_token(pk, salt=, key=)` makes the token (the formats of tokens already sent:
  `{key: pk}` signed with `salt`, compressed);
- `read_link_token(token, salt=, key=, max_age=)` gives back the id, or raises `LinkError`;
- `check_link_age(token, salt=, max_age=)` raises `LinkError("expired")` when the token is older
  than `max_age` (for links whose lifetime depends on the object they designate).

One error type, `LinkError`, whose `reason` is "invalid" (bad signature, bad payload, unknown
object) or "expired"; the pages turn it into their French message."""

from __future__ import annotations

import datetime

from django.core import signing

EXPIRED = "expired"
INVALID = "invalid"


class LinkError(Exception):
    """A signed link that cannot be used; `reason` is "invalid" or "expired"."""

    def __init__(self, reason: str = INVALID):
        super().__init__(reason)
        self.reason = reason


def make_link_token(pk: int, *, salt: str, key: str) -> str:
    return signing.dumps({key: pk}, salt=salt, compress=True)


def read_link_token(
    token: str, *, salt: str, key: str, max_age: datetime.timedelta | None = None
) -> int:
    """The id a token holds; `LinkError("expired")` past `max_age`, `LinkError("invalid")` when
    the signature or the payload is wrong."""
    try:
        payload = signing.loads(token, salt=salt, max_age=max_age)
    except signing.SignatureExpired:
        raise LinkError(EXPIRED) from None
    except signing.BadSignature:
        raise LinkError(INVALID) from None
    try:
        return int(payload[key])
    except (KeyError, TypeError, ValueError):
        raise LinkError(INVALID) from None


def check_link_age(token: str, *, salt: str, max_age: datetime.timedelta) -> None:
    """`LinkError("expired")` when a token (already read) is older than `max_age`."""
    try:
        signing.loads(token, salt=salt, max_age=max_age)
    except signing.SignatureExpired:
        raise LinkError(EXPIRED) from None
    except signing.BadSignature:
        raise LinkError(INVALID) from None
