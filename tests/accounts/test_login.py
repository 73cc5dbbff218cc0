"""Login by e-mail, lock-out, logout, password change and reset: whole flows through HTTP."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accesmt.accounts.models import AuditLog, LoginFailure
from accesmt.notifications.delivery import deliver_due
from accesmt.notifications.models import OutboxMessage
from tests.accounts.factories import PASSWORD, UserFactory
from tests.messages import link_in

pytestmark = pytest.mark.django_db
LOGIN = reverse("accounts:login")


@pytest.fixture
def user():
    return UserFactory(email="claire.dupond@exemple.fr")


def _login(client, email, password, **extra):
    return client.post(LOGIN, {"username": email, "password": password}, **extra)


def test_login_by_e_mail_whatever_the_case_and_audit_it(client, user):
    response = _login(client, "  Claire.Dupond@Exemple.FR ", PASSWORD, REMOTE_ADDR="192.0.2.4")
    assert response.status_code == 302
    assert response["Location"] == reverse("reporting:espace")
    line = AuditLog.objects.get()
    assert (line.action, line.actor, line.ip_address) == ("login", user, "192.0.2.4")


def test_login_page_is_french_and_accessible(client):
    page = client.get(LOGIN).content.decode()
    assert '<label for="id_username">' in page
    assert "Adresse e-mail" in page and "Mot de passe oublié" in page


def test_failed_login_is_audited_without_e_mail_or_password(client, user):
    response = _login(client, user.email, "Mauvais-Mot2passe")
    assert response.status_code == 200
    assert "Adresse e-mail ou mot de passe incorrect." in response.content.decode()
    assert 'aria-invalid="true"' not in response.content.decode()  # no field is singled out
    _login(client, "inconnu@exemple.fr", "Mauvais-Mot2passe")
    known, unknown = AuditLog.objects.order_by("id")
    assert (known.action, known.actor) == ("login_failed", user)
    assert (unknown.action, unknown.actor) == ("login_failed", None)
    for line in (known, unknown):
        values = [str(getattr(line, f.attname)) for f in AuditLog._meta.concrete_fields]
        assert not any("@" in value or "Mauvais" in value for value in values)


def test_an_inactive_account_cannot_log_in(client):
    UserFactory(email="parti@exemple.fr", is_active=False)
    response = _login(client, "parti@exemple.fr", PASSWORD)
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_five_failures_lock_the_pair_even_with_the_right_password(client, user):
    for _ in range(4):
        assert _login(client, user.email, "Mauvais-Mot2passe").status_code == 200
    assert _login(client, user.email, "Mauvais-Mot2passe").status_code == 429  # the 5th locks
    response = _login(client, user.email.upper(), PASSWORD)  # whatever the letter case
    assert response.status_code == 429
    page = response.content.decode()
    assert "Trop de tentatives" in page and "réessayez dans\n    1 minute," in page
    assert "_auth_user_id" not in client.session
    assert not AuditLog.objects.filter(action="login").exists()


def test_failures_from_another_address_do_not_lock_the_user_out(client, user):
    attacker = Client(REMOTE_ADDR="198.51.100.9")
    for _ in range(12):
        _login(attacker, user.email, "Mauvais-Mot2passe")
    assert _login(attacker, user.email, PASSWORD).status_code == 429
    assert _login(client, user.email, PASSWORD).status_code == 302  # 127.0.0.1: not delayed


def test_four_failures_then_the_right_password_logs_in_and_clears_the_count(client, user):
    for _ in range(4):
        _login(client, user.email, "Mauvais-Mot2passe")
    assert _login(client, user.email, PASSWORD).status_code == 302
    assert not LoginFailure.objects.exists()


def _age_last_failure(**delta):
    LoginFailure.objects.update(last_failure=timezone.now() - timedelta(**delta))


def test_delays_grow_after_each_new_failure_up_to_an_hour(client, user):
    for _ in range(5):
        _login(client, user.email, "Mauvais-Mot2passe")
    _age_last_failure(seconds=61)  # the first wait (1 minute) is over
    response = _login(client, user.email, "Mauvais-Mot2passe")  # 6th failure: 2 minutes
    assert response.status_code == 429 and "2 minutes" in response.content.decode()
    _age_last_failure(seconds=90)
    assert _login(client, user.email, PASSWORD).status_code == 429  # still within 2 minutes
    _age_last_failure(seconds=121)
    assert _login(client, user.email, "Mauvais-Mot2passe").status_code == 429  # 7th: 4 minutes
    assert "4 minutes" in _login(client, user.email, PASSWORD).content.decode()
    LoginFailure.objects.update(failures=30)
    assert "60 minutes" in _login(client, user.email, PASSWORD).content.decode()
    _age_last_failure(minutes=61)
    assert _login(client, user.email, PASSWORD).status_code == 302


def test_login_enforces_csrf(user):
    client = Client(enforce_csrf_checks=True)
    response = _login(client, user.email, PASSWORD)
    assert response.status_code == 403
    assert "Le formulaire a expiré" in response.content.decode()
    page = client.get(LOGIN)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())[1]
    response = client.post(
        LOGIN, {"username": user.email, "password": PASSWORD, "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302


def test_logout_only_by_post(client, user):
    client.force_login(user)
    assert client.get(reverse("accounts:logout")).status_code == 405
    assert "_auth_user_id" in client.session
    page = client.get(reverse("reporting:espace")).content.decode()
    assert f'action="{reverse("accounts:logout")}"' in page
    client.post(reverse("accounts:logout"))
    assert "_auth_user_id" not in client.session


def test_password_change_shows_the_rules_and_enforces_them(client, user):
    client.force_login(user)
    url = reverse("accounts:password_change")
    page = client.get(url).content.decode()
    assert 'aria-describedby="id_new_password1-hint"' in page
    assert "au minimum 12 caractères" in page
    assert "Au plus 128 caractères : une phrase de passe convient très bien." in page
    assert "types de caractères" not in page  # length, not composition
    weak = {"old_password": PASSWORD, "new_password1": "Password123!", "new_password2": ""}
    weak["new_password2"] = weak["new_password1"]
    response = client.post(url, weak)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Ce mot de passe est trop courant." in page
    assert (
        'aria-invalid="true"' in page
        and 'aria-describedby="id_new_password2-hint id_new_password2-error"' in page
    )
    strong = "le phare de gris-nez veille sur la manche"  # a passphrase, lower case only
    response = client.post(
        url, {"old_password": PASSWORD, "new_password1": strong, "new_password2": strong}
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(strong)


@pytest.mark.parametrize(
    "password",
    [
        "Court-1a",
        "Claire.Dupond@exemple.fr",
        "123456789012345",
        "motdepasse123",
        "Password123!",
        "MotDePasse-2026!",
        "Azertyuiop12",
        "x" * 129,
    ],
)
def test_weak_passwords_are_refused(client, user, password):
    client.force_login(user)
    response = client.post(
        reverse("accounts:password_change"),
        {"old_password": PASSWORD, "new_password1": password, "new_password2": password},
    )
    assert response.status_code == 200
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


@pytest.mark.parametrize(
    "password", ["correct cheval agrafe batterie", "c" + "hambre-froide-" * 4, "Vélo-Rouge-1987"]
)
def test_long_or_unusual_passwords_are_accepted_without_composition_rules(client, user, password):
    assert len(password) >= 12
    client.force_login(user)
    response = client.post(
        reverse("accounts:password_change"),
        {"old_password": PASSWORD, "new_password1": password, "new_password2": password},
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(password)


def test_password_reset_by_e_mail_through_the_outbox(client, user, smtp_server, settings):
    settings.PUBLIC_BASE_URL = "https://accesmt.example.org"
    smtp_server.stop()  # an SMTP outage: the request is queued, not lost
    response = client.post(
        reverse("accounts:password_reset"), {"email": user.email}, HTTP_HOST="localhost"
    )
    assert response.status_code == 302
    client.post(reverse("accounts:password_reset"), {"email": "inconnu@exemple.fr"})
    assert mail.outbox == []  # never sent from the web request
    # nothing is queued, and nothing told, for unknown addresses
    [queued] = OutboxMessage.objects.all()
    assert (queued.topic, queued.recipient) == ("accounts.password_reset", user.email)
    assert deliver_due().retrying == 1
    smtp_server.start()
    assert deliver_due(now=timezone.now() + timedelta(hours=1)).sent == 1
    [message] = smtp_server.messages
    assert message["To"] == user.email
    assert message["Subject"] == "AccèsMT : choisir un nouveau mot de passe"
    body = message.get_content()
    assert "localhost" not in body  # the link never comes from the Host header
    link = link_in(message, "/compte/mot-de-passe-oublie/", base="https://accesmt.example.org")
    form_url = client.get(link)["Location"]
    page = client.get(form_url).content.decode()
    assert "Choisir un nouveau mot de passe" in page and "au minimum 12 caractères" in page
    new = "Nouveau-Secret-2026"
    response = client.post(form_url, {"new_password1": new, "new_password2": new})
    assert response["Location"] == reverse("accounts:password_reset_complete")
    user.refresh_from_db()
    assert user.check_password(new)
    assert "Lien non valable" in client.get(link, follow=True).content.decode()


def test_password_reset_link_comes_from_public_base_url_not_host_header(client, user, settings):
    settings.PUBLIC_BASE_URL = "https://accesmt.example.org"
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "evil.example"]
    client.post(reverse("accounts:password_reset"), {"email": user.email}, HTTP_HOST="evil.example")
    [queued] = OutboxMessage.objects.filter(topic="accounts.password_reset")
    body = queued.body
    assert "evil.example" not in body
    assert link_in(queued, "/compte/mot-de-passe-oublie/", base="https://accesmt.example.org")
