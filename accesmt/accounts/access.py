"""The only way views reach tenant data. Every view of every app goes through these helpers.

- `Model.objects.for_user(user, roles)` (TenantQuerySet) scopes any list to the CPTS where the
  user holds one of `roles`;
- `access_cpts(request, cpts_slug, roles)` resolves the CPTS of a `espace/<cpts_slug>/…` URL;
- `access_record(request, queryset, pk_or_lookup, roles)` fetches one personal record and writes
  the "read" audit line: the one helper for opening a patient file;
- `@cpts_role_required(*roles)` wraps a view taking `cpts_slug`.

Policy (docs/decisions/0001-tenancy-and-audit.md): an unknown CPTS, a CPTS where the user has no
such role and a record outside the user's scope all answer 404, never 403, so that the existence
of another tenant's data never leaks. Anonymous users raise `LoginRequired`, which
`accesmt.core.middleware.LoginRequiredMiddleware` turns into a redirect to the login page.
"""

from collections.abc import Iterable
from functools import wraps
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.http import Http404

from accesmt.common.errors import LoginRequired

from .models import PLATFORM_ADMIN, AuditAction, Membership, Role
from .querysets import TenantQuerySet, scope_to_memberships
from .services import audit_record

__all__ = [
    "ALL_ROLES",
    "PLATFORM_ADMIN",
    "LoginRequired",
    "TenantQuerySet",
    "access_cpts",
    "access_record",
    "cpts_role_required",
    "platform_admin_required",
    "scope_to_memberships",
]

ALL_ROLES: tuple[str, ...] = tuple(Role.values)
NOT_FOUND = "Page introuvable."


def _require_login(request) -> None:
    user = request.user
    if not user.is_authenticated or not user.is_active:
        raise LoginRequired


def access_cpts(request, cpts_slug: str, roles: Iterable[str]) -> tuple[Any, Membership | None]:
    """The CPTS `cpts_slug` and the user's membership in it (None for a platform admin).

    Raises LoginRequired for an anonymous user and Http404 for an unknown or inactive CPTS or
    one where the user has no active membership with one of `roles`."""
    from accesmt.territory.models import CPTS

    _require_login(request)
    user = request.user
    if user.is_platform_admin:
        cpts = CPTS.objects.filter(slug=cpts_slug).first()
        if cpts is None:
            raise Http404(NOT_FOUND)
        return cpts, None
    membership = (
        Membership.objects.select_related("cpts")
        .filter(
            user=user,
            is_active=True,
            role__in=list(roles),
            cpts__slug=cpts_slug,
            cpts__is_active=True,
        )
        .first()
    )
    if membership is None:
        raise Http404(NOT_FOUND)
    return membership.cpts, membership


def _tenant_of(obj: models.Model, tenant_field: str):
    value: Any = obj
    for part in tenant_field.split("__"):
        value = getattr(value, part)
        if value is None:
            return None
    return value


def access_record(
    request,
    queryset: TenantQuerySet,
    pk_or_lookup: Any,
    roles: Iterable[str],
    *,
    action: str = AuditAction.READ,
):
    """One record of `queryset` the user may see with one of `roles`, audited ("read" unless
    `action` says otherwise, e.g. "export"). `pk_or_lookup` is a primary key or a dict of
    lookups. Raises LoginRequired when anonymous, Http404 when out of scope or missing.

    Narrow `queryset` to the CPTS of the URL first, e.g.
    `access_record(request, Request.objects.filter(cpts=cpts), pk, roles)`."""
    _require_login(request)
    if not isinstance(queryset, TenantQuerySet):
        raise TypeError("access_record attend un queryset TenantQuerySet (avec for_user).")
    lookup = pk_or_lookup if isinstance(pk_or_lookup, dict) else {"pk": pk_or_lookup}
    try:
        obj = queryset.for_user(request.user, roles).get(**lookup)
    except (queryset.model.DoesNotExist, ValidationError, ValueError, TypeError) as exc:
        raise Http404(NOT_FOUND) from exc
    cpts = _tenant_of(obj, queryset.tenant_field)
    audit_record(actor=request.user, action=action, obj=obj, cpts=cpts, http_request=request)
    return obj


def cpts_role_required(*roles: str):
    """Decorate a view taking `cpts_slug`: sets `request.cpts` and `request.membership`
    (None for a platform admin) or answers 404 / redirects to the login page."""
    allowed = roles or ALL_ROLES

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, cpts_slug: str, **kwargs):
            request.cpts, request.membership = access_cpts(request, cpts_slug, allowed)
            return view(request, *args, cpts_slug=cpts_slug, **kwargs)

        return wrapped

    return decorator


def platform_admin_required(view):
    """Decorate a view of `espace/plateforme/…`: platform admins only (404 for anyone else,
    the login page for an anonymous visitor)."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        _require_login(request)
        if not request.user.is_platform_admin:
            raise Http404(NOT_FOUND)
        return view(request, *args, **kwargs)

    return wrapped
