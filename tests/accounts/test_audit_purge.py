"""The audit log's retention (ADR 0027): only the purge job deletes lines, only old ones; the
database itself refuses everything else, even a DELETE under the job's window for a recent line."""

import datetime

import pytest
from django.core.management import call_command
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone

from accesmt.accounts.models import AuditLog, AuditPurgeWindow
from accesmt.accounts.retention import FLOOR_DAYS, audit_log_purge
from accesmt.accounts.services import audit_record
from accesmt.notifications import jobs

pytestmark = pytest.mark.django_db
NOW = timezone.now()
REFUSED = (IntegrityError, DatabaseError)


def _line(days_ago: int) -> AuditLog:
    # Inserting is allowed: a line written `days_ago` days before now.
    return AuditLog.objects.create(
        at=NOW - datetime.timedelta(days=days_ago), action="login_failed"
    )


def _sql(statement: str, params=()):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement, list(params))


def _window(days_ago: int) -> AuditPurgeWindow:
    return AuditPurgeWindow.objects.create(before=NOW - datetime.timedelta(days=days_ago))


def test_the_job_deletes_only_lines_older_than_the_period(settings):
    settings.AUDIT_LOG_RETENTION_DAYS = 3 * 365
    very_old, old_but_kept, recent = _line(4 * 365), _line(2 * 365), _line(10)
    assert audit_log_purge(now=NOW) == 1
    left = set(AuditLog.objects.values_list("pk", flat=True))
    assert very_old.pk not in left and {old_but_kept.pk, recent.pk} <= left
    assert not AuditPurgeWindow.objects.exists()  # the window never outlives the job
    assert audit_log_purge(now=NOW) == 0  # idempotent


def test_the_job_is_registered():
    assert jobs.registered()["accounts.audit_log_purge"].func is audit_log_purge


@pytest.mark.parametrize(
    "sql",
    [
        "DELETE FROM accounts_auditlog",
        'DELETE FROM accounts_auditlog WHERE "at" < %s',
        "UPDATE accounts_auditlog SET action = 'read'",
    ],
)
def test_without_the_window_an_old_line_cannot_be_deleted_nor_changed(sql):
    old = _line(6 * 365)
    params = [connection.ops.adapt_datetimefield_value(NOW)] if "%s" in sql else []
    with pytest.raises(REFUSED) as error:
        _sql(sql, params)
    assert "append-only" in str(error.value)
    assert AuditLog.objects.filter(pk=old.pk, action="login_failed").exists()


def test_with_the_window_an_update_is_still_refused():
    old = _line(6 * 365)
    with pytest.raises(REFUSED), transaction.atomic():
        _window(5 * 365)
        _sql("UPDATE accounts_auditlog SET action = 'read' WHERE id = %s", [old.pk])
    assert AuditLog.objects.get(pk=old.pk).action == "login_failed"


def test_with_the_window_a_line_younger_than_its_limit_is_refused():
    line = _line(2 * 365)
    with pytest.raises(REFUSED), transaction.atomic():
        _window(3 * 365)
        _sql("DELETE FROM accounts_auditlog WHERE id = %s", [line.pk])
    assert AuditLog.objects.filter(pk=line.pk).exists()


def test_a_recent_line_cannot_be_deleted_even_with_a_window_that_covers_it():
    """A window whose limit is younger than the floor the trigger holds opens nothing."""
    recent = _line(30)
    with pytest.raises(REFUSED), transaction.atomic():
        _window(0)  # « everything before now »
        _sql("DELETE FROM accounts_auditlog WHERE id = %s", [recent.pk])
    assert AuditLog.objects.filter(pk=recent.pk).exists()
    younger_than_floor = _line(FLOOR_DAYS - 5)
    with pytest.raises(REFUSED), transaction.atomic():
        _window(FLOOR_DAYS - 10)
        _sql("DELETE FROM accounts_auditlog WHERE id = %s", [younger_than_floor.pk])
    assert AuditLog.objects.filter(pk=younger_than_floor.pk).exists()


def test_a_period_below_the_floor_is_refused_by_the_job(settings):
    settings.AUDIT_LOG_RETENTION_DAYS = 30
    line = _line(60)
    with pytest.raises(ValueError, match="minimum"):
        audit_log_purge(now=NOW)
    assert AuditLog.objects.filter(pk=line.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_flush_still_empties_the_log_and_the_purge_still_works_after(settings):
    audit_record(actor=None, action="login_failed")
    call_command("flush", interactive=False, verbosity=0)
    assert not AuditLog.objects.exists()
    old, recent = _line(5 * 365), _line(1)
    with pytest.raises(REFUSED), connection.cursor() as cursor:
        cursor.execute("DELETE FROM accounts_auditlog")
    settings.AUDIT_LOG_RETENTION_DAYS = 3 * 365
    assert audit_log_purge(now=NOW) == 1
    assert not AuditLog.objects.filter(pk=old.pk).exists()
    assert AuditLog.objects.filter(pk=recent.pk).exists()
