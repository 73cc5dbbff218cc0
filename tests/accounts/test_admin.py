"""The admin: e-mail users with the password rules, memberships inline, a read-only audit log."""

import pytest
from django.urls import reverse

from accesmt.accounts.models import AuditLog, User
from accesmt.accounts.services import audit_record
from tests.accounts.factories import UserFactory
from tests.territory.factories import CPTSFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(platform_admin=True))
    return client


def _add_user(client, password, email="nouvelle@exemple.fr"):
    return client.post(
        reverse("admin:accounts_user_add"),
        {
            "email": email,
            "first_name": "Nour",
            "last_name": "Benali",
            "password1": password,
            "password2": password,
        },
    )


def test_creating_a_user_applies_the_password_rules(admin_client):
    response = _add_user(admin_client, "motdepasse12")
    assert response.status_code == 200
    assert not User.objects.filter(email="nouvelle@exemple.fr").exists()
    response = _add_user(admin_client, "Un-Secret-Solide-26", email="Nouvelle@Exemple.fr")
    assert response.status_code == 302
    user = User.objects.get(email="nouvelle@exemple.fr")
    assert user.check_password("Un-Secret-Solide-26")


def test_the_same_e_mail_cannot_be_used_twice(admin_client):
    UserFactory(email="deja@exemple.fr")
    response = _add_user(admin_client, "Un-Secret-Solide-26", email="DEJA@exemple.fr")
    assert "Un compte existe déjà avec cette adresse e-mail." in response.content.decode()


def test_memberships_are_edited_inline(admin_client):
    cpts = CPTSFactory()
    user = UserFactory()
    url = reverse("admin:accounts_user_change", args=[user.pk])
    page = admin_client.get(url).content.decode()
    assert "memberships-TOTAL_FORMS" in page
    data = {
        "email": user.email,
        "first_name": "A",
        "last_name": "B",
        "is_active": "on",
        "date_joined_0": "01/01/2026",
        "date_joined_1": "10:00:00",
        "memberships-TOTAL_FORMS": "1",
        "memberships-INITIAL_FORMS": "0",
        "memberships-0-cpts": cpts.pk,
        "memberships-0-role": "referrer",
        "memberships-0-profession": "",
        "memberships-0-is_active": "on",
    }
    response = admin_client.post(url, data)
    assert response.status_code == 200, "a referrer without profession is refused"
    assert not user.memberships.exists()
    data["memberships-0-profession"] = "infirmier"
    response = admin_client.post(url, data)
    assert response.status_code == 302
    assert user.memberships.get().profession == "infirmier"


def test_the_audit_log_is_read_only_in_the_admin(admin_client):
    line = audit_record(actor=None, action="login_failed")
    count = AuditLog.objects.count()
    changelist = reverse("admin:accounts_auditlog_changelist")
    page = admin_client.get(changelist).content.decode()
    assert "échec de connexion" in page
    for query in ("?action__exact=read", f"?cpts__id__exact={CPTSFactory().pk}", "?at__year=2026"):
        assert admin_client.get(changelist + query).status_code == 200
    assert admin_client.get(reverse("admin:accounts_auditlog_add")).status_code == 403
    detail = reverse("admin:accounts_auditlog_change", args=[line.pk])
    assert admin_client.get(detail).status_code == 200  # view only
    admin_client.post(detail, {"action": "read"})
    delete = reverse("admin:accounts_auditlog_delete", args=[line.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    line.refresh_from_db()
    assert line.action == "login_failed"
    assert AuditLog.objects.count() == count
