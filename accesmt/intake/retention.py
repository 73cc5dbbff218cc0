"""Retention: what the privacy notice promises ("au plus un an après sa clôture… anonymisées").

`requests_anonymise_closed()` — a periodic job — anonymises every request closed more than its
CPTS's `IntakeSettings.closed_retention_months` ago (1 to 36 months; the deployment's
CLOSED_REQUEST_RETENTION_DAYS, in months, for a CPTS that has not chosen): names, NIR, contact
details, street address and point, free texts, particular conditions and the notes typed in the
history of states, in the mediator's outcomes and in the coordination's calls and notes
(`ContactNote.text`) are blanked; a birth date
keeps only its year (`birth_year`), so that statistics by age band still hold; then what is kept
for statistics is coarsened so that no 5-tuple (commune, birth year, ALD, disability, coverage)
designates fewer than 5 people (`coarsening.anonymised_coarsen`). Duplicate flags stay
(they hold no text). An anonymised request is never reopened (lifecycle.request_transition and
constraint 0009 refuse it). What stays has no name and no contact: CPTS, commune, status and
closing reason, dates, channel, reason for the request, coverage, priority reasons (rule labels),
history of states, solicitations (their notes blanked through the hook orientation registers)
and outcome. Idempotent (`anonymised_at`).
"""

from __future__ import annotations

import calendar
import datetime
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models.functions import ExtractYear
from django.utils import timezone

from accesmt.common.pending_files import pending_purge
from accesmt.territory.models import CPTS

from .coarsening import anonymised_coarsen, priority_labels_generalise
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
    # The birth date keeps its year only (k-anonymity may coarsen it further: coarsening.py).
    members.filter(birth_date__isnull=False).update(
        birth_year=ExtractYear("birth_date"), birth_year_span=1
    )
    members.update(**BLANK_MEMBER_FIELDS, birth_date=None)
    priority_labels_generalise(ids)
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


def months_before(moment: datetime.datetime, months: int) -> datetime.datetime:
    """The same instant `months` calendar months earlier (31 March − 1 month → 28/29 February)."""
    month0 = moment.month - 1 - months
    year, month = moment.year + month0 // 12, month0 % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def closed_retention_limit(cpts, now: datetime.datetime) -> datetime.datetime:
    """Requests of `cpts` closed before this instant are due for anonymisation."""
    return months_before(now, IntakeSettings.for_cpts(cpts).closed_retention_months)


def requests_anonymise_closed(*, now: datetime.datetime | None = None) -> int:
    """Anonymise, CPTS by CPTS, the requests closed before that CPTS's retention limit; return
    how many."""
    now = now or timezone.now()
    done = 0
    cpts_ids = (
        Request.objects.filter(status=Status.CLOSED, anonymised_at__isnull=True)
        .order_by("cpts_id")
        .values_list("cpts_id", flat=True)
        .distinct()
    )
    for cpts in CPTS.objects.filter(pk__in=list(cpts_ids)).order_by("pk"):
        limit = closed_retention_limit(cpts, now)
        while True:
            ids = list(
                Request.objects.filter(
                    cpts=cpts, status=Status.CLOSED, closed_at__lt=limit, anonymised_at__isnull=True
                )
                .order_by("pk")
                .values_list("pk", flat=True)[:BATCH]
            )
            if not ids:
                break
            with transaction.atomic():
                requests_anonymise(ids, now=now)
            done += len(ids)
    # k-anonymity over every CPTS's anonymised people (those anonymised here, by an erasure, or
    # before this step existed); a run that finds nothing to coarsen changes nothing.
    anonymised_cpts = (
        Request.objects.filter(anonymised_at__isnull=False).values_list("cpts_id").distinct()
    )
    for cpts in CPTS.objects.filter(pk__in=anonymised_cpts).order_by("pk"):
        anonymised_coarsen(cpts)
    return done


def months_in_words(months: int) -> str:
    """12 → « 1 an », 24 → « 2 ans », 18 → « 18 mois »."""
    if months % 12 == 0:
        years = months // 12
        return f"{years} an{'s' if years > 1 else ''}"
    return f"{months} mois"


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
    (the CPTS's `closed_retention_months` and `follow_up_link_days`; the settings
    NOTIFICATIONS_RETENTION_DAYS, AUDIT_LOG_RETENTION_DAYS, DECLARATION_RETENTION_DAYS and
    SATISFACTION_COMMENT_RETENTION_DAYS)."""
    config = IntakeSettings.for_cpts(cpts)

    def days(name: str, default: int) -> str:
        return duration_in_words(int(getattr(settings, name, default)))

    return {
        "closed_requests": months_in_words(config.closed_retention_months),
        "messages": days("NOTIFICATIONS_RETENTION_DAYS", 30),
        "audit_log": days("AUDIT_LOG_RETENTION_DAYS", 1095),
        "declarations": days("DECLARATION_RETENTION_DAYS", 1095),
        "satisfaction_comments": days("SATISFACTION_COMMENT_RETENTION_DAYS", 365),
        "follow_up_link": duration_in_words(config.follow_up_link_days),
    }
