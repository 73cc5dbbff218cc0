from django.contrib import admin

from .models import ReportingSettings


@admin.register(ReportingSettings)
class ReportingSettingsAdmin(admin.ModelAdmin):
    list_display = ("cpts", "aci_contract_start", "public_report")
    list_filter = ("public_report",)
