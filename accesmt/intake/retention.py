"""Retention: what the privacy notice promises ("au plus un an après sa clôture… anonymisées").

`requests_anonymise_closed()` — a periodic job — anonymises every request closed more than
CLOSED_REQUEST_RETENTION_DAYS ago: names, NIR, contact details, street address and point, free
texts, particular conditions and the notes typed in the history of states, in the mediator's
outcomes and in the coordination's calls and notes (`ContactNote.text`) are blanked; a birth date
keeps only its year (1 January), so that statistics by age band still hold. Duplicate flags stay
(they hold no text). An anonymised request is never reopened (lifecycle.request_transition and
constraint 0009 refuse it). What stays has no name and no contact: CPTS, commune, status and
closing reason, dates, channel, reason for the request, coverage, priority reasons (rule labels),
history of states, solicitations and outcome. Idempotent (`anonymised_at`).
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.db.models.functions import TruncYear
from django.utils import timezone

from .models import (
    ContactNote,
    GeocodeSource,
    HouseholdMember,
    Request,
    RequestTransition,
    RightsOutcome,
    Status,
)

BATCH = 500

BLANK_REQUEST_FIELDS = {
    "address": "",
    "latitude": None,
    "longitude": None,
    "geocode_score": None,
    "geocode_message": "",
    "phone": "",
    "email": "",
    "reason_other": "",
    "former_gp_name": "",
    "former_gp_commune": "",
    "other_professionals": "",
    "comment": "",
    "submission_fingerprint": "",
}
BLANK_MEMBER_FIELDS = {
    "first_name": "",
    "last_name": "",
    "normalised_name": "",
    "nir": "",
    "sex": "",
    "conditions": "",
}


def requests_anonymise_closed(*, now: datetime.datetime | None = None) -> int:
    """Anonymise the requests closed before the retention limit; return how many."""
    now = now or timezone.now()
    days = int(getattr(settings, "CLOSED_REQUEST_RETENTION_DAYS", 365))
    limit = now - datetime.timedelta(days=days)
    done = 0
    while True:
        ids = list(
            Request.objects.filter(
                status=Status.CLOSED, closed_at__lt=limit, anonymised_at__isnull=True
            )
            .order_by("pk")
            .values_list("pk", flat=True)[:BATCH]
        )
        if not ids:
            return done
        with transaction.atomic():
            members = HouseholdMember.objects.filter(request_id__in=ids)
            members.update(**BLANK_MEMBER_FIELDS, birth_date=TruncYear(F("birth_date")))
            # A coordinator may have typed free text (a name, a phone call) in a note.
            RequestTransition.objects.filter(request_id__in=ids).exclude(note="").update(note="")
            RightsOutcome.objects.filter(request_id__in=ids).exclude(note="").update(note="")
            ContactNote.objects.filter(request_id__in=ids).exclude(text="").update(text="")
            Request.objects.filter(pk__in=ids).update(
                **BLANK_REQUEST_FIELDS,
                geocode_source=GeocodeSource.NONE,
                anonymised_at=now,
            )
        done += len(ids)
