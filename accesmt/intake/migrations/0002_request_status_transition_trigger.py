"""The database refuses a change of `intake_request.status` that the life cycle does not allow
(defence in depth: `lifecycle.request_transition` refuses it first, but raw SQL, a shell or
another program must not be able to jump from "closed" to "waiting").

The allowed pairs are copied from `accesmt.intake.lifecycle.TRANSITIONS` as they are today
(a migration must not import live code). When the table changes, add a migration that calls
`trigger_operation(new_pairs, previous_pairs)` of this module (0003 does);
`tests/intake/test_lifecycle.py` checks that the latest trigger and the table agree. Same SQL
condition on SQLite and PostgreSQL, different syntax.
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


def _create(allowed: list[str]) -> dict[str, list[str]]:
    pairs = ", ".join(f"'{pair}'" for pair in allowed)
    condition = f"OLD.status <> NEW.status AND (OLD.status || '>' || NEW.status) NOT IN ({pairs})"
    return {
        "sqlite": [
            f"""
            CREATE TRIGGER IF NOT EXISTS intake_request_status_transition
            BEFORE UPDATE OF status ON intake_request
            WHEN {condition}
            BEGIN
                SELECT RAISE(ABORT, 'intake_request: status transition refused');
            END;
            """
        ],
        "postgresql": [
            f"""
            CREATE OR REPLACE FUNCTION intake_request_check_transition() RETURNS trigger AS $$
            BEGIN
                IF {condition} THEN
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
        ],
    }


DROP = {
    "sqlite": ["DROP TRIGGER IF EXISTS intake_request_status_transition;"],
    "postgresql": [
        "DROP TRIGGER IF EXISTS intake_request_status_transition ON intake_request;",
        "DROP FUNCTION IF EXISTS intake_request_check_transition();",
    ],
}


def _run(schema_editor, *statements_by_vendor):
    vendor = schema_editor.connection.vendor
    for statements in statements_by_vendor:
        if vendor not in statements:
            raise RuntimeError(f"Base de données « {vendor} » non prise en charge.")
        for statement in statements[vendor]:
            schema_editor.execute(statement)


def trigger_operation(allowed: list[str], previous: list[str] | None = None):
    """A RunPython that installs the trigger for `allowed` (replacing the one for `previous`,
    which the reverse migration puts back)."""

    def forward(apps, schema_editor):
        _run(schema_editor, DROP, _create(allowed))

    def backward(apps, schema_editor):
        _run(schema_editor, DROP, *([_create(previous)] if previous else []))

    return migrations.RunPython(forward, backward)


class Migration(migrations.Migration):
    dependencies = [("intake", "0001_requests_members_transitions_priority_duplicates")]

    operations = [trigger_operation(ALLOWED)]
