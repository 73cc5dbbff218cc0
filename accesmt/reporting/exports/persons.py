"""Exports of rows about persons, for the coordination only: the queue with its filters, or the
requests registered in a period. One row per request (household); never the NIR. The view
audits every exported request ("export") before sending the file.

Rows are read with the queue's own queryset (`intake.queue.queue_requests`: tenant scoping,
filters, order, members and priority reasons prefetched), so the number of queries does not
depend on the number of rows."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from accesmt.intake.models import Channel, HomeVisits, HouseholdMember, Request, Status
from accesmt.intake.priority import RULE_TITLES
from accesmt.intake.queue import ANY_HOME_VISITS, OPEN, QUEUE_ROLES, QueueFilters, queue_requests

from ..periods import Period

WARNING = "Cet export contient des données personnelles de santé ; il est tracé."
COLUMNS = [
    "référence",
    "état",
    "motif de clôture",
    "prioritaire",
    "critères de priorité",
    "inscrite le",
    "en attente depuis",
    "canal",
    "professionnel orienteur",
    "commune",
    "code INSEE",
    "code postal",
    "adresse",
    "personne à contacter",
    "téléphone",
    "e-mail",
    "personnes du foyer",
    "âges",
    "ALD",
    "visites à domicile",
    "couverture",
    "motif de la demande",
]


def _local(value):
    """A naive local datetime (what a spreadsheet can hold) or None."""
    return timezone.localtime(value).replace(tzinfo=None) if value else None


def _age(birth_date, today) -> int:
    return (
        today.year
        - birth_date.year
        - ((today.month, today.day) < (birth_date.month, birth_date.day))
    )


def row_of(request: Request, today) -> list:
    members = list(request.members.all())
    contact = next((m for m in members if m.is_contact_person), members[0] if members else None)
    referrer = request.referrer
    visits = [m.home_visits for m in members if m.home_visits != HomeVisits.NEVER]
    return [
        request.reference,
        request.get_status_display(),
        request.get_closed_reason_display() if request.closed_reason else "",
        "oui" if request.is_priority else "non",
        ", ".join(reason.label for reason in request.priority_reasons.all()),
        _local(request.created_at),
        _local(request.waiting_since),
        request.get_channel_display(),
        f"{referrer.first_name} {referrer.last_name}".strip() if referrer else "",
        request.commune.name if request.commune_id else "",
        request.commune_id or "",
        request.postcode,
        request.address,
        f"{contact.first_name} {contact.last_name}" if contact else "",
        request.phone,
        request.email,
        len(members),
        # An anonymised person has no birth date any more (intake/coarsening.py).
        ", ".join(str(_age(m.birth_date, today)) for m in members if m.birth_date),
        sum(1 for m in members if m.has_ald),
        "oui" if visits else "non",
        request.get_coverage_display(),
        request.get_reason_display(),
    ]


def queue_export(*, cpts, user, filters: QueueFilters) -> list[Request]:
    """The queue as the coordinator filtered it, in its order."""
    return list(queue_requests(cpts=cpts, user=user, filters=filters))


def period_export(*, cpts, user, period: Period) -> list[Request]:
    """Requests registered in the period (created in it, duplicates included: the coordinator
    sees every file), oldest first."""
    start, end = period.bounds()
    requests: QuerySet = (
        Request.objects.for_user(user, QUEUE_ROLES)
        .filter(cpts=cpts, created_at__gte=start, created_at__lt=end)
        .select_related("commune", "referrer")
        .prefetch_related(
            Prefetch("members", queryset=HouseholdMember.objects.order_by("position", "pk")),
            "priority_reasons",
        )
        .order_by("created_at", "reference")
    )
    return list(requests)


def rows(requests: list[Request]) -> list[list]:
    today = timezone.localdate()
    return [row_of(request, today) for request in requests]


FILTER_LABELS = {
    "status": "État",
    "commune": "Commune (code INSEE)",
    "rule": "Critère de priorité",
    "home_visits": "Visites à domicile",
    "channel": "Canal",
    "referrer": "Professionnel orienteur (identifiant)",
}


def describe(filters: QueueFilters) -> list[tuple[str, str]]:
    """The queue's filters in words, for the export page."""
    values = {
        "status": {OPEN: "toutes sauf clôturées", **dict(Status.choices)},
        "rule": RULE_TITLES,
        "home_visits": {ANY_HOME_VISITS: "parfois ou uniquement", **dict(HomeVisits.choices)},
        "channel": dict(Channel.choices),
    }
    return [
        (FILTER_LABELS[name], values.get(name, {}).get(value, value))
        for name, value in filters.as_query().items()
        if value
    ]
