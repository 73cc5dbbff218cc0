"""The database refuses a change of `intake_request.status` that the life cycle does not allow
(defence in depth: `lifecycle.request_transition` refuses it first, but raw SQL, a shell or
another program must not be able to jump from "closed" to "waiting").

The allowed pairs are copied from `accesmt.intake.lifecycle.TRANSITIONS` as they are today
(a migration must not import live code). When the table changes, add a migration that drops
and recreates the trigger with the new pairs; `tests/intake/test_lifecycle.py` checks that the
trigger and the table agree. Same SQL condition on SQLite and PostgreSQL, different syntax.
"""

from django.db import migrations

ALLOWED = [
    "new>to_verify",
    "new>waiting",
    "new>closed",
    "to_verify>waiting",
    "to_verify>closed",
    "waiting>to_verify",
    "waiting>closed",
    "closed>to_verify",
]
_PAIRS = ", ".join(f"'{pair}'" for pair in ALLOWED)
_CONDITION = f"OLD.status <> NEW.status AND (OLD.status || '>' || NEW.status) NOT IN ({_PAIRS})"

SQLITE_CREATE = [
    f"""
    CREATE TRIGGER IF NOT EXISTS intake_request_status_transition
    BEFORE UPDATE OF status ON intake_request
    WHEN {_CONDITION}
    BEGIN
        SELECT RAISE(ABORT, 'intake_request: status transition refused');
    END;
    """
]
SQLITE_DROP = ["DROP TRIGGER IF EXISTS intake_request_status_transition;"]

POSTGRESQL_CREATE = [
    f"""
    CREATE OR REPLACE FUNCTION intake_request_check_transition() RETURNS trigger AS $$
    BEGIN
        IF {_CONDITION} THEN
            RAISE EXCEPTION USING
                MESSAGE = 'intake_request: status transition refused ('
                    || OLD.status || ' -> ' || NEW.status || ')',
                ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN NEW;
    END;
    $$ LANGUAGE plpgsql;
    """,
    """
    CREATE TRIGGER intake_request_status_transition
    BEFORE UPDATE OF status ON intake_request
    FOR EACH ROW EXECUTE FUNCTION intake_request_check_transition();
    """,
]
POSTGRESQL_DROP = [
    "DROP TRIGGER IF EXISTS intake_request_status_transition ON intake_request;",
    "DROP FUNCTION IF EXISTS intake_request_check_transition();",
]


def _run(schema_editor, statements_by_vendor):
    vendor = schema_editor.connection.vendor
    if vendor not in statements_by_vendor:
        raise RuntimeError(f"Base de données « {vendor} » non prise en charge.")
    for statement in statements_by_vendor[vendor]:
        schema_editor.execute(statement)


def create_trigger(apps, schema_editor):
    _run(schema_editor, {"sqlite": SQLITE_CREATE, "postgresql": POSTGRESQL_CREATE})


def drop_trigger(apps, schema_editor):
    _run(schema_editor, {"sqlite": SQLITE_DROP, "postgresql": POSTGRESQL_DROP})


class Migration(migrations.Migration):
    dependencies = [("intake", "0001_requests_members_transitions_priority_duplicates")]

    operations = [migrations.RunPython(create_trigger, drop_trigger)]
