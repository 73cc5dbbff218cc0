"""The declaration's transfer capacity (issue 11, transfer plans): places a month for the patients
of a departing colleague, a part of the monthly capacity, on the one shared form of the survey
link, the GP's own page and the coordinator's page. French errors next to the field, nothing
written on an error."""

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from accesmt.accounts.models import Role
from accesmt.directory.models import AvailabilityDeclaration
from accesmt.directory.survey import invitation_token, survey_campaign_launch
from tests.accounts.factories import MembershipFactory

from .factories import AvailabilityDeclarationFactory, PracticeSiteFactory

pytestmark = pytest.mark.django_db

VALID = {"accepting": "yes", "monthly_capacity": "5", "listing": "public"}


@pytest.fixture
def gp_site(cpts, communes):
    site = PracticeSiteFactory(commune=communes["lievin"])
    site.practitioner.email = "dr.receveur@exemple.fr"
    site.practitioner.save()
    return site


def _coordinator_url(cpts, practitioner):
    return reverse(
        "directory:coordinator_declaration", kwargs={"cpts_slug": cpts.slug, "pk": practitioner.pk}
    )


def test_the_gp_declares_transfer_places_on_their_own_page(client, cpts, gp_site):
    user = MembershipFactory(cpts=cpts, role=Role.GP, user__email="dr.receveur@exemple.fr").user
    client.force_login(user)
    url = reverse("directory:my_declaration", kwargs={"cpts_slug": cpts.slug})
    page = client.get(url).content.decode()
    assert "patients d&#x27;un confrère qui part (transferts)" in page
    assert client.post(url, VALID | {"transfer_capacity": "2"}).status_code == 302
    declaration = AvailabilityDeclaration.objects.get()
    assert (declaration.monthly_capacity, declaration.transfer_capacity) == (5, 2)
    # the next visit starts from it
    assert client.get(url).context["form"].initial["transfer_capacity"] == 2


def test_more_transfer_places_than_the_capacity_is_refused_next_to_the_field(client, cpts, gp_site):
    client.force_login(MembershipFactory(cpts=cpts, role=Role.COORDINATOR).user)
    url = _coordinator_url(cpts, gp_site.practitioner)
    response = client.post(url, VALID | {"transfer_capacity": "6"})
    assert response.status_code == 400
    page = response.content.decode()
    error = page.split('id="id_transfer_capacity-error"')[1].split("</div>")[0]
    assert "Au plus 5" in error
    assert 'aria-describedby="id_transfer_capacity-hint id_transfer_capacity-error"' in page
    # without a monthly capacity there is nothing to take transfers from
    response = client.post(url, VALID | {"monthly_capacity": "", "transfer_capacity": "1"})
    assert response.status_code == 400
    assert "Indiquez d&#x27;abord combien de nouveaux patients" in response.content.decode()
    assert not AvailabilityDeclaration.objects.exists()
    # the coordinator records 5 with 5 for transfers (all of it)
    assert client.post(url, VALID | {"transfer_capacity": "5"}).status_code == 302
    assert AvailabilityDeclaration.objects.get().transfer_capacity == 5


def test_the_survey_link_records_transfer_places(client, cpts, gp_site):
    campaign = survey_campaign_launch(cpts=cpts, title="Enquête", reminder_after_days=7)
    invitation = campaign.invitations.get(practitioner=gp_site.practitioner)
    url = reverse("directory:survey_answer", kwargs={"token": invitation_token(invitation)})
    client.post(url, VALID | {"transfer_capacity": "3"})
    assert AvailabilityDeclaration.objects.get().transfer_capacity == 3
    # a GP who stops taking new patients takes no transfers either
    client.post(url, VALID | {"accepting": "no", "monthly_capacity": "", "transfer_capacity": ""})
    assert AvailabilityDeclaration.objects.latest().transfer_capacity is None


def test_the_database_keeps_transfers_within_the_capacity(cpts, gp_site):
    kept = AvailabilityDeclarationFactory(practitioner=gp_site.practitioner, cpts=cpts)
    assert kept.transfer_capacity is None  # declarations made before: no transfer places
    with pytest.raises(IntegrityError), transaction.atomic():
        AvailabilityDeclarationFactory(
            practitioner=gp_site.practitioner, cpts=cpts, monthly_capacity=2, transfer_capacity=3
        )
