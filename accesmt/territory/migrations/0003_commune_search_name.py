"""The normalised name of each commune (no accents, case, hyphens or leading article), indexed:
the home page looks communes up by it. Existing rows are filled here."""

from django.db import migrations, models

from accesmt.territory.codes import normalise_name


def fill_search_name(apps, schema_editor):
    """One prepared UPDATE per commune (bulk_update's CASE is quadratic on 35,000 rows)."""
    Commune = apps.get_model("territory", "Commune")
    rows = [
        (normalise_name(name), pk) for pk, name in Commune.objects.values_list("insee_code", "name")
    ]
    table = schema_editor.quote_name(Commune._meta.db_table)
    with schema_editor.connection.cursor() as cursor:
        cursor.executemany(f"UPDATE {table} SET search_name = %s WHERE insee_code = %s", rows)


class Migration(migrations.Migration):
    dependencies = [
        ("territory", "0002_cpts_slug_reserved_words"),
    ]

    operations = [
        migrations.AddField(
            model_name="commune",
            name="search_name",
            field=models.CharField(
                default="", editable=False, max_length=120, verbose_name="nom normalisé"
            ),
            preserve_default=False,
        ),
        migrations.RunPython(fill_search_name, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="commune",
            name="search_name",
            field=models.CharField(
                db_index=True, editable=False, max_length=120, verbose_name="nom normalisé"
            ),
        ),
    ]
