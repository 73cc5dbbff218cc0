"""Members and roles of a CPTS managed in the product (issue 13, point 6): invitation by e-mail
through the outbox, the invitation link, role changes, deactivation, removal, the last
coordinator, the audit lines, another CPTS's coordinator. Whole flows through HTTP."""

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accesmt.accounts.members import invitation_token_generator
from accesmt.accounts.models import AuditAction, AuditLog, Membership, User
from accesmt.notifications.delivery import deliver_due
from accesmt.notifications.models import OutboxMessage
from tests.accounts.factories import PASSWORD, MembershipFactory, UserFactory
from tests.messages import body_of, link_in
from tests.territory.factories import CommuneFactory, CPTSFactory, TerritoryCommuneFactory

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "Pharmacie-du-Centre-2026"


@pytest.fixture
def cpts():
    cpts = CPTSFactory(name="CPTS Liévin", slug="lievin")
    TerritoryCommuneFactory(cpts=cpts, commune=CommuneFactory(name="Liévin", artois=True))
    TerritoryCommuneFactory(cpts=cpts, commune=CommuneFactory(name="Angres", artois=True))
    return cpts


@pytest.fixture
def coordinator(cpts):
    return MembershipFactory(cpts=cpts, role="coordinator").user


@pytest.fixture
def coordinated(client, coordinator):
    client.force_login(coordinator)
    return client


def _url(name, cpts, member=None):
    kwargs = {"cpts_slug": cpts.slug}
    if member is not None:
        kwargs["pk"] = member.pk
    return reverse(f"members:{name}", kwargs=kwargs)


def _invite(client, cpts, **fields):
    data = {
        "email": "Pharma.Centre@Exemple.fr ",
        "first_name": "Inès",
        "last_name": "Durand",
        "role": "referrer",
        "profession": "pharmacien",
        **fields,
    }
    return client.post(_url("invite", cpts), data)


def _audit(action):
    return list(AuditLog.objects.filter(action=action).values_list("actor_id", "object_id"))


def test_invite_sends_a_link_through_the_outbox_that_sets_the_password_and_opens_the_cpts(
    client, coordinated, coordinator, cpts, smtp_server, settings
):
    settings.PUBLIC_BASE_URL = "https://accesmt.example.org"
    response = _invite(coordinated, cpts)
    assert response.status_code == 302 and response["Location"] == _url("list", cpts)
    invited = User.objects.get(email="pharma.centre@exemple.fr")
    assert not invited.is_active and not invited.has_usable_password()
    membership = invited.memberships.get()
    assert (membership.cpts, membership.role, membership.profession) == (
        cpts,
        "referrer",
        "pharmacien",
    )
    assert _audit(AuditAction.MEMBER_INVITE) == [(coordinator.pk, str(invited.pk))]
    page = coordinated.get(_url("list", cpts)).content.decode()
    assert "invité, pas encore accepté" in page and "Renvoyer l'invitation" in page

    assert deliver_due().sent == 1  # the real outbox path, to the local SMTP server
    [message] = smtp_server.messages
    assert message["To"] == "pharma.centre@exemple.fr"
    assert message["Subject"] == "AccèsMT : invitation de CPTS Liévin"
    body = body_of(message)
    assert "Durand" not in body and "Inès" not in body  # no name in the e-mail
    link = link_in(message, "/compte/invitation/", base="https://accesmt.example.org")

    coordinated.logout()
    form_url = client.get(link)["Location"]  # the token leaves the URL for the session
    assert "Choisir votre mot de passe" in client.get(form_url).content.decode()
    weak = client.post(form_url, {"new_password1": "court", "new_password2": "court"})
    assert "au minimum 12 caractères" in weak.content.decode()
    response = client.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response["Location"] == reverse("reporting:cpts_home", kwargs={"cpts_slug": "lievin"})
    invited.refresh_from_db()
    assert invited.is_active and invited.check_password(NEW_PASSWORD)
    assert client.get(response["Location"]).status_code == 200  # logged in, in the CPTS
    assert client.get(reverse("intake:refer", kwargs={"cpts_slug": "lievin"})).status_code == 200

    client.logout()  # the link served once
    used = client.get(link, follow=True).content.decode()
    assert "Invitation non valable" in used and "nouvelle invitation" in used


