"""Registry of tenant-scoped URLs, checked for every role against every tenant by
tests/accounts/test_tenant_matrix.py.

Every app registers its `espace/<cpts_slug>/…` views in `tests/<app>/tenant_urls.py`:

    from tests.tenant_matrix import COORDINATION, TenantURL, register

    def _make_request(cpts):
        return {"request": RequestFactory(cpts=cpts), "secrets": ["Dupont-Témoin"]}

    register(TenantURL(
        name="intake:request_detail",
        url=lambda cpts, objs: reverse("intake:request_detail",
                                       kwargs={"cpts_slug": cpts.slug, "pk": objs["request"].pk}),
        allowed=COORDINATION,
        setup=_make_request,
    ))

For each entry the matrix builds two CPTS, A and B, calls `setup(cpts)` for both (the
returned dict is passed to `url` and `data`) and asks A's and B's URL as every kind of user:
the members of A (one per role), a user whose membership in A is inactive, a platform admin
and an anonymous visitor. A's URL must answer one of `ok_statuses` exactly to the kinds in
`allowed`, and 404 or a redirect to the login page to the others; B's URL must be refused to
every user of A. Strings listed under "secrets" by B's setup, and B's name, must never appear
in a page shown to a user of A.
"""

import importlib
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl
from pypdf import PdfReader

ANONYMOUS = "anonymous"
INACTIVE_MEMBER = "inactive_member"
PLATFORM_ADMIN = "platform_admin"
COORDINATOR = "coordinator"
REFERRER = "referrer"
GP = "gp"
CPAM_MEDIATOR = "cpam_mediator"
# Refers patients like a professional; refused everywhere else but the CPTS home and the
# professionals' GP list (issue 12).
CPAM_AGENT = "cpam_agent"
OBSERVER = "observer"
MAIRIE = "mairie"  # aggregates of its own communes only: 404 on everything else

MEMBER_ROLES = (COORDINATOR, REFERRER, GP, CPAM_MEDIATOR, CPAM_AGENT, OBSERVER, MAIRIE)
USER_KINDS = (*MEMBER_ROLES, INACTIVE_MEMBER, PLATFORM_ADMIN, ANONYMOUS)

# Handy sets for `allowed` (a platform admin sees every CPTS).
EVERY_MEMBER = frozenset({*MEMBER_ROLES, PLATFORM_ADMIN})
COORDINATION = frozenset({COORDINATOR, PLATFORM_ADMIN})
LOGGED_IN = frozenset({*MEMBER_ROLES, INACTIVE_MEMBER, PLATFORM_ADMIN})


@dataclass(frozen=True)
class TenantURL:
    name: str
    url: Callable[[Any, dict], str]
    allowed: frozenset[str]
    method: str = "get"
    setup: Callable[[Any], dict] | None = None
    data: Callable[[Any, dict], dict] | None = None
    ok_statuses: tuple[int, ...] = (200,)
    # False for pages outside `espace/<cpts_slug>/` (e.g. /espace/): there is no "B URL", only
    # the check that the page of an allowed user never shows B's name or secrets.
    tenant_scoped: bool = True
    # The resolver's name of the route, when `name` is not it followed by " (…)".
    route: str = ""


REGISTRY: dict[str, TenantURL] = {}


def register(entry: TenantURL) -> TenantURL:
    if entry.name in REGISTRY:
        raise ValueError(f"URL déjà enregistrée dans la matrice : {entry.name}")
    unknown = set(entry.allowed) - set(USER_KINDS)
    if unknown:
        raise ValueError(f"{entry.name} : sortes d'utilisateurs inconnues {sorted(unknown)}")
    REGISTRY[entry.name] = entry
    return entry


def register_page(
    name: str, *, url_name: str | None = None, pk: str | None = None, **fields
) -> TenantURL:
    """Register the page `url_name` (default: `name`) of `espace/<cpts_slug>/`; with `pk`, the
    URL also takes the pk of objs[pk] (an object the setup built)."""

    def url(cpts, objs: dict) -> str:
        from django.urls import reverse

        kwargs = {"cpts_slug": cpts.slug}
        if pk is not None:
            kwargs["pk"] = objs[pk].pk
        return reverse(url_name or name, kwargs=kwargs)

    return register(TenantURL(name=name, url=url, **fields))


def collect() -> list[TenantURL]:
    """Import every tests/<app>/tenant_urls.py, then return the registry sorted by name."""
    tests_dir = Path(__file__).resolve().parent
    for module_path in sorted(tests_dir.glob("*/tenant_urls.py")):
        importlib.import_module(f"tests.{module_path.parent.name}.tenant_urls")
    return [REGISTRY[name] for name in sorted(REGISTRY)]


