"""Declaration form pages: the GP's own page and the coordinator's page (HTTP flows)."""

import pytest
from django.urls import reverse

from accesmt.directory.models import AvailabilityDeclaration, DeclarationSource
from tests.accounts.factories import MembershipFactory
from tests.messages import token_in

from .factories import PracticeSiteFactory

VALID = {
    "accepting": "yes",
    "monthly_capacity": "5",
    "accepts_children_under_6": "on",
    "listing": "public",
}


@pytest.fixture
def gp_site(cpts, communes):
    site = PracticeSiteFactory(commune=communes["lievin"])
    site.practitioner.email = "dr.martin@exemple.fr"
    site.practitioner.save()
    return site


def test_coordinator_records_a_declaration(client, cpts, gp_site):
    user = MembershipFactory(cpts=cpts, role="coordinator").user
    client.force_login(user)
    url = reverse(
        "directory:coordinator_declaration",
        kwargs={"cpts_slug": cpts.slug, "pk": gp_site.practitioner.pk},
    )
    response = client.post(url, VALID)
    assert response.status_code == 302
    declaration = AvailabilityDeclaration.objects.current().get(practitioner=gp_site.practitioner)
    assert declaration.source == DeclarationSource.COORDINATOR
    assert declaration.monthly_capacity == 5
    assert declaration.accepts_children_under_6
    assert declaration.recorded_by == user
    page = client.get(response["Location"])
    assert "votre déclaration est enregistrée" in page.content.decode()


def test_coordinator_cannot_declare_for_a_gp_outside_the_territory(client, cpts, communes):
    outside = PracticeSiteFactory(commune=communes["lille"])
    client.force_login(MembershipFactory(cpts=cpts, role="coordinator").user)
    url = reverse(
        "directory:coordinator_declaration",
        kwargs={"cpts_slug": cpts.slug, "pk": outside.practitioner.pk},
    )
    assert client.post(url, VALID).status_code == 404
    assert not AvailabilityDeclaration.objects.exists()


def test_form_errors_are_french_and_next_to_fields(client, cpts, gp_site):
    client.force_login(MembershipFactory(cpts=cpts, role="coordinator").user)
    url = reverse(
        "directory:coordinator_declaration",
        kwargs={"cpts_slug": cpts.slug, "pk": gp_site.practitioner.pk},
    )
    response = client.post(url, {"monthly_capacity": "beaucoup"})
    html = response.content.decode()
    assert response.status_code == 400
    assert "Indiquez si vous acceptez de nouveaux patients." in html
    assert "Saisissez un nombre entier." in html
    assert 'aria-describedby="id_monthly_capacity-hint id_monthly_capacity-error"' in html
    assert 'aria-invalid="true"' in html
    assert not AvailabilityDeclaration.objects.exists()


def test_service_errors_come_back_on_the_fields(client, cpts, gp_site):
    client.force_login(MembershipFactory(cpts=cpts, role="coordinator").user)
    url = reverse(
        "directory:coordinator_declaration",
        kwargs={"cpts_slug": cpts.slug, "pk": gp_site.practitioner.pk},
    )
    response = client.post(url, {**VALID, "accepts_home_visits": "on"})
    assert response.status_code == 400
    assert "Indiquez où vous faites des visites à domicile" in response.content.decode()
    response = client.post(url, {**VALID, "accepting": "no"})
    assert response.status_code == 400
    assert "ne déclare pas de capacité" in response.content.decode()
    assert not AvailabilityDeclaration.objects.exists()


def test_gp_declares_for_the_practitioner_with_their_email(client, cpts, gp_site):
    user = MembershipFactory(cpts=cpts, role="gp", user__email="Dr.Martin@exemple.fr").user
    client.force_login(user)
    url = reverse("directory:my_declaration", kwargs={"cpts_slug": cpts.slug})
    assert gp_site.practitioner.display_name in client.get(url).content.decode()
    assert client.post(url, {**VALID, "listing": "professionals"}).status_code == 302
    declaration = AvailabilityDeclaration.objects.get()
    assert declaration.practitioner == gp_site.practitioner
    assert declaration.source == DeclarationSource.GP
    # The form shows the current declaration on the next visit.
    html = client.get(url).content.decode()
    assert 'value="professionals" id="id_listing_1" required checked' in html


