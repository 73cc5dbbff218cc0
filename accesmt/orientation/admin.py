"""Admin: the per-CPTS orientation settings; solicitations and outcomes read-only (they change
only through the services, so that every move is logged and announced)."""

from django.contrib import admin

from accesmt.common.admin import ReadOnlyAdmin

from .models import OrientationSettings, Placement, Solicitation, StillNeededCheck


@admin.register(OrientationSettings)
class OrientationSettingsAdmin(admin.ModelAdmin):
    list_display = (
        "cpts",
        "answer_delay_hours",
        "accepted_target",
        "ask_at_once",
        "still_needed_after_days",
    )


@admin.register(Solicitation)
class SolicitationAdmin(ReadOnlyAdmin):
    list_display = ("request", "practitioner", "cpts", "origin", "status", "asked_at")
    list_filter = ("status", "origin", "cpts")
    list_select_related = ("request", "practitioner", "cpts")


@admin.register(Placement)
class PlacementAdmin(ReadOnlyAdmin):
    list_display = ("request", "practitioner", "cpts", "recorded_by", "at")
    list_filter = ("recorded_by", "cpts")
    list_select_related = ("request", "practitioner", "cpts")


@admin.register(StillNeededCheck)
class StillNeededCheckAdmin(ReadOnlyAdmin):
    list_display = ("request", "cpts", "channel", "sent_at", "reminders_sent", "answer")
    list_filter = ("channel", "answer", "cpts")
    list_select_related = ("request", "cpts")
