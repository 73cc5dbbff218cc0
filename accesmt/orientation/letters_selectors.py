"""Reads for the coordination's page "Courriers à imprimer" (views_letters.py): the intake
request each outbox message is about. The outbox lists themselves are notifications' selectors."""

from __future__ import annotations

from collections import defaultdict

from accesmt.intake.models import Request

from .models import Solicitation, StillNeededCheck


def requests_of(messages, cpts) -> dict[int, object]:
    """{message id: intake request} for messages related to a request of `cpts`, directly or
    through an orientation object (solicitation, "still needed?" check)."""
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