def test_an_expired_invitation_link_says_to_ask_for_a_new_one(
    client, coordinated, cpts, settings, monkeypatch
):
    _invite(coordinated, cpts)
    [queued] = OutboxMessage.objects.filter(topic="accounts.invitation")
    link = link_in(queued, "/compte/invitation/")
    coordinated.logout()
    # the token generator counts in naive local time
    now = timezone.localtime().replace(tzinfo=None)
    later = now + timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT, days=1)
    monkeypatch.setattr(invitation_token_generator, "_now", lambda: later)
    page = client.get(link, follow=True).content.decode()
    assert "Invitation non valable" in page and "coordination de votre CPTS" in page
    assert not User.objects.get(email="pharma.centre@exemple.fr").is_active


def test_a_password_reset_token_is_no_invitation(client, coordinated, cpts):
    _invite(coordinated, cpts)
    invited = User.objects.get(email="pharma.centre@exemple.fr")
    uid = urlsafe_base64_encode(force_bytes(invited.pk))
    token = default_token_generator.make_token(invited)
    coordinated.logout()
    url = reverse("accounts:invitation", kwargs={"uidb64": uid, "token": token})
    assert "Invitation non valable" in client.get(url, follow=True).content.decode()


def test_resending_the_invitation_voids_the_first_link(coordinated, coordinator, cpts):
    _invite(coordinated, cpts)
    membership = Membership.objects.get(user__email="pharma.centre@exemple.fr")
    response = coordinated.post(_url("resend", cpts, membership))
    assert response.status_code == 302
    first, second = OutboxMessage.objects.filter(topic="accounts.invitation").order_by("pk")
    first_link, second_link = link_in(first, "/compte/invitation/"), link_in(second, "/compte/")
    assert first_link != second_link
    coordinated.logout()
    assert "Invitation non valable" in coordinated.get(first_link, follow=True).content.decode()
    assert (
        "Choisir votre mot de passe" in coordinated.get(second_link, follow=True).content.decode()
    )
    assert len(_audit(AuditAction.MEMBER_INVITE)) == 2


def test_an_existing_account_is_added_and_told_without_a_password_link(coordinated, cpts):
    known = MembershipFactory(role="gp", user__email="dr.martin@exemple.fr").user
    response = _invite(coordinated, cpts, email="DR.Martin@exemple.fr", role="gp", profession="")
    assert response.status_code == 302
    assert known.memberships.filter(cpts=cpts, role="gp").exists()
    known.refresh_from_db()
    assert known.check_password(PASSWORD) and known.is_active  # untouched
    [queued] = OutboxMessage.objects.filter(topic="accounts.invitation")
    assert queued.recipient == "dr.martin@exemple.fr"
    assert "/compte/invitation/" not in queued.body
    assert link_in(queued, "/compte/connexion/")
    # invited again into the same CPTS: refused next to the e-mail field
    again = _invite(coordinated, cpts, email="dr.martin@exemple.fr", role="gp", profession="")
    assert "Cette personne est déjà membre de la CPTS." in again.content.decode()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"email": "pas-une-adresse"}, "Saisissez une adresse de courriel valide."),
        ({"role": "platform_admin"}, "Sélectionnez un choix valide"),
        ({"profession": ""}, "Indiquez la profession d&#x27;un professionnel orienteur."),
        ({"role": "mairie", "profession": ""}, "Indiquez les communes de la mairie."),
        ({"role": "gp", "profession": "", "communes": ["62999"]}, "communes du territoire"),
        ({"first_name": ""}, "Ce champ est obligatoire."),
    ],
)
def test_bad_input_is_refused_next_to_the_field_and_nothing_is_written(
    coordinated, cpts, fields, message
):
    CommuneFactory(insee_code="62999", name="Hors-Territoire")
    before = (User.objects.count(), Membership.objects.count(), AuditLog.objects.count())
    response = _invite(coordinated, cpts, **fields)
    assert response.status_code == 200
    page = response.content.decode()
    assert message in page and 'class="error-message"' in page and 'aria-invalid="true"' in page
    after = (User.objects.count(), Membership.objects.count(), AuditLog.objects.count())
    assert after == before and not OutboxMessage.objects.exists()


