"""The demo's survey campaign: launched three weeks ago, 57 % answered, reminders, answers that
became the GPs' current declarations; the same seed gives the same campaign."""

import datetime as dt

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from accesmt.demo.survey import demo_survey_campaign_create
from accesmt.directory.models import AvailabilityDeclaration, SurveyCampaign
from accesmt.directory.survey import campaign_figures
from accesmt.notifications.models import OutboxMessage
from tests.directory.factories import (
    AvailabilityDeclarationFactory,
    PracticeSiteFactory,
    territory_with,
)
from tests.territory.factories import CommuneFactory, CPTSFactory


@pytest.mark.django_db
def test_load_demo_creates_a_campaign_with_57_percent_of_answers():
    call_command("load_demo", households=0, history=0)

    [campaign] = SurveyCampaign.objects.all()
    assert campaign.cpts.slug == "cpts-lievin"
    age = timezone.now() - campaign.launched_at
    assert dt.timedelta(days=20) < age < dt.timedelta(days=22)
    figures = campaign_figures(campaign)
    assert figures["total"] >= 55  # every present GP, each with a (demo) e-mail
    assert figures["rate"] == 57
    assert 0 < figures["reminded"] < figures["total"]
    invitations = campaign.invitations.select_related("declaration")
    answered = invitations.filter(answered_at__isnull=False)
    # The reminder went on day 7 to those who had not answered by then, and only to them.
    day_7 = campaign.launched_at + dt.timedelta(days=campaign.reminder_after_days)
    for invitation in invitations:
        if invitation.answered_at and invitation.answered_at < day_7:
            assert invitation.reminded_at is None
        else:
            assert invitation.reminded_at == day_7
    assert (
        OutboxMessage.objects.filter(topic="directory.survey_reminder").count()
        == (figures["reminded"])
    )
    # Each answer is a survey declaration, the GP's current one.
    current = set(AvailabilityDeclaration.objects.current().values_list("pk", flat=True))
    for invitation in answered:
        assert invitation.declaration.source == "survey"
        assert invitation.declaration.declared_at == invitation.answered_at
        assert campaign.launched_at <= invitation.answered_at <= timezone.now()
        assert invitation.declaration_id in current
    # Some answers changed the GP's availability compared with their declaration before.
    changed = 0
    for invitation in answered:
        before = (
            AvailabilityDeclaration.objects.filter(
                practitioner=invitation.practitioner, declared_at__lt=campaign.launched_at
            )
            .order_by("-declared_at")
            .first()
        )
        changed += before is not None and before.accepting != invitation.declaration.accepting
    assert changed >= 1


def _small_world():
    commune = CommuneFactory(insee_code="62510", name="Liévin")
    cpts = territory_with(CPTSFactory(slug="lievin"), commune)
    practitioners = []
    for index in range(14):
        site = PracticeSiteFactory(commune=commune)
        site.practitioner.email = f"dr{index}@exemple.fr"
        site.practitioner.save()
        if index % 3:
            AvailabilityDeclarationFactory(
                practitioner=site.practitioner,
                cpts=cpts,
                declared_at=timezone.now() - dt.timedelta(days=60 + index),
            )
        practitioners.append(site.practitioner)
    return cpts


def _outcome(cpts, seed):
    campaign = demo_survey_campaign_create(cpts, seed=seed)
    return sorted(
        (i.practitioner_id, i.answered_at is not None, i.reminded_at is not None)
        + ((i.declaration.accepting,) if i.declaration else ())
        for i in campaign.invitations.select_related("declaration")
    )


class _Rollback(Exception):
    pass


def _outcome_rolled_back(cpts, seed):
    try:
        with transaction.atomic():
            result = _outcome(cpts, seed)
            raise _Rollback
    except _Rollback:
        return result


@pytest.mark.django_db
def test_same_seed_same_campaign():
    cpts = _small_world()
    first = _outcome_rolled_back(cpts, 62510)
    assert first == _outcome_rolled_back(cpts, 62510)
    assert sum(answered for _, answered, *_ in first) == 8  # round(0.57 × 14)
    assert first != _outcome_rolled_back(cpts, 1)
