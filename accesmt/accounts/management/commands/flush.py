"""`flush` that also works on SQLite, where the audit log's triggers refuse DELETE.

Emptying the whole database is the one legitimate way to remove audit lines outside the
retention purge; the test runner uses it between transactional tests. On SQLite the triggers are
dropped and re-created in the same transaction; PostgreSQL flushes with TRUNCATE, which row
triggers do not see.
"""

import importlib

from django.core.management.commands import flush
from django.db import connections, transaction

_triggers = importlib.import_module(
    "accesmt.accounts.migrations.0003_audit_log_append_only_triggers"
)


class Command(flush.Command):
    def handle(self, **options):
        connection = connections[options["database"]]
        if connection.vendor != "sqlite":
            return super().handle(**options)
        tables = connection.introspection.table_names()
        if "accounts_auditlog" not in tables:
            return super().handle(**options)
        with transaction.atomic(using=options["database"]), connection.cursor() as cursor:
            for statement in _triggers.SQLITE_DROP:
                cursor.execute(statement)
            try:
                super().handle(**options)
            finally:
                for statement in _triggers.SQLITE_CREATE:
                    cursor.execute(statement)
