"""The campaign page's live response rate (taux.json) and absolute links in survey e-mails."""

import re

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.urls import reverse
from django.utils import timezone

from accesmt.directory.checks import public_base_url_check
from accesmt.directory.survey import survey_campaign_launch
from accesmt.notifications.models import OutboxMessage
from tests.accounts.factories import MembershipFactory

from .factories import PracticeSiteFactory


@pytest.fixture
def campaign(cpts, communes):
    for index in range(3):
        site = PracticeSiteFactory(commune=communes["lievin"])
        site.practitioner.email = f"dr{index}@exemple.fr"
        site.practitioner.save()
    return survey_campaign_launch(cpts=cpts, title="Enquête d'automne")


def _rate_url(cpts, campaign):
    return reverse("directory:campaign_rate", kwargs={"cpts_slug": cpts.slug, "pk": campaign.pk})


def test_rate_follows_the_answers_and_holds_no_name(client, cpts, campaign):
    client.force_login(MembershipFactory(cpts=cpts, role="coordinator").user)
    response = client.get(_rate_url(cpts, campaign))
    assert response["Cache-Control"] == "no-store"
    assert response.json() == {"answered": 0, "total": 3, "reminded": 0, "rate": 0}
    first, second, _ = campaign.invitations.order_by("pk")
    first.answered_at = second.answered_at = second.reminded_at = timezone.now()
    first.save()
    second.save()
    data = client.get(_rate_url(cpts, campaign)).json()
    assert data == {"answered": 2, "total": 3, "reminded": 1, "rate": 67}
    assert "NOM" not in client.get(_rate_url(cpts, campaign)).content.decode()


def test_campaign_page_points_its_live_region_at_the_json(client, cpts, campaign):
    client.force_login(MembershipFactory(cpts=cpts, role="coordinator").user)
    page = client.get(
        reverse("directory:campaign", kwargs={"cpts_slug": cpts.slug, "pk": campaign.pk})
    ).content.decode()
    assert f'data-campaign-rate="{_rate_url(cpts, campaign)}"' in page
    assert 'aria-live="polite"' in page
    assert "Taux de réponse : 0 / 3 (0 %)" in page  # without JavaScript too
    assert "/static/directory/campaign-rate.js" in page


def test_rate_of_a_campaign_of_another_cpts_is_404(client, cpts, campaign):
    from tests.territory.factories import CPTSFactory

    other = CPTSFactory()
    client.force_login(MembershipFactory(cpts=other, role="coordinator").user)
    url = reverse("directory:campaign_rate", kwargs={"cpts_slug": other.slug, "pk": campaign.pk})
    assert client.get(url).status_code == 404


def test_survey_emails_carry_absolute_links_to_public_base_url(cpts, communes, settings):
    settings.PUBLIC_BASE_URL = "https://accesmt.example.org/"
    site = PracticeSiteFactory(commune=communes["lievin"])
    site.practitioner.email = "dr.absolu@exemple.fr"
    site.practitioner.save()
    survey_campaign_launch(cpts=cpts, title="Enquête")
    body = OutboxMessage.objects.get(recipient="dr.absolu@exemple.fr").body
    assert re.search(r"^https://accesmt\.example\.org/enquete/[^/\s]+/$", body, re.MULTILINE)


@pytest.mark.parametrize(
    ("url", "warned"),
    [
        ("http://127.0.0.1:8000", True),
        ("https://localhost", True),
        ("http://accesmt.example.org", True),
        ("", True),
        ("https://accesmt.example.org", False),
    ],
)
def test_deploy_check_warns_when_public_base_url_is_not_the_https_site(settings, url, warned):
    settings.PUBLIC_BASE_URL = url
    messages = public_base_url_check()
    assert [m.id for m in messages] == (["accesmt.directory.W001"] if warned else [])


def test_deploy_check_is_part_of_check_deploy(settings):
    settings.PUBLIC_BASE_URL = "http://127.0.0.1:8000"
    with pytest.raises(SystemCheckError, match="PUBLIC_BASE_URL"):
        call_command("check", "--deploy", "--fail-level", "WARNING", "--tag", "security")
