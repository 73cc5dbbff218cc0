"""Every route of the URL resolver has its expected answer written (tests/tenant_matrix.py):
a staff page in the role × tenant matrix, or a declared public, login-only, signed-link, API or
admin route; then the public, login-only and signed-link routes are asked here (the matrix by
tests/accounts/test_tenant_matrix.py, the API by tests/api/test_api_matrix.py, the admin by
tests/accounts/test_admin_access.py)."""

import re
from collections import Counter

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.accounts.factories import MembershipFactory
from tests.tenant_matrix import (
    ADMIN,
    LOGIN_ONLY,
    PUBLIC,
    ROUTES,
    SIGNED_LINK,
    declared_routes,
    response_text,
)
from tests.territory.factories import CPTSFactory

DECLARED = declared_routes()
LOGIN_URL = reverse("accounts:login")
# The admin site's own pages and those of every ModelAdmin: tests/accounts/test_admin_access.py
# walks admin.site._registry. A custom admin page (get_urls) must be declared with admin_route.
STANDARD_ADMIN = re.compile(
    r"^admin:(index|login|logout|password_change|password_change_done|jsi18n|view_on_site"
    r"|app_list|autocomplete|\w+_(changelist|add|history|delete|change))$"
)


def _walk(resolver: URLResolver, prefix: str = "", namespace: str = ""):
    for item in resolver.url_patterns:
        if isinstance(item, URLResolver):
            inner = ":".join(filter(None, (namespace, item.namespace)))
            yield from _walk(item, prefix + str(item.pattern), inner)
        elif isinstance(item, URLPattern):
            name = f"{namespace}:{item.name}" if namespace and item.name else item.name
            yield name or prefix + str(item.pattern), prefix + str(item.pattern)


def all_routes() -> dict[str, str]:
    """Every route: its name (with namespaces) or, when unnamed, its pattern -> its pattern."""
    return dict(_walk(get_resolver()))


def kind_of(name: str, pattern: str) -> str | None:
    if name in DECLARED:
        return DECLARED[name]
    if pattern.startswith("admin/") and (STANDARD_ADMIN.match(name) or name == pattern):
        return ADMIN
    return None


def test_every_route_has_its_expected_answer_written():
    missing = [
        f"  {name}  ({pattern})"
        for name, pattern in sorted(all_routes().items())
        if kind_of(name, pattern) is None
    ]
    assert not missing, (
        "Routes sans réponse attendue. Déclarez chacune dans tests/<app>/tenant_urls.py : "
        "register(TenantURL(...)) / register_page(...) pour une page d'espace (rôle × CPTS), "
        "sinon public(...), login_only(...), signed_link(..., make=...), api(..., call=...) "
        "ou admin_route(...) (voir tests/tenant_matrix.py) :\n" + "\n".join(missing)
    )


def test_no_declaration_names_a_route_that_is_gone():
    assert set(DECLARED) - set(all_routes()) == set()


def test_the_walk_sees_every_kind_of_route():
    """The count by kind, printed with -s; the walk reaches the includes (API, admin)."""
    routes = all_routes()
    kinds = Counter(kind_of(name, pattern) for name, pattern in routes.items())
    print(f"\n{len(routes)} routes: {dict(sorted(kinds.items(), key=str))}")
    assert {"api:request_status", "admin:index", "intake:followup"} <= set(routes)
    assert set(kinds) == {"matrix", "public", "login_only", "signed_link", "api", "admin"}


# --- public and login-only pages ----------------------------------------------------------------


def _url(route, cpts) -> str:
    if route.url is not None:
        return route.url(cpts)
    try:
        return reverse(route.name, kwargs={"cpts_slug": cpts.slug})
    except Exception:  # noqa: BLE001  (NoReverseMatch: the route takes no slug)
        return reverse(route.name)


def _of_kind(kind):
    return [route for route in ROUTES.values() if route.kind == kind]


@pytest.fixture
def cpts(db):
    return CPTSFactory(name="CPTS Alpha", slug="cpts-alpha")


@pytest.mark.parametrize("route", _of_kind(PUBLIC), ids=lambda route: route.name)
def test_public_route_answers_an_anonymous_visitor(client, cpts, route):
    response = client.get(_url(route, cpts))
    assert response.status_code in route.statuses, (route.name, response.status_code)


@pytest.mark.parametrize("route", _of_kind(LOGIN_ONLY), ids=lambda route: route.name)
def test_login_only_route_sends_an_anonymous_visitor_to_login(client, cpts, route):
    url = _url(route, cpts)
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith(LOGIN_URL)
    other = CPTSFactory(name="CPTS Bêta-Confidentielle")
    client.force_login(MembershipFactory(cpts=cpts, role="referrer").user)
    response = client.get(url)
    assert response.status_code == 200, route.name
    assert other.name not in response.content.decode()


# --- signed links ---------------------------------------------------------------------------------


def forge(url: str) -> str:
    """The same link with one character of its token changed (the longest path segment, near
    its middle, where every bit of a base64 signature counts)."""
    segments = url.split("/")
    index = max(range(len(segments)), key=lambda i: len(segments[i]))
    token = segments[index]
    at = len(token) // 2
    while not token[at].isalnum():
        at += 1
    replacement = "B" if token[at] == "A" else "A"
    segments[index] = token[:at] + replacement + token[at + 1 :]
    return "/".join(segments)


def test_forge_changes_the_token_only():
    assert forge("/suivi/abc:DEFGH:xyz/choix/") == "/suivi/abc:DEAGH:xyz/choix/"


@pytest.mark.parametrize("route", _of_kind(SIGNED_LINK), ids=lambda route: route.name)
def test_signed_link_opens_its_own_household_only_and_refuses_a_forged_token(client, cpts, route):
    other = CPTSFactory(name="CPTS Bêta-Confidentielle", slug="cpts-beta")
    mine, theirs = route.make(cpts), route.make(other)
    valid = client.get(mine["url"])
    assert valid.status_code in route.statuses, (route.name, valid.status_code)
    forged = client.get(forge(mine["url"]))
    assert 400 <= forged.status_code < 500, (route.name, forged.status_code)
    page = forged.content.decode()
    assert "lien" in page.lower() and '<html lang="fr"' in page, route.name
    for secret in (*mine["secrets"], *theirs["secrets"], other.name):
        assert secret not in page, (route.name, secret)
    for secret in (*theirs["secrets"], other.name):
        assert secret not in response_text(valid), (route.name, secret)
