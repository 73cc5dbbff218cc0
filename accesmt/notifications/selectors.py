"""Reads of the outbox for the coordination of a CPTS: the letters to print and the messages that
could not be delivered ("à contacter par téléphone ou courrier"). Purpose and request reference
only: the text of a message is never shown in these lists."""

from __future__ import annotations

from collections import defaultdict

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


def requests_of(messages, cpts) -> dict[int, object]:
    """{message id: intake request} for messages related to a request of `cpts`, directly or
    through an orientation object (solicitation, "still needed?" check)."""
    from accesmt.intake.models import Request
    from accesmt.orientation.models import Solicitation, StillNeededCheck

    ids_by_type: dict[str, set[int]] = defaultdict(set)
    for message in messages:
        if message.related_id.isdigit():
            ids_by_type[message.related_type].add(int(message.related_id))
    request_id_of: dict[tuple[str, int], int] = {}
    for pk in ids_by_type.get("intake.request", ()):
        request_id_of["intake.request", pk] = pk
    for label, model in (
        ("orientation.solicitation", Solicitation),
        ("orientation.stillneededcheck", StillNeededCheck),
    ):
        rows = model.objects.filter(pk__in=ids_by_type.get(label, ())).values_list(
            "pk", "request_id"
        )
        for pk, request_id in rows:
            request_id_of[label, pk] = request_id
    requests = Request.objects.filter(cpts=cpts, pk__in=set(request_id_of.values())).in_bulk()
    found = {}
    for message in messages:
        key = (
            message.related_type,
            int(message.related_id or 0) if message.related_id.isdigit() else 0,
        )
        request = requests.get(request_id_of.get(key))
        if request is not None:
            found[message.pk] = request
    return found
