"""Retention: what the privacy notice promises ("au plus un an après sa clôture… anonymisées").

`requests_anonymise_closed()` — a periodic job — anonymises every request closed more than
CLOSED_REQUEST_RETENTION_DAYS ago: names, NIR, contact details, street address and point, free
texts, particular conditions and the notes typed in the history of states, in the mediator's
outcomes and in the coordination's calls and notes (`ContactNote.text`) are blanked; a birth date
keeps only its year (1 January), so that statistics by age band still hold. Duplicate flags stay
(they hold no text). An anonymised request is never reopened (lifecycle.request_transition and
constraint 0009 refuse it). What stays has no name and no contact: CPTS, commune, status and
closing reason, dates, channel, reason for the request, coverage, priority reasons (rule labels),
history of states, solicitations (their notes blanked through the hook orientation registers)
and outcome. Idempotent (`anonymised_at`).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.db.models.functions import TruncYear
from django.utils import timezone

from accesmt.common.pending_files import pending_purge

from .models import (
    ContactNote,
    GeocodeSource,
    HouseholdMember,
    IntakeSettings,
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
    "usual_gp_name": "",
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


# Higher apps blank their own free texts about a request (orientation: the solicitations'
# notes); intake cannot import them, so they register `hook(request_ids, now)` at start-up.
_hooks: list[Callable[[list[int], datetime.datetime], None]] = []


def anonymisation_hook_register(hook: Callable[[list[int], datetime.datetime], None]) -> None:
    if hook not in _hooks:
        _hooks.append(hook)


def requests_anonymise(ids: list[int], *, now: datetime.datetime) -> None:
    """Blank what identifies a person in the requests `ids` (inside the caller's transaction);
    shared by the retention job and the erasure a person asks for (`erasure.request_erase`)."""
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
    for hook in _hooks:
        hook(ids, now)


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
            requests_anonymise(ids, now=now)
        done += len(ids)


def pending_uploads_purge(*, now: datetime.datetime | None = None) -> int:
    """Periodic job: delete the raw CPAM-list and transfer-plan files waiting for a confirmation
    that never came (older than common.pending_files.MAX_AGE_SECONDS)."""
    return pending_purge(
        Path(settings.CPAM_PENDING_DIR), now=now.timestamp() if now is not None else None
    )


def duration_in_words(days: int) -> str:
    """365 → « 1 an », 730 → « 2 ans », 90 → « 3 mois », 45 → « 45 jours »."""
    if days and days % 365 == 0:
        years = days // 365
        return f"{years} an{'s' if years > 1 else ''}"
    if days and days % 30 == 0:
        return f"{days // 30} mois"
    return f"{days} jour{'s' if days > 1 else ''}"


def retention_periods(cpts) -> dict[str, str]:
    """The periods the privacy notice announces, read from the configuration that the jobs use
    (settings CLOSED_REQUEST_RETENTION_DAYS and NOTIFICATIONS_RETENTION_DAYS, the CPTS's
    `follow_up_link_days`)."""
    return {
        "closed_requests": duration_in_words(
            int(getattr(settings, "CLOSED_REQUEST_RETENTION_DAYS", 365))
        ),
        "messages": duration_in_words(int(getattr(settings, "NOTIFICATIONS_RETENTION_DAYS", 30))),
        "follow_up_link": duration_in_words(IntakeSettings.for_cpts(cpts).follow_up_link_days),
    }