def test_a_mairie_gets_communes_of_the_territory_only(coordinated, cpts):
    lievin = cpts.territory.get(commune__name="Liévin").commune
    response = _invite(coordinated, cpts, role="mairie", profession="", communes=[lievin.pk])
    assert response.status_code == 302
    membership = Membership.objects.get(user__email="pharma.centre@exemple.fr")
    assert list(membership.communes.all()) == [lievin]
    assert "Liévin" in coordinated.get(_url("list", cpts)).content.decode()


def test_a_coordinator_cannot_make_a_platform_admin(coordinated, cpts):
    _invite(coordinated, cpts, is_platform_admin="on", is_staff="on", is_superuser="on")
    invited = User.objects.get(email="pharma.centre@exemple.fr")
    assert not (invited.is_platform_admin or invited.is_staff or invited.is_superuser)


def test_role_change_is_saved_and_audited(coordinated, coordinator, cpts):
    member = MembershipFactory(cpts=cpts, role="gp")
    page = coordinated.get(_url("edit", cpts, member)).content.decode()
    assert 'value="gp" selected' in page
    refused = coordinated.post(_url("edit", cpts, member), {"role": "referrer"})
    assert "Indiquez la profession" in refused.content.decode()
    response = coordinated.post(
        _url("edit", cpts, member), {"role": "referrer", "profession": "infirmier"}
    )
    assert response.status_code == 302
    member.refresh_from_db()
    assert (member.role, member.profession) == ("referrer", "infirmier")
    assert _audit(AuditAction.MEMBER_CHANGE) == [(coordinator.pk, str(member.user_id))]


def test_the_last_active_coordinator_is_kept(coordinated, coordinator, cpts):
    own = coordinator.memberships.get()
    for name in ("deactivate", "remove"):
        response = coordinated.post(_url(name, cpts, own), follow=True)
        assert "doit garder au moins un·e coordinateur·rice actif·ve" in response.content.decode()
    demoted = coordinated.post(_url("edit", cpts, own), {"role": "observer"})
    assert "doit garder au moins un·e coordinateur·rice actif·ve" in demoted.content.decode()
    own.refresh_from_db()
    assert own.is_active and own.role == "coordinator"
    # a coordinator whose account is deactivated does not count; an active one does
    MembershipFactory(cpts=cpts, role="coordinator", user__is_active=False)
    assert coordinated.post(_url("deactivate", cpts, own)).status_code == 302
    own.refresh_from_db()
    assert own.is_active  # still refused
    MembershipFactory(cpts=cpts, role="coordinator")
    coordinated.post(_url("deactivate", cpts, own))
    own.refresh_from_db()
    assert not own.is_active


def test_deactivation_is_confirmed_cuts_access_at_once_and_is_audited(
    client, coordinated, coordinator, cpts
):
    member = MembershipFactory(cpts=cpts, role="referrer")
    home = reverse("reporting:cpts_home", kwargs={"cpts_slug": cpts.slug})
    other = client.__class__()
    other.force_login(member.user)
    assert other.get(home).status_code == 200
    confirm = coordinated.get(_url("deactivate", cpts, member)).content.decode()
    assert "Confirmer la désactivation" in confirm and 'name="csrfmiddlewaretoken"' in confirm
    member.refresh_from_db()
    assert member.is_active  # a GET changes nothing
    coordinated.post(_url("deactivate", cpts, member))
    member.refresh_from_db()
    assert not member.is_active
    assert other.get(home).status_code == 404
    assert "désactivé" in coordinated.get(_url("list", cpts)).content.decode()
    coordinated.post(_url("reactivate", cpts, member))
    assert other.get(home).status_code == 200
    assert _audit(AuditAction.MEMBER_DEACTIVATE) == [(coordinator.pk, str(member.user_id))]
    assert _audit(AuditAction.MEMBER_REACTIVATE) == [(coordinator.pk, str(member.user_id))]


