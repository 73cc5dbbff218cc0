"""Every registered URL × every kind of user × both tenants (see tests/tenant_matrix.py)."""

import pytest
from django.urls import reverse

from accesmt.accounts.models import Membership, Role
from tests.accounts.factories import MembershipFactory, UserFactory
from tests.tenant_matrix import (
    ANONYMOUS,
    INACTIVE_MEMBER,
    MEMBER_ROLES,
    PLATFORM_ADMIN,
    USER_KINDS,
    collect,
    finish,
    response_text,
)
from tests.territory.factories import CPTSFactory

ENTRIES = collect()
LOGIN_URL = reverse("accounts:login")


@pytest.fixture
def world(db):
    cpts_a = CPTSFactory(name="CPTS Alpha", slug="cpts-alpha")
    cpts_b = CPTSFactory(name="CPTS Bêta-Confidentielle", slug="cpts-beta")
    users = {role: MembershipFactory(cpts=cpts_a, role=role).user for role in MEMBER_ROLES}
    users[INACTIVE_MEMBER] = MembershipFactory(
        cpts=cpts_a, role=Role.COORDINATOR, is_active=False
    ).user
    users[PLATFORM_ADMIN] = UserFactory(platform_admin=True)
    users[ANONYMOUS] = None
    return cpts_a, cpts_b, users


def _ask(client, entry, cpts, objs, user):
    if user is not None:
        client.force_login(user)
    url = entry.url(cpts, objs)
    data = entry.data(cpts, objs) if entry.data else {}
    return getattr(client, entry.method)(url, data)


def _is_refused(response) -> bool:
    if response.status_code == 404:
        return True
    return response.status_code == 302 and response["Location"].startswith(LOGIN_URL)


def test_the_registry_holds_the_core_pages():
    names = {entry.name for entry in ENTRIES}
    assert {"reporting:espace", "reporting:cpts_home", "members:list"} <= names


def test_the_world_has_one_user_of_each_kind_in_a(world):
    cpts_a, _cpts_b, users = world
    assert set(users) == set(USER_KINDS)
    referrer = Membership.objects.get(user=users[Role.REFERRER])
    assert referrer.profession
    assert not Membership.objects.get(user=users[INACTIVE_MEMBER]).is_active
    assert not Membership.objects.filter(user=users[PLATFORM_ADMIN]).exists()
    assert all(m.cpts == cpts_a for m in Membership.objects.all())


@pytest.mark.parametrize("kind", USER_KINDS)
@pytest.mark.parametrize("entry", ENTRIES, ids=lambda entry: entry.name)
def test_tenant_matrix(client, world, entry, kind):
    cpts_a, cpts_b, users = world
    objs_a = entry.setup(cpts_a) if entry.setup else {}
    objs_b = entry.setup(cpts_b) if entry.setup else {}
    user = users[kind]
    secrets_of_b = [cpts_b.name, *objs_b.get("secrets", [])]

    response_a = _ask(client, entry, cpts_a, objs_a, user)
    if kind in entry.allowed:
        assert response_a.status_code in entry.ok_statuses, (entry.name, kind)
    else:
        assert _is_refused(response_a), (entry.name, kind, response_a.status_code)
    if kind == ANONYMOUS and kind not in entry.allowed:
        assert response_a.status_code == 302, "an anonymous visitor is sent to the login page"

    if kind == PLATFORM_ADMIN:
        finish(response_a)  # a streamed file's handle (an operation's download)
        if entry.tenant_scoped:
            response_b = _ask(client, entry, cpts_b, objs_b, user)
            finish(response_b)
            expected_ok = kind in entry.allowed
            assert (response_b.status_code in entry.ok_statuses) is expected_ok, entry.name
        return

    pages = [response_text(response_a)]
    if entry.tenant_scoped:
        response_b = _ask(client, entry, cpts_b, objs_b, user)
        assert _is_refused(response_b), (entry.name, kind, response_b.status_code)
        pages.append(response_text(response_b))
    for page in pages:
        for secret in secrets_of_b:
            assert secret not in page, (entry.name, kind, secret)
