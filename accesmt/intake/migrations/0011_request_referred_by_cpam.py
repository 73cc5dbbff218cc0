"""A referral by a CPAM role (agent, mediator) shows the Assurance Maladie as its source (issue
12): the flag is set at creation; existing requests keep False (no CPAM role could refer before).

Adding a NOT NULL column makes SQLite rebuild the table, which drops the status-transition
trigger (0010's constraint changes rebuilt it too): it is installed again, as in 0006."""

import importlib

from django.db import migrations, models

_0002 = importlib.import_module("accesmt.intake.migrations.0002_request_status_transition_trigger")
_0003 = importlib.import_module("accesmt.intake.migrations.0003_orientation_states")


class Migration(migrations.Migration):
    dependencies = [
        ("intake", "0010_usual_gp_cpam_channel_closing_reasons"),
    ]

    operations = [
        # Reversed last: puts the trigger back after the column is removed.
        migrations.RunPython(
            migrations.RunPython.noop,
            _0002.trigger_operation(_0003.ALLOWED).code,
        ),
        migrations.AddField(
            model_name="request",
            name="referred_by_cpam",
            field=models.BooleanField(
                default=False, verbose_name="orientée par l'Assurance Maladie (CPAM)"
            ),
        ),
        _0002.trigger_operation(_0003.ALLOWED, previous=_0003.ALLOWED),
    ]
