"""Find the link a sent message carries, whatever holds the message: a text, an OutboxMessage,
a django mail.outbox message, or an e-mail received by the local SMTP server (tests/smtp_server)."""

from __future__ import annotations

import re
from email.message import Message


def body_of(message) -> str:
    """The text of a message: a str as is, the plain-text part of a received e-mail, else .body."""
    if isinstance(message, str):
        return message
    if isinstance(message, Message):
        part = (
            message.get_body(preferencelist=("plain", "html"))
            if message.is_multipart()
            else message
        )
        return part.get_content()
    return message.body


def link_in(message, path_prefix: str, *, base: str | None = None) -> str:
    """The path (from `path_prefix` to the next blank) of the first link to `path_prefix` in the
    message; with `base`, the link must be absolute on that base (e.g. "https://accesmt.example")."""
    body = body_of(message)
    pattern = r"(https?://[^/\s]+)?(" + re.escape(path_prefix) + r"[^\s\"'<>]*)"
    for match in re.finditer(pattern, body):
        if base is None or match[1] == base:
            return match[2]
    where = f" on {base}" if base else ""
    raise AssertionError(f"no link to {path_prefix}{where} in: {body!r}")


def token_in(message, path_prefix: str, *, base: str | None = None) -> str:
    """The path segment right after `path_prefix` in the message's link (usually a signed token)."""
    return link_in(message, path_prefix, base=base)[len(path_prefix) :].split("/")[0]
