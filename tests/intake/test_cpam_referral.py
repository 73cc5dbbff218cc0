"""CPAM agents and mediators refer patients like any professional (issue 12): the form and the
consent are the same, and the request shows the Assurance Maladie as its source — queue, filter,
request page, the "referrer's profession" indicator — whatever the membership's profession."""

import html

import pytest
from django.urls import reverse

from accesmt.accounts.models import Membership, Profession, Role
from accesmt.intake.models import Channel, Request
from tests.accounts.factories import MembershipFactory, UserFactory
from tests.reporting.helpers import at, household, page, table
from tests.territory.factories import CPTSFactory

from .factories import RequestFactory
from .test_channels import pro_data

pytestmark = pytest.mark.django_db
CPAM_SOURCE = "orientation par l'Assurance Maladie (CPAM)"


def text(response) -> str:
    return html.unescape(response.content.decode())


@pytest.mark.parametrize("role", [Role.CPAM_AGENT, Role.CPAM_MEDIATOR])
def test_a_cpam_role_refers_with_the_same_form_and_consent(client, territory, role):
    cpts = territory["lievin"]
    agent = MembershipFactory(cpts=cpts, role=role).user
    client.force_login(agent)
    home = text(client.get(reverse("reporting:cpts_home", kwargs={"cpts_slug": cpts.slug})))
    refer_url = reverse("intake:refer", kwargs={"cpts_slug": cpts.slug})
    assert refer_url in home
    page_text = text(client.get(refer_url))
    assert "J'atteste être le professionnel" in page_text
    assert "Cochez l'attestation" in text(client.post(refer_url, pro_data()))
    assert not Request.objects.exists()
    response = client.post(refer_url, pro_data(attestation="on"), follow=True)
    request = Request.objects.get()
    assert request.channel == Channel.REFERRAL and request.referrer == agent
    assert request.referrer_attested_consent and request.referred_by_cpam
    assert request.reference in text(response)  # "mes orientations"


def _queue(client, cpts, **query):
    coordinator = MembershipFactory(cpts=cpts, role=Role.COORDINATOR).user
    client.force_login(coordinator)
    return text(client.get(reverse("intake_staff:queue", kwargs={"cpts_slug": cpts.slug}), query))


def test_the_queue_shows_and_filters_the_cpam_as_source(client, territory):
    cpts = territory["lievin"]
    # an agent whose membership says "pharmacien": the role decides the source
    agent = MembershipFactory(cpts=cpts, role=Role.CPAM_AGENT, profession="pharmacien").user
    pharmacist = MembershipFactory(cpts=cpts, role=Role.REFERRER, profession="pharmacien").user
    client.force_login(agent)
    client.post(
        reverse("intake:refer", kwargs={"cpts_slug": cpts.slug}), pro_data(attestation="on")
    )
    by_cpam = Request.objects.get()
    by_pharmacist = RequestFactory(
        cpts=cpts, channel=Channel.REFERRAL, referrer=pharmacist, referrer_attested_consent=True
    )
    page_text = _queue(client, cpts)
    assert f"{CPAM_SOURCE} (1)" in " ".join(page_text.split())
    assert "orientation par un professionnel (1)" in " ".join(page_text.split())
    only_cpam = _queue(client, cpts, channel="referral_cpam")
    assert by_cpam.reference in only_cpam and by_pharmacist.reference not in only_cpam
    assert CPAM_SOURCE in only_cpam
    only_pros = _queue(client, cpts, channel="referral")
    assert by_pharmacist.reference in only_pros and by_cpam.reference not in only_pros
    detail = text(
        client.get(
            reverse(
                "intake_staff:request_detail",
                kwargs={"cpts_slug": cpts.slug, "reference": by_cpam.reference},
            )
        )
    )
    assert CPAM_SOURCE in detail


def test_a_professional_referral_is_not_shown_as_cpam(client, territory):
    cpts = territory["lievin"]
    # a CPAM role in another CPTS does not make this referral a CPAM one
    referrer = MembershipFactory(cpts=cpts, role=Role.REFERRER, profession="infirmier").user
    MembershipFactory(cpts=territory["lens"], role=Role.CPAM_AGENT, user=referrer)
    client.force_login(referrer)
    client.post(
        reverse("intake:refer", kwargs={"cpts_slug": cpts.slug}), pro_data(attestation="on")
    )
    assert Request.objects.get().referred_by_cpam is False


def test_the_indicator_counts_cpam_referrals_under_the_cpam(client):
    cpts = CPTSFactory()
    agent = MembershipFactory(cpts=cpts, role=Role.CPAM_AGENT, profession="pharmacien").user
    pharmacist = MembershipFactory(cpts=cpts, role=Role.REFERRER, profession="pharmacien").user
    for user, by_cpam in ((agent, True), (agent, True), (pharmacist, False)):
        household(
            cpts,
            at(2026, 5, 1),
            channel="referral",
            referrer=user,
            referrer_attested_consent=True,
            referred_by_cpam=by_cpam,
        )
    rows = table(
        page(client, cpts, Role.COORDINATOR, debut="2026-04-01"), "demand.referrer_professions"
    )
    assert rows["Assurance Maladie (CPAM)"][:2] == [2, 66.7]
    assert rows["pharmacien·ne"][:2] == [1, 33.3]


@pytest.mark.parametrize("role", [Role.CPAM_AGENT, Role.CPAM_MEDIATOR])
def test_the_admin_gives_cpam_roles_the_cpam_profession(client, role):
    cpts = CPTSFactory()
    user = UserFactory()
    client.force_login(UserFactory(platform_admin=True))
    url = reverse("admin:accounts_user_change", args=[user.pk])
    data = {
        "email": user.email,
        "first_name": "Agathe",
        "last_name": "Caisse",
        "is_active": "on",
        "date_joined_0": "01/01/2026",
        "date_joined_1": "10:00:00",
        "memberships-TOTAL_FORMS": "1",
        "memberships-INITIAL_FORMS": "0",
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
        "memberships-0-cpts": str(cpts.pk),
        "memberships-0-role": role,
        "memberships-0-profession": "",
        "memberships-0-is_active": "on",
    }
    response = client.post(url, data)
    assert response.status_code == 302, text(response)[:3000]
    assert Membership.objects.get(user=user).profession == Profession.CPAM
