"""Writes of the reporting settings of a CPTS (the coordinator's page `views_settings.py`)."""

from __future__ import annotations

import datetime

from django.db import transaction

from accesmt.accounts.models import AuditAction
from accesmt.accounts.services import audit_record

from .models import ReportingSettings


def reporting_settings_update(
    *,
    cpts,
    by,
    aci_contract_start: datetime.date,
    public_report: bool,
    senior_departure_rate: int | None = None,
    default_patient_count: int | None = None,
    http_request=None,
) -> ReportingSettings:
    """Store the CPTS's ACI contract start, whether its monthly report is public and the two
    figures of the projection of departures (None: unchanged). Publishing
    figures is a decision someone will ask about: the change is written to the audit log (who,
    when; the values are in the row itself)."""
    with transaction.atomic():
        settings, _created = ReportingSettings.objects.select_for_update().get_or_create(cpts=cpts)
        settings.aci_contract_start = aci_contract_start
        settings.public_report = public_report
        if senior_departure_rate is not None:
            settings.senior_departure_rate = senior_departure_rate
        if default_patient_count is not None:
            settings.default_patient_count = default_patient_count
        settings.full_clean()
        settings.save()
        audit_record(
            actor=by,
            action=AuditAction.UPDATE,
            obj=settings,
            cpts=cpts,
            http_request=http_request,
        )
    return settings
