"""The public form's limit per address counts stored requests only and fits a shared connection
(a help desk, a family, a mobile operator's shared address): 30 an hour instead of 5. CPTS whose
stored settings still hold the old default (5) are raised to the new one; any other value was
chosen by the CPTS and is kept."""

from django.db import migrations, models

OLD_DEFAULT, NEW_DEFAULT = 5, 30


def raise_old_default(apps, schema_editor):
    IntakeSettings = apps.get_model("intake", "IntakeSettings")
    IntakeSettings.objects.filter(submissions_per_hour=OLD_DEFAULT).update(
        submissions_per_hour=NEW_DEFAULT
    )


class Migration(migrations.Migration):
    dependencies = [
        ("intake", "0006_request_submission_fingerprint"),
    ]

    operations = [
        migrations.AlterField(
            model_name="intakesettings",
            name="submissions_per_hour",
            field=models.PositiveSmallIntegerField(
                default=30,
                help_text="Seules les demandes enregistrées comptent. Une adresse peut être partagée (accueil, famille, opérateur mobile) : ne baissez pas trop ce nombre.",
                verbose_name="inscriptions en ligne par heure et par adresse IP",
            ),
        ),
        migrations.RunPython(raise_old_default, migrations.RunPython.noop, elidable=True),
    ]
