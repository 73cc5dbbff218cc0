"""Retention of GP availability declarations (ADR 0027): a declaration that was superseded more
than DECLARATION_RETENTION_DAYS ago (3 years by default) is deleted by `declarations_purge`, a
periodic job.

A declaration is what a GP said of their availability; the indicators of the offer read, for any
past moment, the latest declaration made by then. A declaration whose successor was itself made
before the limit can be the answer for no moment inside the retention window, so deleting it
changes no figure of the last DECLARATION_RETENTION_DAYS. The latest declaration of each GP in
each CPTS always stays, however old (it is the GP's current word, or says it expired).
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db.models import Exists, OuterRef
from django.utils import timezone

from .models import AvailabilityDeclaration


def declarations_purge(*, now: datetime.datetime | None = None) -> int:
    """Delete the declarations superseded before the retention limit; return how many."""
    now = now or timezone.now()
    days = int(getattr(settings, "DECLARATION_RETENTION_DAYS", 1095))
    limit = now - datetime.timedelta(days=days)
    superseded_before_limit = AvailabilityDeclaration.objects.filter(
        practitioner=OuterRef("practitioner"),
        cpts=OuterRef("cpts"),
        declared_at__lt=limit,
    ).filter(declared_at__gt=OuterRef("declared_at"))
    old = AvailabilityDeclaration.objects.filter(declared_at__lt=limit).filter(
        Exists(superseded_before_limit)
    )
    deleted, _ = AvailabilityDeclaration.objects.filter(
        pk__in=list(old.values_list("pk", flat=True))
    ).delete()
    return deleted
