"""Planned installations of GPs on the territory, recorded by the coordination: the service that
writes them (checked, in one transaction, audited) and the query of a CPTS's list."""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction

from accesmt.accounts.models import AuditAction
from accesmt.accounts.services import audit_record
from accesmt.territory.models import CPTS, Commune

from .models import PlannedInstallation, Practitioner


def installations_of(cpts: CPTS):
    return (
        PlannedInstallation.objects.filter(cpts=cpts)
        .select_related("practitioner")
        .prefetch_related("communes")
        .order_by("date", "pk")
    )


@transaction.atomic
def installation_save(
    *,
    cpts: CPTS,
    kind: str,
    date: datetime.date,
    communes: Iterable[Commune],
    monthly_capacity: int,
    certainty: str,
    practitioner: Practitioner | None = None,
    name: str = "",
    practice_label: str = "",
    remarks: str = "",
    recorded_by=None,
    installation: PlannedInstallation | None = None,
    http_request=None,
) -> PlannedInstallation:
    """Create (or, given `installation`, update) a planned installation. Raises ValidationError
    (French messages keyed by field) when no GP is named, when a commune served is not of the
    CPTS territory, or a value is out of range. Nothing is written then."""
    communes = list(communes)
    name = name.strip()
    errors: dict[str, str] = {}
    if practitioner is None and not name:
        errors["name"] = "Choisissez un médecin de l'annuaire ou saisissez son nom."
    if practitioner is not None and name:
        errors["name"] = "Choisissez un médecin de l'annuaire ou saisissez un nom, pas les deux."
    if not communes:
        errors["communes"] = "Choisissez au moins une commune desservie."
    territory = set(
        Commune.objects.filter(territory__cpts=cpts).values_list("insee_code", flat=True)
    )
    if any(c.pk not in territory for c in communes):
        errors["communes"] = "Une commune choisie n'est pas sur le territoire de la CPTS."
    if errors:
        raise ValidationError(errors)
    created = installation is None
    if created:
        installation = PlannedInstallation(cpts=cpts, recorded_by=recorded_by)
    elif installation.cpts_id != cpts.pk:
        raise ValidationError({"cpts": "Cette installation n'appartient pas à cette CPTS."})
    installation.practitioner = practitioner
    installation.name = name
    installation.kind = kind
    installation.practice_label = practice_label.strip()
    installation.date = date
    installation.monthly_capacity = monthly_capacity
    installation.certainty = certainty
    installation.remarks = remarks
    installation.full_clean(exclude=["communes"])
    installation.save()
    installation.communes.set(communes)
    audit_record(
        actor=recorded_by,
        action=AuditAction.CREATE if created else AuditAction.UPDATE,
        obj=installation,
        cpts=cpts,
        http_request=http_request,
    )
    return installation


@transaction.atomic
def installation_delete(*, installation: PlannedInstallation, by, http_request=None) -> None:
    audit_record(
        actor=by,
        action=AuditAction.DELETE,
        obj=installation,
        cpts=installation.cpts,
        http_request=http_request,
    )
    installation.delete()
