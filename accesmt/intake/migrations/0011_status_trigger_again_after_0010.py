"""0010 (usual GP fields, CPAM list channel, new closing reasons) made SQLite rebuild the request
table, which drops the status-transition trigger (see 0006, 0009): it is installed again. On
PostgreSQL the trigger survives and is simply replaced by the same one."""

import importlib

from django.db import migrations

_0002 = importlib.import_module("accesmt.intake.migrations.0002_request_status_transition_trigger")
_0003 = importlib.import_module("accesmt.intake.migrations.0003_orientation_states")


class Migration(migrations.Migration):
    dependencies = [
        ("intake", "0010_usual_gp_cpam_channel_closing_reasons"),
    ]

    operations = [
        _0002.trigger_operation(_0003.ALLOWED, previous=_0003.ALLOWED),
    ]
