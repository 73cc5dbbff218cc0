"""Second factor: enrolment, login with a code or a recovery code, who must have one."""

import base64
import re
from urllib.parse import unquote

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accesmt.accounts.models import AuditLog, LoginFailure, Role
from tests.accounts.factories import PASSWORD, MembershipFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.otp]
LOGIN = reverse("accounts:login")
SETUP = reverse("accounts:otp_setup")
VERIFY = reverse("accounts:otp_verify")


def _code(device, drift=0) -> str:
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, drift):06d}"


def _password(client, user, **extra):
    return client.post(LOGIN, {"username": user.email, "password": PASSWORD, **extra})


def _enrol(client, user) -> tuple[TOTPDevice, list[str]]:
    client.get(SETUP)
    device = TOTPDevice.objects.get(user=user)
    response = client.post(SETUP, {"code": _code(device)})
    codes = re.findall(r"<code>([a-z0-9]{4}-[a-z0-9]{4})</code>", response.content.decode())
    device.refresh_from_db()
    return device, codes


@pytest.fixture
def coordinator():
    return MembershipFactory(role=Role.COORDINATOR)


def test_mandatory_role_is_sent_to_enrolment_and_reaches_nothing_else(client, coordinator):
    response = _password(client, coordinator.user)
    assert response.status_code == 302  # logged in with the password, not yet verified
    home = reverse("reporting:cpts_home", kwargs={"cpts_slug": coordinator.cpts.slug})
    for url in (home, reverse("reporting:espace"), "/admin/", reverse("territory:home")):
        response = client.get(url)
        assert (response.status_code, response["Location"]) == (302, SETUP), url
    assert client.get(SETUP).status_code == 200


@pytest.mark.parametrize("role", [Role.CPAM_MEDIATOR, Role.OBSERVER, Role.MAIRIE])
def test_every_role_with_exports_must_enrol(client, role):
    membership = MembershipFactory(role=role)
    client.force_login(membership.user)
    assert client.get(reverse("reporting:espace"))["Location"] == SETUP


def test_platform_admin_must_enrol(client):
    client.force_login(UserFactory(is_platform_admin=True))
    assert client.get(reverse("reporting:espace"))["Location"] == SETUP


@pytest.mark.parametrize("role", [Role.GP, Role.REFERRER])
def test_optional_roles_can_skip(client, role):
    membership = MembershipFactory(role=role)
    _password(client, membership.user)
    assert client.get(reverse("reporting:espace")).status_code == 200
    page = client.get(SETUP).content.decode()
    assert "Facultative pour votre rôle" in page and "Plus tard" in page


def test_inactive_mandatory_membership_does_not_require_it(client):
    membership = MembershipFactory(role=Role.COORDINATOR, is_active=False)
    client.force_login(membership.user)
    assert client.get(reverse("reporting:espace")).status_code == 200


def test_enrolment_shows_the_qr_code_and_key_then_confirms_with_a_first_code(client, coordinator):
    client.force_login(coordinator.user)
    page = client.get(SETUP).content.decode()
    device = TOTPDevice.objects.get(user=coordinator.user, confirmed=False)
    assert 'src="data:image/svg+xml;base64,' in page
    assert 'alt="QR code à scanner avec votre application d\'authentification"' in page
    secret = re.search(r'<code class="otp-secret">([A-Z2-7 ]+)</code>', page)[1]
    key = secret.replace(" ", "")
    assert base64.b32decode(key + "=" * (-len(key) % 8)) == device.bin_key
    assert client.get(SETUP).content.decode().count(secret) == 1  # a reload keeps the same key

    response = client.post(SETUP, {"code": "000000" if _code(device) != "000000" else "111111"})
    assert response.status_code == 200
    assert "Code incorrect ou expiré" in response.content.decode()
    device.refresh_from_db()
    assert not device.confirmed
    device.throttle_reset()  # django-otp also waits 1 s, then 2, 4… after each wrong code

    response = client.post(SETUP, {"code": _code(device)})
    page = response.content.decode()
    codes = re.findall(r"<code>([a-z0-9]{4}-[a-z0-9]{4})</code>", page)
    assert len(set(codes)) == 10
    download = re.search(r'href="data:text/plain;charset=utf-8,([^"]+)"', page)[1]
    assert all(code in unquote(download) for code in codes)
    device.refresh_from_db()
    assert device.confirmed
    stored = set(StaticToken.objects.values_list("token", flat=True))
    assert len(stored) == 10 and not stored & ({c.replace("-", "") for c in codes} | set(codes))
    # Verified now: the CPTS pages open; the codes are never shown again.
    home = reverse("reporting:cpts_home", kwargs={"cpts_slug": coordinator.cpts.slug})
    assert client.get(home).status_code == 200
    page = client.get(SETUP).content.decode()
    assert "est activée" in page and codes[0] not in page