# --- Every route declared (tests/test_every_route.py) -------------------------------------------
#
# The test walks the URL resolver and fails for each route that is neither in the matrix above
# nor declared here with what kind of page it is. Declare a route in tests/<app>/tenant_urls.py:
#
#     public("intake:register")                       # no login: anyone gets 200
#     login_only("accounts:password_change")          # any account; anonymous -> login page
#     signed_link("intake:followup", make=_followup)  # _followup(cpts) -> {"url", "secrets"}
#     api("api:request_status", call=ApiCall(...))    # checked by tests/api/test_api_matrix.py
#     admin_route("admin:directory_practitioner_import")  # a custom admin page
#
# (A staff page of `espace/…` goes in the matrix: register / register_page, role × tenant.)

PUBLIC = "public"
LOGIN_ONLY = "login_only"
SIGNED_LINK = "signed_link"
API = "api"
ADMIN = "admin"
MATRIX = "matrix"


@dataclass(frozen=True)
class ApiCall:
    """One API operation asked with the key of CPTS A, of CPTS B and with no key. `path` and
    `body` receive the objects A's setup built; B's key must get `other_status` and never A's
    secrets."""

    method: str
    path: Callable[[dict], str]
    ok_status: int
    other_status: int
    setup: Callable[[Any], dict] | None = None
    body: Callable[[dict], dict] | None = None


@dataclass(frozen=True)
class Route:
    name: str
    kind: str
    # PUBLIC, LOGIN_ONLY: the URL (default: reverse(name) with the CPTS's slug when it takes one)
    url: Callable[[Any], str] | None = None
    statuses: tuple[int, ...] = (200,)
    # SIGNED_LINK: make(cpts) -> {"url": a valid link, "secrets": what it shows of its household}
    make: Callable[[Any], dict] | None = None
    call: ApiCall | None = None


ROUTES: dict[str, Route] = {}


def _declare(route: Route) -> Route:
    if route.name in ROUTES:
        raise ValueError(f"Route déjà déclarée : {route.name}")
    ROUTES[route.name] = route
    return route


def public(*names: str, url=None, statuses=(200,)) -> None:
    for name in names:
        _declare(Route(name, PUBLIC, url=url, statuses=statuses))


def login_only(*names: str, url=None) -> None:
    for name in names:
        _declare(Route(name, LOGIN_ONLY, url=url))


def signed_link(name: str, *, make: Callable[[Any], dict], statuses=(200,)) -> None:
    _declare(Route(name, SIGNED_LINK, make=make, statuses=statuses))


def api(name: str, *, call: ApiCall | None = None) -> None:
    """An API operation (`call` given) or a page of the API's documentation (public)."""
    _declare(Route(name, API if call else PUBLIC, call=call))


def admin_route(*names: str) -> None:
    for name in names:
        _declare(Route(name, ADMIN))


def route_of(entry: TenantURL) -> str:
    """The resolver's name of a matrix entry ("members:edit (POST)" -> "members:edit")."""
    return entry.route or entry.name.split(" (")[0]


def declared_routes() -> dict[str, str]:
    """Every declared route name -> its kind (the matrix's routes as MATRIX)."""
    kinds = {route_of(entry): MATRIX for entry in collect()}
    kinds.update({name: route.kind for name, route in ROUTES.items()})
    return kinds


def finish(response) -> None:
    """Read a streamed response to its end (which closes its file) when nothing else will."""
    if response.streaming:
        for _chunk in response.streaming_content:
            pass


def response_text(response) -> str:
    """The text a user would read: the HTML or CSV, the text of a PDF's pages, the cells of an
    XLSX workbook (a streamed file, such as an operation's download, read whole)."""
    # a streamed file (an operation's download) is read whole, which closes it (the test
    # client's wrapper; an explicit close() would close the database connection on PostgreSQL)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    kind = response.get("Content-Type", "")
    if kind.startswith("application/pdf"):
        reader = PdfReader(io.BytesIO(body))
        return "\n".join(page.extract_text() for page in reader.pages)
    if "spreadsheetml" in kind:
        book = openpyxl.load_workbook(io.BytesIO(body), read_only=True)
        return "\n".join(
            str(value)
            for sheet in book.worksheets
            for row in sheet.iter_rows(values_only=True)
            for value in row
            if value is not None
        )
    return body.decode()
