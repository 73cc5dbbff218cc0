"""The scoping helpers every view uses: for_user, access_cpts, access_record."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404
from django.test import RequestFactory

from accesmt.accounts.access import LoginRequired, access_cpts, access_record
from accesmt.accounts.models import AuditLog, Membership, Role
from tests.accounts.factories import MembershipFactory, UserFactory
from tests.tenant_matrix import INACTIVE_MEMBER, MEMBER_ROLES, PLATFORM_ADMIN
from tests.territory.factories import CPTSFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def tenants():
    """Two CPTS, each with one member per role, one inactive member and one record to read."""
    a, b = CPTSFactory(slug="alpha"), CPTSFactory(slug="beta")
    users = {}
    for role in MEMBER_ROLES:
        users[role] = MembershipFactory(cpts=a, role=role).user
        MembershipFactory(cpts=b, role=role)
    users[INACTIVE_MEMBER] = MembershipFactory(cpts=a, role=Role.COORDINATOR, is_active=False).user
    users[PLATFORM_ADMIN] = UserFactory(platform_admin=True)
    return a, b, users


def _request(user, remote_addr="192.0.2.10"):
    request = RequestFactory().get("/", REMOTE_ADDR=remote_addr)
    request.user = user or AnonymousUser()
    return request


@pytest.mark.parametrize("kind", [*MEMBER_ROLES, INACTIVE_MEMBER, PLATFORM_ADMIN, "anonymous"])
@pytest.mark.parametrize("roles", [None, (Role.COORDINATOR,), (Role.REFERRER, Role.GP)])
def test_for_user_for_every_role_and_tenant(tenants, kind, roles):
    a, b, users = tenants
    user = users.get(kind) or AnonymousUser()
    seen = set(Membership.objects.for_user(user, roles).values_list("cpts__slug", flat=True))
    if kind == PLATFORM_ADMIN:
        expected = {"alpha", "beta"}
    elif kind in MEMBER_ROLES and (roles is None or kind in roles):
        expected = {"alpha"}
    else:
        expected = set()
    assert seen == expected


def test_for_user_ignores_inactive_users_and_inactive_cpts(tenants):
    a, _b, users = tenants
    coordinator = users[Role.COORDINATOR]
    assert Membership.objects.for_user(coordinator).exists()
    a.is_active = False
    a.save()
    assert not Membership.objects.for_user(coordinator).exists()
    a.is_active = True
    a.save()
    coordinator.is_active = False
    coordinator.save()
    assert not Membership.objects.for_user(coordinator).exists()


def test_for_user_with_no_role_allowed_sees_nothing(tenants):
    _a, _b, users = tenants
    assert not Membership.objects.for_user(users[Role.COORDINATOR], roles=()).exists()


def test_access_cpts_returns_the_cpts_and_membership(tenants):
    a, _b, users = tenants
    cpts, membership = access_cpts(_request(users[Role.GP]), "alpha", [Role.GP, Role.REFERRER])
    assert cpts == a
    assert membership.role == Role.GP


def test_access_cpts_gives_a_platform_admin_every_cpts_without_membership(tenants):
    _a, b, users = tenants
    assert access_cpts(_request(users[PLATFORM_ADMIN]), "beta", [Role.COORDINATOR]) == (b, None)


@pytest.mark.parametrize(
    ("kind", "slug", "roles"),
    [
        (Role.COORDINATOR, "beta", [Role.COORDINATOR]),  # another tenant
        (Role.COORDINATOR, "nowhere", [Role.COORDINATOR]),  # unknown CPTS
        (Role.OBSERVER, "alpha", [Role.COORDINATOR]),  # wrong role
        (INACTIVE_MEMBER, "alpha", [Role.COORDINATOR]),  # inactive membership
        (PLATFORM_ADMIN, "nowhere", [Role.COORDINATOR]),
    ],
)
def test_access_cpts_answers_404(tenants, kind, slug, roles):
    _a, _b, users = tenants
    with pytest.raises(Http404):
        access_cpts(_request(users[kind]), slug, roles)


def test_access_cpts_refuses_a_deactivated_cpts_to_its_members(tenants):
    a, _b, users = tenants
    a.is_active = False
    a.save()
    with pytest.raises(Http404):
        access_cpts(_request(users[Role.COORDINATOR]), "alpha", [Role.COORDINATOR])


def test_access_cpts_asks_anonymous_visitors_to_log_in(tenants):
    with pytest.raises(LoginRequired):
        access_cpts(_request(None), "alpha", [Role.COORDINATOR])


def test_access_record_reads_and_audits(tenants):
    a, _b, users = tenants
    record = Membership.objects.get(cpts=a, role=Role.GP)
    coordinator = users[Role.COORDINATOR]
    obj = access_record(
        _request(coordinator), Membership.objects.all(), record.pk, [Role.COORDINATOR]
    )
    assert obj == record
    line = AuditLog.objects.get()
    assert (line.action, line.object_type, line.object_id) == (
        "read",
        "accounts.membership",
        str(record.pk),
    )
    assert (line.actor, line.actor_role, line.cpts) == (coordinator, "coordinator", a)
    assert line.ip_address == "192.0.2.10"


def test_access_record_accepts_a_lookup(tenants):
    a, _b, users = tenants
    record = Membership.objects.get(cpts=a, role=Role.GP)
    obj = access_record(
        _request(users[PLATFORM_ADMIN]),
        Membership.objects.all(),
        {"cpts__slug": "alpha", "role": Role.GP},
        [Role.COORDINATOR],
    )
    assert obj == record
    assert AuditLog.objects.get().actor_role == "platform_admin"


@pytest.mark.parametrize("kind", [Role.COORDINATOR, Role.OBSERVER, INACTIVE_MEMBER])
def test_access_record_hides_other_tenants_and_roles(tenants, kind):
    _a, b, users = tenants
    other = Membership.objects.get(cpts=b, role=Role.GP)
    with pytest.raises(Http404):
        access_record(_request(users[kind]), Membership.objects.all(), other.pk, [Role.COORDINATOR])
    assert not AuditLog.objects.exists()


@pytest.mark.parametrize("pk", [999999, "not-a-number"])
def test_access_record_404_on_missing_or_malformed_keys(tenants, pk):
    _a, _b, users = tenants
    with pytest.raises(Http404):
        access_record(
            _request(users[Role.COORDINATOR]), Membership.objects.all(), pk, [Role.COORDINATOR]
        )


def test_access_record_asks_anonymous_visitors_to_log_in(tenants):
    a, _b, _users = tenants
    record = Membership.objects.filter(cpts=a).first()
    with pytest.raises(LoginRequired):
        access_record(_request(None), Membership.objects.all(), record.pk, [Role.COORDINATOR])


def test_access_record_refuses_a_queryset_without_tenant_scoping(tenants):
    _a, _b, users = tenants
    with pytest.raises(TypeError):
        access_record(_request(users[PLATFORM_ADMIN]), AuditLog.objects.all(), 1, [])