def test_login_asks_the_code_after_the_password(coordinator):
    enrolling = Client()
    enrolling.force_login(coordinator.user)
    device, _ = _enrol(enrolling, coordinator.user)
    client = Client()
    response = _password(client, coordinator.user, next="/espace/")
    assert response["Location"] == VERIFY
    assert "_auth_user_id" not in client.session  # not logged in before the code
    assert client.get(reverse("reporting:espace"))["Location"].startswith(LOGIN)
    page = client.get(VERIFY).content.decode()
    assert "Code à 6 chiffres ou code de secours" in page
    assert 'autocomplete="one-time-code"' in page
    response = client.post(VERIFY, {"code": "abc"})
    assert "Code incorrect ou expiré" in response.content.decode()
    assert AuditLog.objects.filter(action="login_failed", actor=coordinator.user).exists()
    response = client.post(VERIFY, {"code": _code(device, drift=1)})
    assert response["Location"] == "/espace/"
    assert client.get(reverse("reporting:espace")).status_code == 200
    assert not LoginFailure.objects.exists()


def test_a_recovery_code_logs_in_once(coordinator):
    enrolling = Client()
    enrolling.force_login(coordinator.user)
    _, codes = _enrol(enrolling, coordinator.user)
    home = reverse("reporting:cpts_home", kwargs={"cpts_slug": coordinator.cpts.slug})
    client = Client()
    _password(client, coordinator.user)
    response = client.post(VERIFY, {"code": f"  {codes[3].upper()} "})
    assert response["Location"] == home
    assert StaticToken.objects.count() == 9
    again = Client()
    _password(again, coordinator.user)
    response = again.post(VERIFY, {"code": codes[3]})
    assert response.status_code == 200 and "Code incorrect" in response.content.decode()


def test_wrong_codes_are_delayed_like_passwords(coordinator):
    enrolling = Client()
    enrolling.force_login(coordinator.user)
    device, _ = _enrol(enrolling, coordinator.user)
    client = Client()
    _password(client, coordinator.user)
    for _ in range(4):
        assert client.post(VERIFY, {"code": "zzzz-zzzz"}).status_code == 200
    response = client.post(VERIFY, {"code": "zzzz-zzzz"})
    assert response.status_code == 429 and "Trop de tentatives" in response.content.decode()
    assert client.post(VERIFY, {"code": _code(device)}).status_code == 429
    assert "_auth_user_id" not in client.session


def test_the_verification_page_without_a_password_goes_to_login(client):
    assert client.get(VERIFY)["Location"] == LOGIN
    assert client.post(VERIFY, {"code": "123456"})["Location"] == LOGIN


def test_the_code_must_follow_the_password_within_ten_minutes(coordinator):
    enrolling = Client()
    enrolling.force_login(coordinator.user)
    device, _ = _enrol(enrolling, coordinator.user)
    client = Client()
    _password(client, coordinator.user)
    session = client.session
    session["accesmt_otp_pending"]["at"] -= 601
    session.save()
    response = client.post(VERIFY, {"code": _code(device, drift=1)})
    assert response["Location"] == LOGIN
    assert "_auth_user_id" not in client.session


def test_admin_login_goes_through_the_site_login(client):
    response = client.get("/admin/login/?next=/admin/")
    assert response["Location"] == f"{LOGIN}?next=/admin/"


def test_load_demo_refuses_production_settings(settings):
    from django.core.management.base import CommandError

    from accesmt.territory.models import CPTS

    settings.DEMO_DATA_ALLOWED = False
    with pytest.raises(CommandError, match="réglages de production"):
        call_command("load_demo", households=1, history=0)
    assert not CPTS.objects.exists()


def test_production_settings_forbid_demo_data_and_require_the_second_factor():
    import subprocess
    import sys

    code = (
        "import django; from django.conf import settings; django.setup(); "
        "print(settings.DEMO_DATA_ALLOWED, settings.ACCESMT_OTP_REQUIRED)"
    )
    env = {
        "DJANGO_SETTINGS_MODULE": "config.settings.prod",
        "SECRET_KEY": "x" * 50,
        "ALLOWED_HOSTS": "accesmt.example",
        "DATABASE_URL": "postgres://u@127.0.0.1:5432/none",
        "PATH": "/usr/bin:/bin",
    }
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["False", "True"]