def test_declaration_pages_render_the_departure_date_as_iso(client, cpts, gp_site):
    """An `<input type="date">` only accepts 2028-05-20: 20/05/2028 shows an empty field, and
    saving unchanged would drop the date. The three pages of the form show the ISO value."""
    from accesmt.directory.services import declaration_create
    from accesmt.directory.survey import invitation_token, survey_campaign_launch

    declaration_create(
        practitioner=gp_site.practitioner,
        cpts=cpts,
        source=DeclarationSource.COORDINATOR,
        accepting="yes",
        listing="public",
        planned_departure_date=datetime.date(2028, 5, 20),
    )
    invitation = survey_campaign_launch(cpts=cpts, title="Enquête").invitations.get()
    coordinator = MembershipFactory(cpts=cpts, role="coordinator").user
    gp_user = MembershipFactory(cpts=cpts, role="gp", user__email="dr.martin@exemple.fr").user
    pages = [
        (
            coordinator,
            reverse(
                "directory:coordinator_declaration",
                kwargs={"cpts_slug": cpts.slug, "pk": gp_site.practitioner.pk},
            ),
        ),
        (gp_user, reverse("directory:my_declaration", kwargs={"cpts_slug": cpts.slug})),
        (None, reverse("directory:survey_answer", kwargs={"token": invitation_token(invitation)})),
    ]
    for user, url in pages:
        client.logout()
        if user:
            client.force_login(user)
        html = client.get(url).content.decode()
        field = re.search(r'<input type="date" name="planned_departure_date"[^>]*>', html)
        assert field, url
        assert 'value="2028-05-20"' in field.group(0), url


def test_gp_without_practitioner_sees_an_explanation(client, cpts, gp_site):
    client.force_login(MembershipFactory(cpts=cpts, role="gp", user__email="x@exemple.fr").user)
    url = reverse("directory:my_declaration", kwargs={"cpts_slug": cpts.slug})
    assert "Fiche médecin introuvable" in client.get(url).content.decode()
    assert client.post(url, VALID).status_code == 200
    assert not AvailabilityDeclaration.objects.exists()


# --- survey campaigns ---------------------------------------------------------------------------

import datetime  # noqa: E402
import re  # noqa: E402

from django.core import signing  # noqa: E402
from django.utils import timezone  # noqa: E402

from accesmt.directory.survey import (  # noqa: E402
    SURVEY_SALT,
    invitation_from_token,
    invitation_token,
    survey_campaign_launch,
    survey_send_reminders,
)
from accesmt.notifications.models import OutboxMessage  # noqa: E402


@pytest.fixture
def campaign(cpts, communes, gp_site):
    other = PracticeSiteFactory(commune=communes["avion"])
    other.practitioner.email = "dr.autre@exemple.fr"
    other.practitioner.save()
    PracticeSiteFactory(commune=communes["avion"])  # no e-mail: not invited
    outside = PracticeSiteFactory(commune=communes["lille"])
    outside.practitioner.email = "loin@exemple.fr"
    outside.practitioner.save()
    return survey_campaign_launch(cpts=cpts, title="Enquête printemps", reminder_after_days=7)


def test_launch_invites_present_gps_with_email_and_queues_emails(campaign, gp_site):
    assert campaign.invitations.count() == 2
    messages = OutboxMessage.objects.filter(topic="directory.survey_invitation")
    assert sorted(m.recipient for m in messages) == ["dr.autre@exemple.fr", "dr.martin@exemple.fr"]
    body = messages.get(recipient="dr.martin@exemple.fr").body
    invitation = campaign.invitations.get(practitioner=gp_site.practitioner)
    # The token embeds a timestamp: decode the link found in the body rather than re-signing.
    token = token_in(body, "/enquete/")
    assert invitation_from_token(token) == invitation
    assert gp_site.practitioner.last_name not in body


