"""The demo's departures and installations (issue 11): the oldest GP of the territory leaves
(certain, full) in five months with about 900 patients, and two GPs are expected — one opening a
practice in three months, one joining a practice in eight — through the real services. With the
GPs aged 67 and over, the projection flags the communes whose balance turns negative."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from accesmt.accounts.models import User
from accesmt.directory.installations import installation_save
from accesmt.directory.models import (
    Accepting,
    DeclarationSource,
    DepartureCertainty,
    DepartureScope,
    InstallationKind,
    Listing,
    Practitioner,
)
from accesmt.directory.services import declaration_create
from accesmt.reporting.periods import add_months
from accesmt.territory.models import Commune

LEAVING_PATIENTS = 900
LEAVING_IN_MONTHS = 5


def demo_departures_create(cpts, *, coordinator) -> Practitioner | None:
    """Record the departure and the two installations; return the leaving GP."""
    today = timezone.localdate()
    leaving = (
        Practitioner.objects.present()
        .in_cpts(cpts)
        .filter(birth_year__isnull=False)
        .exclude(email__in=User.objects.exclude(email="").values("email"))  # the demo GP account
        .order_by("birth_year", "last_name", "pk")
        .first()
    )
    if leaving is not None:
        declaration_create(
            practitioner=leaving,
            cpts=cpts,
            accepting=Accepting.NO,
            listing=Listing.PUBLIC,
            source=DeclarationSource.COORDINATOR,
            planned_departure_date=add_months(today, LEAVING_IN_MONTHS),
            departure_certainty=DepartureCertainty.CERTAIN,
            departure_scope=DepartureScope.FULL,
            approx_patient_count=LEAVING_PATIENTS,
            remarks="Départ à la retraite annoncé à la CPTS.",
            recorded_by=coordinator,
            declared_at=timezone.now() - dt.timedelta(days=3),
        )
    communes = list(Commune.objects.filter(territory__cpts=cpts).order_by("-population", "pk")[:3])
    if not communes:
        return leaving
    installation_save(
        cpts=cpts,
        name="Dr Camille Lefort",
        kind=InstallationKind.NEW_PRACTICE,
        practice_label="Maison de santé des Terrils",
        date=add_months(today, 3),
        communes=communes[:2],
        monthly_capacity=20,
        certainty=DepartureCertainty.CERTAIN,
        recorded_by=coordinator,
    )
    installation_save(
        cpts=cpts,
        name="Dr Yanis Benali",
        kind=InstallationKind.JOINING,
        practice_label="Cabinet médical du centre",
        date=add_months(today, 8),
        communes=communes[-1:],
        monthly_capacity=12,
        certainty=DepartureCertainty.PROBABLE,
        recorded_by=coordinator,
    )
    return leaving
