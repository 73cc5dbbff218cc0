"""The CPAM mediator's list as a file: one row per household of the worklist (open requests
flagged "accès aux droits"), with what the mediator needs to call and the latest outcome. No
health data, never the NIR. Rows come from `intake.selectors.rights_help_requests` (contact
person prefetched, latest outcome annotated): the number of queries does not depend on the
number of rows."""

from __future__ import annotations

from django.utils import timezone

from accesmt.intake.models import RightsOutcomeKind

COLUMNS = [
    "référence",
    "état",
    "en attente depuis",
    "personne à contacter",
    "téléphone",
    "e-mail",
    "adresse",
    "code postal",
    "commune",
    "couverture",
    "dernière suite",
    "date de la dernière suite",
]


def rows(requests) -> list[list]:
    found = []
    for r in requests:
        contact = r.contacts[0] if r.contacts else None
        found.append(
            [
                r.reference,
                r.get_status_display(),
                timezone.localdate(r.waiting_since),
                f"{contact.first_name} {contact.last_name}" if contact else "",
                r.phone,
                r.email,
                r.address,
                r.postcode,
                r.commune.name,
                r.get_coverage_display(),
                RightsOutcomeKind(r.last_kind).label if r.last_kind else "",
                r.last_on,
            ]
        )
    return found