def test_answer_through_the_link_and_response_rate(client, cpts, campaign, gp_site):
    invitation = campaign.invitations.get(practitioner=gp_site.practitioner)
    url = reverse("directory:survey_answer", kwargs={"token": invitation_token(invitation)})
    assert client.get(url).status_code == 200
    response = client.post(url, VALID)
    assert "votre réponse est enregistrée" in response.content.decode()
    declaration = AvailabilityDeclaration.objects.current().get(practitioner=gp_site.practitioner)
    assert declaration.source == DeclarationSource.SURVEY
    # Replayed: "déjà répondu", and the answer can be updated.
    page = client.get(url).content.decode()
    assert "Vous avez déjà répondu" in page
    client.post(url, {**VALID, "accepting": "no", "monthly_capacity": ""})
    current = AvailabilityDeclaration.objects.current().get(practitioner=gp_site.practitioner)
    assert current.accepting == "no"
    assert AvailabilityDeclaration.objects.count() == 2
    # The campaign page shows 1 / 2 (50 %).
    client.force_login(MembershipFactory(cpts=cpts, role="coordinator").user)
    page = client.get(
        reverse("directory:campaign", kwargs={"cpts_slug": cpts.slug, "pk": campaign.pk})
    ).content.decode()
    assert "1 / 2 (50 %)" in page


def test_tampered_and_expired_tokens_are_refused(client, campaign, settings):
    invitation = campaign.invitations.first()
    token = invitation_token(invitation)
    bad = client.get(reverse("directory:survey_answer", kwargs={"token": token[:-2] + "xx"}))
    assert bad.status_code == 400
    assert "n'est pas valide" in bad.content.decode()
    forged = signing.dumps({"i": invitation.pk}, salt="autre", compress=True)
    assert (
        client.get(reverse("directory:survey_answer", kwargs={"token": forged})).status_code == 400
    )
    settings.SURVEY_TOKEN_MAX_AGE_DAYS = 0
    expired = client.post(reverse("directory:survey_answer", kwargs={"token": token}), VALID)
    assert expired.status_code == 400
    assert "Ce lien a expiré" in expired.content.decode()
    assert not AvailabilityDeclaration.objects.exists()
    missing = signing.dumps({"i": 999999}, salt=SURVEY_SALT, compress=True)
    assert (
        client.get(reverse("directory:survey_answer", kwargs={"token": missing})).status_code == 400
    )


def test_reminder_job_sends_once_to_unanswered_only(client, campaign, gp_site):
    answered = campaign.invitations.get(practitioner=gp_site.practitioner)
    client.post(
        reverse("directory:survey_answer", kwargs={"token": invitation_token(answered)}), VALID
    )
    assert survey_send_reminders() == 0  # too early
    later = timezone.now() + datetime.timedelta(days=8)
    assert survey_send_reminders(now=later) == 1
    assert survey_send_reminders(now=later + datetime.timedelta(days=1)) == 0
    reminders = OutboxMessage.objects.filter(topic="directory.survey_reminder")
    assert [m.recipient for m in reminders] == ["dr.autre@exemple.fr"]


def test_coordinator_launches_a_campaign_through_the_page(client, cpts, gp_site):
    client.force_login(MembershipFactory(cpts=cpts, role="coordinator").user)
    url = reverse("directory:campaigns", kwargs={"cpts_slug": cpts.slug})
    assert client.post(url, {"title": "", "reminder_after_days": "0"}).status_code == 400
    response = client.post(url, {"title": "Enquête", "reminder_after_days": "5"})
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "0 / 1 (0 %)" in page
    assert gp_site.practitioner.display_name in page


def test_declaration_form_says_capacity_is_counted_in_persons(client, cpts, gp_site):
    user = MembershipFactory(cpts=cpts, role="gp", user__email="dr.martin@exemple.fr").user
    client.force_login(user)
    url = reverse("directory:my_declaration", kwargs={"cpts_slug": cpts.slug})
    page = " ".join(client.get(url).content.decode().split())
    assert "Combien de nouveaux patients par mois, environ ?" in page
    assert (
        "Comptés en personnes : un foyer de trois personnes prend trois places, et il vous est "
        "proposé entier ou pas du tout." in page
    )
