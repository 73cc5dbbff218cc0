"""An anonymised request stays closed: the database refuses to reopen it (raw SQL, a shell),
as `lifecycle.request_transition` does. Adding a CheckConstraint makes SQLite rebuild the
table, which drops the status-transition trigger: it is installed again (as in 0006), both
ways."""

import importlib

from django.db import migrations, models

_0002 = importlib.import_module("accesmt.intake.migrations.0002_request_status_transition_trigger")
_0003 = importlib.import_module("accesmt.intake.migrations.0003_orientation_states")


class Migration(migrations.Migration):
    dependencies = [
        ("intake", "0008_overseas_phones_real_country_code"),
    ]

    operations = [
        # Reversed last: puts the trigger back after the constraint is removed.
        migrations.RunPython(
            migrations.RunPython.noop,
            _0002.trigger_operation(_0003.ALLOWED).code,
        ),
        migrations.AddConstraint(
            model_name="request",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("anonymised_at__isnull", True), ("status", "closed"), _connector="OR"
                ),
                name="intake_request_anonymised_stays_closed",
            ),
        ),
        _0002.trigger_operation(_0003.ALLOWED, previous=_0003.ALLOWED),
    ]
