"""Django's SQLite backend, with one change: emptying the whole database (`manage.py flush`, and
the test runner between transactional tests) lifts the audit log's append-only triggers for the
duration of that one transaction.

Emptying the database is the one legitimate way to remove audit lines outside the retention
purge. On PostgreSQL, flush uses TRUNCATE, which row triggers do not see; SQLite has no TRUNCATE
and deletes rows, which the triggers refuse. Doing it here, in the flush SQL itself, keeps
Django's own `flush` command unshadowed (ADR 0001)."""

import importlib

from django.db.backends.sqlite3 import base, operations

# The triggers as the latest migration that defines them left them (0010: the purge's window).
_triggers = importlib.import_module("accesmt.accounts.migrations.0010_audit_log_purge_by_its_job")
AUDIT_TABLE = "accounts_auditlog"


class DatabaseOperations(operations.DatabaseOperations):
    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        statements = super().sql_flush(
            style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade
        )
        if AUDIT_TABLE not in tables:
            return statements
        # Run by execute_sql_flush inside one transaction: the triggers are back at its end.
        return [*_triggers.SQLITE_DROP, *statements, *_triggers.SQLITE_CREATE]


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations
