"""Retention of GP availability declarations (ADR 0027): a declaration superseded before the
limit goes; the latest of each GP stays however old, and so does any declaration that was the
current one at some moment within the period (the offer's indicators for it do not change)."""

import datetime

import pytest
from django.utils import timezone

from accesmt.directory.models import AvailabilityDeclaration
from accesmt.directory.retention import declarations_purge
from accesmt.notifications import jobs
from tests.territory.factories import CPTSFactory

from .factories import AvailabilityDeclarationFactory, PractitionerFactory

pytestmark = pytest.mark.django_db
NOW = timezone.now()


def _declared(practitioner, cpts, days_ago):
    return AvailabilityDeclarationFactory(
        practitioner=practitioner, cpts=cpts, declared_at=NOW - datetime.timedelta(days=days_ago)
    )


def test_only_declarations_superseded_before_the_limit_go(settings):
    settings.DECLARATION_RETENTION_DAYS = 1095
    gp, other = PractitionerFactory(), PractitionerFactory()
    cpts = CPTSFactory()
    superseded_long_ago = _declared(gp, cpts, 1500)  # replaced at 1200 days: gone
    current_at_the_limit = _declared(gp, cpts, 1200)  # replaced at 300 days: the limit's answer
    latest = _declared(gp, cpts, 300)
    lone_old = _declared(other, cpts, 3000)  # the other GP's only (latest) declaration
    assert declarations_purge(now=NOW) == 1
    left = set(AvailabilityDeclaration.objects.values_list("pk", flat=True))
    assert superseded_long_ago.pk not in left
    assert {current_at_the_limit.pk, latest.pk, lone_old.pk} <= left
    assert declarations_purge(now=NOW) == 0


def test_the_job_is_registered():
    assert jobs.registered()["directory.declarations_purge"].func is declarations_purge
