"""Alerts six months before a declared departure (issue 11): the coordination gets the GP's name
and the patients at risk, the mairies of the GP's communes an aggregate without the name; once
per departure, whatever the number of runs."""

import datetime

import pytest
from django.utils import timezone

from accesmt.accounts.models import Role
from accesmt.notifications.jobs import registered
from accesmt.notifications.models import OutboxMessage
from accesmt.reporting.departure_alerts import departure_alerts_send, rounded_for_mairie
from accesmt.reporting.periods import add_months, month_label
from tests.accounts.factories import MembershipFactory
from tests.directory.factories import (
    AvailabilityDeclarationFactory,
    PracticeSiteFactory,
    PractitionerFactory,
    territory_with,
)
from tests.territory.factories import CommuneFactory, CPTSFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    lens, loos = CommuneFactory(name="Lens"), CommuneFactory(name="Loos")
    cpts = territory_with(CPTSFactory(email="coordination@cpts.example"), lens, loos)
    gp = PractitionerFactory(first_name="Anne", last_name="PARTANTE")
    PracticeSiteFactory(practitioner=gp, commune=lens)
    PracticeSiteFactory(practitioner=gp, commune=loos)
    today = timezone.localdate()
    leaving_on = add_months(today, 5)
    AvailabilityDeclarationFactory(
        practitioner=gp,
        cpts=cpts,
        refusing=True,
        approx_patient_count=900,
        planned_departure_date=leaving_on,
        departure_certainty="certain",
        departure_scope="full",
    )
    # Leaves in ten months: not yet.
    later = PracticeSiteFactory(commune=lens, practitioner__last_name="PLUSTARD").practitioner
    AvailabilityDeclarationFactory(
        practitioner=later, cpts=cpts, planned_departure_date=add_months(today, 10)
    )
    mairie_lens = MembershipFactory(cpts=cpts, role=Role.MAIRIE, user__email="mairie@lens.example")
    mairie_lens.communes.set([lens])
    mairie_both = MembershipFactory(cpts=cpts, role=Role.MAIRIE, user__email="agglo@example.fr")
    mairie_both.communes.set([lens, loos])
    elsewhere = MembershipFactory(cpts=cpts, role=Role.MAIRIE, user__email="autre@example.fr")
    elsewhere.communes.set([CommuneFactory()])
    return cpts, gp, leaving_on


def test_coordination_and_mairies_are_told_once(world):
    cpts, gp, leaving_on = world
    departure_alerts_send()
    messages = {m.recipient: m for m in OutboxMessage.objects.all()}
    assert set(messages) == {"coordination@cpts.example", "mairie@lens.example", "agglo@example.fr"}

    coordination = messages["coordination@cpts.example"]
    assert "Dr Anne PARTANTE" in coordination.body
    assert "environ 900 patients" in coordination.body.lower()
    assert "certain" in coordination.body and "PLUSTARD" not in coordination.body

    # Lens alone: half of 900 (two sites); both communes: all 900. Never the GP's name.
    lens = messages["mairie@lens.example"]
    assert "environ 450 patients de votre commune" in lens.body
    assert month_label(leaving_on) in lens.subject
    assert "environ 900 patients de vos communes" in messages["agglo@example.fr"].body
    for message in (lens, messages["agglo@example.fr"]):
        assert "PARTANTE" not in message.body + message.subject

    # Run again (another worker, the next period): nothing more.
    departure_alerts_send()
    departure_alerts_send(now=timezone.now() + datetime.timedelta(days=3))
    assert OutboxMessage.objects.count() == 3


def test_a_new_declaration_of_the_same_date_tells_nobody_again_a_new_date_does(world):
    cpts, gp, leaving_on = world
    departure_alerts_send()
    AvailabilityDeclarationFactory(
        practitioner=gp, cpts=cpts, refusing=True, planned_departure_date=leaving_on
    )
    departure_alerts_send()
    assert OutboxMessage.objects.count() == 3
    AvailabilityDeclarationFactory(
        practitioner=gp,
        cpts=cpts,
        refusing=True,
        planned_departure_date=leaving_on + datetime.timedelta(days=30),
    )
    departure_alerts_send()
    assert OutboxMessage.objects.count() == 6


def test_the_later_departure_is_told_when_six_months_remain(world):
    departure_alerts_send(now=timezone.now() + datetime.timedelta(days=130))
    bodies = " ".join(OutboxMessage.objects.values_list("body", flat=True))
    assert "PLUSTARD" in bodies


def test_a_partial_departure_counts_half_and_an_unknown_count_the_default(world):
    cpts, gp, leaving_on = world
    AvailabilityDeclarationFactory(
        practitioner=gp,
        cpts=cpts,
        refusing=True,
        planned_departure_date=leaving_on,
        departure_scope="partial",
    )  # no patient count: the default 1,000, half of it
    departure_alerts_send()
    body = OutboxMessage.objects.get(recipient="coordination@cpts.example").body
    assert "Environ 500 patients" in body
    assert "valeur par défaut" in body


def test_small_numbers_are_not_given_to_a_mairie():
    assert rounded_for_mairie(12) == "moins de 50"
    assert rounded_for_mairie(474) == "environ 450"
    assert rounded_for_mairie(476) == "environ 500"


def test_the_job_is_registered():
    assert registered()["reporting.departure_alerts"].func is departure_alerts_send
