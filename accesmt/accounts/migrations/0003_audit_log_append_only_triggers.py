"""The database itself refuses to change or delete audit lines (defence in depth: the model
refuses too, but raw SQL, a shell or another program must not be able to rewrite history).

SQLite: BEFORE UPDATE/DELETE triggers that RAISE(ABORT). PostgreSQL: a trigger function that
raises an exception. TRUNCATE is left possible on PostgreSQL (database owner only), which the
test runner's flush uses; the SQLite flush goes through accounts' own `flush` command.
"""

from django.db import migrations

SQLITE_CREATE = [
    """
    CREATE TRIGGER IF NOT EXISTS accounts_auditlog_no_update
    BEFORE UPDATE ON accounts_auditlog
    BEGIN
        SELECT RAISE(ABORT, 'accounts_auditlog is append-only: UPDATE refused');
    END;
    """,
    """
    CREATE TRIGGER IF NOT EXISTS accounts_auditlog_no_delete
    BEFORE DELETE ON accounts_auditlog
    BEGIN
        SELECT RAISE(ABORT, 'accounts_auditlog is append-only: DELETE refused');
    END;
    """,
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS accounts_auditlog_no_update;",
    "DROP TRIGGER IF EXISTS accounts_auditlog_no_delete;",
]

POSTGRESQL_CREATE = [
    """
    CREATE OR REPLACE FUNCTION accounts_auditlog_refuse_change() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION USING
            MESSAGE = 'accounts_auditlog is append-only: ' || TG_OP || ' refused',
            ERRCODE = 'integrity_constraint_violation';
    END;
    $$ LANGUAGE plpgsql;
    """,
    """
    CREATE TRIGGER accounts_auditlog_append_only
    BEFORE UPDATE OR DELETE ON accounts_auditlog
    FOR EACH ROW EXECUTE FUNCTION accounts_auditlog_refuse_change();
    """,
]
POSTGRESQL_DROP = [
    "DROP TRIGGER IF EXISTS accounts_auditlog_append_only ON accounts_auditlog;",
    "DROP FUNCTION IF EXISTS accounts_auditlog_refuse_change();",
]


def _run(schema_editor, statements_by_vendor):
    vendor = schema_editor.connection.vendor
    if vendor not in statements_by_vendor:
        raise RuntimeError(f"Base de données « {vendor} » non prise en charge.")
    for statement in statements_by_vendor[vendor]:
        schema_editor.execute(statement)


def create_triggers(apps, schema_editor):
    _run(schema_editor, {"sqlite": SQLITE_CREATE, "postgresql": POSTGRESQL_CREATE})


def drop_triggers(apps, schema_editor):
    _run(schema_editor, {"sqlite": SQLITE_DROP, "postgresql": POSTGRESQL_DROP})


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_audit_log")]

    operations = [migrations.RunPython(create_triggers, drop_triggers)]
