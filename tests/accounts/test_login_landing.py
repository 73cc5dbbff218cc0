"""Where a login lands: the page asked for (`next`) first; else the home of the user's only
CPTS; else (several CPTS, none, platform admin) the espace page that lists them."""

import pytest
from django.urls import reverse

from tests.accounts.factories import PASSWORD, MembershipFactory, UserFactory
from tests.territory.factories import CPTSFactory

pytestmark = pytest.mark.django_db
LOGIN = reverse("accounts:login")


def _login(client, user, **query):
    url = f"{LOGIN}?next={query['next']}" if "next" in query else LOGIN
    return client.post(url, {"username": user.email, "password": PASSWORD})


def _home(cpts):
    return reverse("reporting:cpts_home", kwargs={"cpts_slug": cpts.slug})


def test_one_cpts_lands_on_its_home(client):
    membership = MembershipFactory(role="coordinator")
    response = _login(client, membership.user)
    assert response.status_code == 302
    assert response["Location"] == _home(membership.cpts)
    assert client.get(response["Location"]).status_code == 200


def test_an_inactive_membership_does_not_count(client):
    active = MembershipFactory(role="referrer")
    MembershipFactory(user=active.user, cpts=CPTSFactory(), is_active=False)
    assert _login(client, active.user)["Location"] == _home(active.cpts)


def test_several_cpts_land_on_the_espace_page(client):
    membership = MembershipFactory(role="coordinator")
    MembershipFactory(user=membership.user, cpts=CPTSFactory(), role="gp")
    assert _login(client, membership.user)["Location"] == reverse("reporting:espace")


def test_no_cpts_lands_on_the_espace_page(client):
    user = UserFactory()
    assert _login(client, user)["Location"] == reverse("reporting:espace")


def test_next_wins(client):
    membership = MembershipFactory(role="coordinator")
    queue = reverse("intake_staff:queue", kwargs={"cpts_slug": membership.cpts.slug})
    assert _login(client, membership.user, next=queue)["Location"] == queue
