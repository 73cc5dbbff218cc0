"""The admin site is the platform administrators' (decision 0022): its ModelAdmins are not
scoped by CPTS, so a member of a CPTS, even given `is_staff` and every permission, is refused
on every page of every registered ModelAdmin; a platform admin sees every CPTS's objects."""

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.urls import reverse

from tests.accounts.factories import MembershipFactory, UserFactory
from tests.territory.factories import CPTSFactory

MODEL_ADMINS = sorted(admin.site._registry, key=lambda model: model._meta.label)
ADMIN_LOGIN = reverse("admin:login")


def _pages(model) -> list[str]:
    info = (model._meta.app_label, model._meta.model_name)
    return [
        reverse("admin:index"),
        reverse("admin:app_list", args=(info[0],)),
        reverse("admin:{}_{}_changelist".format(*info)),
        reverse("admin:{}_{}_add".format(*info)),
        reverse("admin:{}_{}_change".format(*info), args=(1,)),
    ]


@pytest.fixture
def staff_coordinator(db):
    """A coordinator of a CPTS with the admin's flag and every permission of every model."""
    membership = MembershipFactory(cpts=CPTSFactory(), role="coordinator")
    user = membership.user
    user.is_staff = True
    user.save()
    user.user_permissions.set(Permission.objects.all())
    return user


def test_the_walk_sees_the_registered_model_admins():
    labels = {model._meta.label for model in MODEL_ADMINS}
    assert {"accounts.User", "territory.CPTS", "orientation.Solicitation"} <= labels


@pytest.mark.parametrize("model", MODEL_ADMINS, ids=lambda model: model._meta.label)
def test_a_cpts_member_with_the_staff_flag_is_refused_everywhere(client, staff_coordinator, model):
    client.force_login(staff_coordinator)
    for url in _pages(model):
        response = client.get(url)
        assert response.status_code == 302, (url, response.status_code)
        assert response["Location"].startswith(ADMIN_LOGIN), url


def test_a_custom_admin_page_refuses_a_cpts_member_too(client, staff_coordinator):
    client.force_login(staff_coordinator)
    for url in (
        reverse("admin:directory_practitioner_import"),
        reverse("admin:directory_practitioner_import_operation", kwargs={"pk": 1}),
    ):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(ADMIN_LOGIN)


@pytest.mark.parametrize("model", MODEL_ADMINS, ids=lambda model: model._meta.label)
def test_a_platform_admin_opens_every_changelist(client, db, model):
    client.force_login(UserFactory(platform_admin=True))
    info = (model._meta.app_label, model._meta.model_name)
    assert client.get(reverse("admin:{}_{}_changelist".format(*info))).status_code == 200
