"""Retention of the audit log (ADR 0027): lines older than AUDIT_LOG_RETENTION_DAYS (3 years by
default, never less than the floor the database enforces) are deleted by `audit_log_purge`, a
periodic job and the only code that may delete them.

The append-only trigger (accounts migration 0010) lets a DELETE through only while a
`AuditPurgeWindow` row exists in the same transaction and only for lines older than its `before`,
itself at least FLOOR_DAYS old by the database's clock. The job writes that row, deletes, and
removes the row before committing; if anything fails, the rollback takes the row away too.
"""

from __future__ import annotations

import datetime
import importlib

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from .models import AuditPurgeWindow

FLOOR_DAYS = importlib.import_module(
    "accesmt.accounts.migrations.0010_audit_log_purge_by_its_job"
).FLOOR_DAYS


def audit_log_retention_days() -> int:
    days = int(getattr(settings, "AUDIT_LOG_RETENTION_DAYS", 1095))
    if days < FLOOR_DAYS:
        raise ValueError(
            f"AUDIT_LOG_RETENTION_DAYS ({days}) est inférieur au minimum de {FLOOR_DAYS} jours "
            "que la base de données impose."
        )
    return days


def audit_log_purge(*, now: datetime.datetime | None = None) -> int:
    """Delete the audit lines older than the retention period; return how many."""
    now = now or timezone.now()
    before = now - datetime.timedelta(days=audit_log_retention_days())
    with transaction.atomic():
        window = AuditPurgeWindow.objects.create(before=before)
        with connection.cursor() as cursor:
            cursor.execute(
                'DELETE FROM accounts_auditlog WHERE "at" < %s',
                [connection.ops.adapt_datetimefield_value(before)],
            )
            deleted = cursor.rowcount
        window.delete()
    return max(deleted, 0)