def test_removal_is_confirmed_and_audited(coordinated, coordinator, cpts):
    member = MembershipFactory(cpts=cpts, role="gp")
    assert "Confirmer le retrait" in coordinated.get(_url("remove", cpts, member)).content.decode()
    assert Membership.objects.filter(pk=member.pk).exists()
    coordinated.post(_url("remove", cpts, member))
    assert not Membership.objects.filter(pk=member.pk).exists()
    assert User.objects.filter(pk=member.user_id).exists()  # the account stays
    assert _audit(AuditAction.MEMBER_REMOVE) == [(coordinator.pk, str(member.user_id))]
    [line] = AuditLog.objects.filter(action=AuditAction.MEMBER_REMOVE)
    assert (line.cpts, line.actor_role, line.object_type) == (
        cpts,
        "coordinator",
        "accounts.user",
    )


def test_actions_need_csrf(cpts, coordinator):
    from django.test import Client

    member = MembershipFactory(cpts=cpts, role="gp")
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(coordinator)
    assert strict.post(_url("remove", cpts, member)).status_code == 403
    assert Membership.objects.filter(pk=member.pk).exists()


def test_another_cpts_coordinator_cannot_touch_these_members(client, cpts):
    member = MembershipFactory(cpts=cpts, role="gp")
    client.force_login(MembershipFactory(role="coordinator").user)
    for name in ("list", "invite"):
        assert client.get(_url(name, cpts)).status_code == 404
    for name in ("edit", "remove", "deactivate", "reactivate"):
        assert client.post(_url(name, cpts, member), {"role": "coordinator"}).status_code == 404
    member.refresh_from_db()
    assert member.is_active and member.role == "gp"
    assert client.get(reverse("members:platform")).status_code == 404


def test_a_member_of_another_cpts_is_not_reachable_through_this_cpts(coordinated, cpts):
    elsewhere = MembershipFactory(role="gp")
    assert coordinated.post(_url("remove", cpts, elsewhere)).status_code == 404
    assert Membership.objects.filter(pk=elsewhere.pk).exists()


def test_the_platform_admin_manages_any_cpts(client, cpts):
    MembershipFactory(cpts=cpts, role="coordinator")
    admin = UserFactory(platform_admin=True)
    client.force_login(admin)
    page = client.get(reverse("members:platform")).content.decode()
    assert "CPTS Liévin" in page and _url("list", cpts) in page
    assert reverse("members:platform") in client.get(reverse("reporting:espace")).content.decode()
    assert _invite(client, cpts, role="gp", profession="").status_code == 302
    [line] = AuditLog.objects.filter(action=AuditAction.MEMBER_INVITE)
    assert (line.actor, line.actor_role, line.cpts) == (admin, "platform_admin", cpts)


def test_an_invitation_to_a_removed_member_no_longer_opens(client, coordinated, cpts):
    _invite(coordinated, cpts)
    link = link_in(OutboxMessage.objects.get(topic="accounts.invitation"), "/compte/invitation/")
    membership = Membership.objects.get(user__email="pharma.centre@exemple.fr")
    coordinated.post(_url("remove", cpts, membership))
    coordinated.logout()
    assert "Invitation non valable" in client.get(link, follow=True).content.decode()


def test_members_list_runs_a_fixed_number_of_queries(
    coordinated, cpts, django_assert_max_num_queries
):
    commune = cpts.territory.first().commune
    for _ in range(3):
        MembershipFactory(cpts=cpts, role="mairie").communes.add(commune)
    MembershipFactory.create_batch(19, cpts=cpts, role="gp")
    seen = datetime(2026, 3, 2, 13, 5, tzinfo=UTC)  # 14 h 05 in Paris
    MembershipFactory(cpts=cpts, role="gp", user__last_login=seen)
    with django_assert_max_num_queries(9):
        page = coordinated.get(_url("list", cpts)).content.decode()
    assert page.count("Modifier le rôle") == 24
    assert "02/03/2026 à 14 h 05" in page and "jamais" in page
