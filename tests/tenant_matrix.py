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
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