def test_the_admin_opens_to_a_verified_admin_only(client):
    admin = UserFactory(is_platform_admin=True, is_staff=True, is_superuser=True)
    client.force_login(admin)
    assert client.get("/admin/")["Location"] == SETUP
    _enrol(client, admin)
    assert client.get("/admin/").status_code == 200


def _verified(client, coordinator) -> tuple[TOTPDevice, list[str]]:
    client.force_login(coordinator.user)
    device, codes = _enrol(client, coordinator.user)
    assert len(codes) == 10
    return device, codes


def test_new_recovery_codes_need_a_current_code_and_replace_the_old_ones(client, coordinator):
    device, old = _verified(client, coordinator)
    page = client.get(SETUP).content.decode()
    assert "Il vous reste <strong>10 codes de secours</strong>" in page
    response = client.post(SETUP, {"action": "codes", "codes-code": "000000"})
    assert "Les codes n'ont pas été renouvelés" in response.content.decode()
    assert StaticToken.objects.filter(device__user=coordinator.user).count() == 10
    response = client.post(SETUP, {"action": "codes", "codes-code": old[0]})
    new = re.findall(r"<code>([a-z0-9]{4}-[a-z0-9]{4})</code>", response.content.decode())
    assert len(new) == 10 and not set(new) & set(old)
    line = AuditLog.objects.get(object_type="otp.recovery_codes")
    assert (line.action, line.object_id) == ("update", str(coordinator.user.pk))
    # A new code logs in; the old ones no longer do (django-otp slows a device down for a
    # second after a failure: the failure comes last).
    other = Client()
    _password(other, coordinator.user)
    assert other.post(VERIFY, {"code": new[0]}).status_code == 302
    third = Client()
    _password(third, coordinator.user)
    assert "Code incorrect" in third.post(VERIFY, {"code": old[1]}).content.decode()


def test_a_mandatory_role_cannot_turn_the_second_factor_off(client, coordinator):
    device, codes = _verified(client, coordinator)
    page = " ".join(client.get(SETUP).content.decode().split())
    assert "ne peut pas être désactivée" in page and 'value="disable"' not in page
    client.post(SETUP, {"action": "disable", "disable-code": _code(device)})
    assert TOTPDevice.objects.filter(user=coordinator.user, confirmed=True).exists()


@pytest.mark.parametrize("role", [Role.GP, Role.REFERRER])
def test_an_optional_role_turns_it_off_with_a_code_and_logs_in_with_the_password_only(role):
    membership = MembershipFactory(role=role)
    client = Client()
    client.force_login(membership.user)
    device, codes = _enrol(client, membership.user)
    response = client.post(SETUP, {"action": "disable", "disable-code": "123456"})
    assert "toujours activée" in response.content.decode()
    assert TOTPDevice.objects.filter(user=membership.user).exists()
    response = client.post(SETUP, {"action": "disable", "disable-code": codes[0]})
    assert "Double authentification désactivée" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=membership.user).exists()
    assert not StaticToken.objects.filter(device__user=membership.user).exists()
    assert AuditLog.objects.filter(action="delete", object_type="otp.device").count() == 1
    other = Client()
    response = _password(other, membership.user)
    assert response.status_code == 302 and response["Location"] != VERIFY
    assert other.get(reverse("reporting:espace")).status_code == 200


def test_wrong_codes_on_the_management_page_are_delayed(client, coordinator, settings):
    _verified(client, coordinator)
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        response = client.post(SETUP, {"action": "codes", "codes-code": "000000"})
    assert response.status_code == 429
    assert LoginFailure.objects.get(username=coordinator.user.email).failures >= 1


def test_old_login_failures_are_deleted_by_the_job(rf):
    from datetime import timedelta

    from django.utils import timezone

    from accesmt.accounts.lockout import login_failures_forget
    from accesmt.notifications import jobs

    now = timezone.now()
    LoginFailure.objects.create(
        username="a@x.fr", ip_address="10.0.0.1", failures=3, last_failure=now - timedelta(days=2)
    )
    LoginFailure.objects.create(
        username="b@x.fr", ip_address="10.0.0.1", failures=3, last_failure=now - timedelta(hours=2)
    )
    assert "accounts.login_failures_forget" in jobs.registered()
    assert login_failures_forget(now=now) == 1
    assert list(LoginFailure.objects.values_list("username", flat=True)) == ["b@x.fr"]
