"""The history of the number of GPs starts at deployment: one count per CPTS today, from the
directory as it is (the same counting as `selectors.gp_counts_by_cpts`, frozen here)."""

from django.db import migrations
from django.db.models import Count, Q
from django.utils import timezone


def aged_60_plus(year):
    return Q(practitioner__birth_year__lte=year - 60) | Q(
        practitioner__birth_year__isnull=True, practitioner__age_band__in=["60_64", "65_plus"]
    )


def first_counts(apps, schema_editor):
    CPTS = apps.get_model("territory", "CPTS")
    GPCount = apps.get_model("directory", "GPCount")
    PracticeSite = apps.get_model("directory", "PracticeSite")
    today = timezone.localdate()
    rows = (
        PracticeSite.objects.filter(
            is_gone=False, practitioner__is_gone=False, commune__territory__isnull=False
        )
        .order_by()
        .values("commune__territory__cpts")
        .annotate(
            present=Count("practitioner", distinct=True),
            aged_60_plus=Count("practitioner", distinct=True, filter=aged_60_plus(today.year)),
            msu=Count("practitioner", distinct=True, filter=Q(practitioner__is_msu=True)),
        )
    )
    counts = {row.pop("commune__territory__cpts"): row for row in rows}
    zero = {"present": 0, "aged_60_plus": 0, "msu": 0}
    GPCount.objects.bulk_create(
        GPCount(cpts_id=pk, date=today, **counts.get(pk, zero))
        for pk in CPTS.objects.values_list("pk", flat=True)
        if not GPCount.objects.filter(cpts_id=pk, date=today).exists()
    )


class Migration(migrations.Migration):
    dependencies = [
        ("directory", "0005_gp_counts"),
        ("territory", "0001_initial"),
    ]

    operations = [migrations.RunPython(first_counts, migrations.RunPython.noop)]
