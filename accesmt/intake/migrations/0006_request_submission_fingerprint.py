"""The fingerprint of the household sent with a submission key: a re-send is recognised only
when its content is the same. Adding a NOT NULL column makes SQLite rebuild the table, which
drops the status-transition trigger: it is installed again (as in 0003), both ways."""

import importlib

from django.db import migrations, models

_0002 = importlib.import_module("accesmt.intake.migrations.0002_request_status_transition_trigger")
_0003 = importlib.import_module("accesmt.intake.migrations.0003_orientation_states")


class Migration(migrations.Migration):
    dependencies = [
        ("intake", "0005_request_geocode_attempted_at"),
    ]

    operations = [
        # Reversed last: puts the trigger back after the column is removed.
        migrations.RunPython(
            migrations.RunPython.noop,
            _0002.trigger_operation(_0003.ALLOWED).code,
        ),
        migrations.AddField(
            model_name="request",
            name="submission_fingerprint",
            field=models.CharField(
                blank=True,
                editable=False,
                help_text=(
                    "HMAC du foyer envoyé (commune, contacts, personnes) : un envoi répété avec "
                    "la même clé n'est reconnu que si le contenu est le même."
                ),
                max_length=64,
                verbose_name="empreinte du contenu envoyé",
            ),
        ),
        _0002.trigger_operation(_0003.ALLOWED, previous=_0003.ALLOWED),
    ]
