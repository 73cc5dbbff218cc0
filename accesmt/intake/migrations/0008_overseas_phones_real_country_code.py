"""Phones stored as "+33 596…" (a Martinique landline typed "0596 60 12 34" was read as
metropolitan) get their real E.164 number ("+596 596…"), for every overseas département and
Saint-Pierre-et-Miquelon. The requests' phones, and the practice sites' and CPTS' phones when
they were stored in E.164; anything else is left as it is."""

from django.db import migrations

from accesmt.common.phones import overseas_e164

PHONE_FIELDS = (("intake", "Request"), ("directory", "PracticeSite"), ("territory", "CPTS"))


def renormalise_overseas_phones(apps, schema_editor):
    for app_label, model_name in PHONE_FIELDS:
        model = apps.get_model(app_label, model_name)
        rows = model.objects.filter(phone__startswith="+33").values_list("pk", "phone")
        for pk, phone in rows.iterator():
            fixed = overseas_e164(phone)
            if fixed != phone:
                model.objects.filter(pk=pk).update(phone=fixed)


class Migration(migrations.Migration):
    dependencies = [
        ("intake", "0007_intakesettings_higher_limit_per_address"),
        ("directory", "0003_practice_site_geocode_attempted_at"),
        ("territory", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(renormalise_overseas_phones, migrations.RunPython.noop, elidable=True),
    ]
