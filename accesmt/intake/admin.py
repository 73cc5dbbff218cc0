from django.contrib import admin

from .models import IntakeSettings


@admin.register(IntakeSettings)
class IntakeSettingsAdmin(admin.ModelAdmin):
    """Per-CPTS priority rules, thresholds, "where to get care" texts and form limits."""

    list_display = ("cpts", "senior_age", "child_age_below", "submissions_per_hour")
    autocomplete_fields = ()
