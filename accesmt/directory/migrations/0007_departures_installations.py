"""Planned departures get their details (certain or probable, full or partial) and planned
installations their table. A departure date recorded before this migration becomes a probable,
full departure (what the old form meant: "date prévue de départ, si connue")."""

import django.core.validators
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def existing_dates_become_departures(apps, schema_editor):
    Declaration = apps.get_model("directory", "AvailabilityDeclaration")
    Declaration.objects.filter(planned_departure_date__isnull=False).update(
        departure_certainty="probable", departure_scope="full"
    )


class Migration(migrations.Migration):

    dependencies = [
        ('directory', '0006_gp_counts_first_count_from_directory'),
        ('territory', '0002_cpts_slug_reserved_words'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='PlannedInstallation',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(blank=True, help_text="Si le médecin n'est pas (encore) dans l'annuaire.", max_length=200, verbose_name='nom du médecin')),
                ('kind', models.CharField(choices=[('new_practice', "ouverture d'un nouveau cabinet"), ('joining', 'arrivée dans un cabinet existant')], max_length=15, verbose_name='installation')),
                ('practice_label', models.CharField(blank=True, max_length=200, verbose_name='cabinet')),
                ('date', models.DateField(verbose_name="date prévue d'installation")),
                ('monthly_capacity', models.PositiveSmallIntegerField(validators=[django.core.validators.MaxValueValidator(200)], verbose_name='nouveaux patients par mois attendus')),
                ('certainty', models.CharField(choices=[('certain', 'certain'), ('probable', 'probable')], max_length=10, verbose_name='installation certaine ou probable')),
                ('remarks', models.TextField(blank=True, verbose_name='remarques')),
                ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='enregistrée le')),
                ('updated_at', models.DateTimeField(auto_now=True, verbose_name='modifiée le')),
            ],
            options={
                'verbose_name': 'installation prévue',
                'verbose_name_plural': 'installations prévues',
                'ordering': ['date', 'pk'],
            },
        ),
        migrations.AddField(
            model_name='availabilitydeclaration',
            name='departure_certainty',
            field=models.CharField(blank=True, choices=[('certain', 'certain'), ('probable', 'probable')], max_length=10, verbose_name='départ certain ou probable'),
        ),
        migrations.AddField(
            model_name='availabilitydeclaration',
            name='departure_scope',
            field=models.CharField(blank=True, choices=[('full', 'cessation complète'), ('partial', "réduction d'activité (départ partiel)")], max_length=10, verbose_name='départ complet ou partiel'),
        ),
        migrations.RunPython(existing_dates_become_departures, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name='availabilitydeclaration',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('planned_departure_date__isnull', False), models.Q(('departure_certainty', ''), ('departure_scope', '')), _connector='OR'), ('departure_certainty__in', ['', 'certain', 'probable']), ('departure_scope__in', ['', 'full', 'partial'])), name='declaration_departure_details_need_date'),
        ),
        migrations.AddField(
            model_name='plannedinstallation',
            name='communes',
            field=models.ManyToManyField(related_name='planned_installations', to='territory.commune', verbose_name='communes desservies'),
        ),
        migrations.AddField(
            model_name='plannedinstallation',
            name='cpts',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='planned_installations', to='territory.cpts', verbose_name='CPTS'),
        ),
        migrations.AddField(
            model_name='plannedinstallation',
            name='practitioner',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='planned_installations', to='directory.practitioner', verbose_name="médecin de l'annuaire"),
        ),
        migrations.AddField(
            model_name='plannedinstallation',
            name='recorded_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='enregistrée par'),
        ),
        migrations.AddIndex(
            model_name='plannedinstallation',
            index=models.Index(fields=['cpts', 'date'], name='installation_cpts_date_idx'),
        ),
        migrations.AddConstraint(
            model_name='plannedinstallation',
            constraint=models.CheckConstraint(condition=models.Q(('practitioner__isnull', False), models.Q(('name', ''), _negated=True), _connector='OR'), name='installation_names_a_gp'),
        ),
        migrations.AddConstraint(
            model_name='plannedinstallation',
            constraint=models.CheckConstraint(condition=models.Q(('kind__in', ['new_practice', 'joining'])), name='installation_kind_valid'),
        ),
        migrations.AddConstraint(
            model_name='plannedinstallation',
            constraint=models.CheckConstraint(condition=models.Q(('certainty__in', ['certain', 'probable'])), name='installation_certainty_valid'),
        ),
        migrations.AddConstraint(
            model_name='plannedinstallation',
            constraint=models.CheckConstraint(condition=models.Q(('monthly_capacity__lte', 200)), name='installation_capacity_range'),
        ),
    ]
