"""Reads of the outbox for the coordination of a CPTS: the letters to print and the messages that
could not be delivered ("à contacter par téléphone ou courrier"). Purpose and request reference
only: the text of a message is never shown in these lists. The pages themselves, which name the
request each message is about, live a floor up (orientation/views_letters.py)."""

from __future__ import annotations

from .models import Channel, OutboxMessage, Status

LETTER_PREVIEW_LIMIT = 300


def letters_to_print(cpts, user, roles):
    return (
        OutboxMessage.objects.for_user(user, roles)
        .filter(cpts=cpts, channel=Channel.LETTER, status=Status.PENDING)
        .order_by("created_at", "id")
    )


def undeliverable(cpts, user, roles):
    return (
        OutboxMessage.objects.for_user(user, roles)
        .filter(cpts=cpts, status=Status.FAILED, handled_at__isnull=True)
        .order_by("failed_at", "id")
    )


def counts_for_coordination(cpts) -> dict[str, int]:
    """For the CPTS home: how many letters to print and undeliverable messages to deal with."""
    base = OutboxMessage.objects.filter(cpts=cpts)
    return {
        "letters": base.filter(channel=Channel.LETTER, status=Status.PENDING).count(),
        "undeliverable": base.filter(status=Status.FAILED, handled_at__isnull=True).count(),
    }
