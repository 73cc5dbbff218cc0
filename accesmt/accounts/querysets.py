"""Tenant scoping of querysets. Import it from `accesmt.accounts.access` in other apps."""

from collections.abc import Iterable

from django.db import models


class TenantQuerySet(models.QuerySet):
    """A queryset whose rows belong to one CPTS, reached through `tenant_field`.

    Subclass it and set `tenant_field` when the CPTS is not a direct `cpts` field, e.g.
    `tenant_field = "request__cpts"` for the members of a request.
    """

    tenant_field = "cpts"

    def for_user(self, user, roles: Iterable[str] | None = None):
        """Rows the user may see: none when anonymous or inactive, all for a platform admin,
        otherwise the rows of the active CPTS where the user has an active membership with one
        of `roles` (any role when `roles` is None)."""
        return scope_to_memberships(
            self, user, roles, lambda cpts: self.filter(**{f"{self.tenant_field}__in": cpts})
        )


def scope_to_memberships(queryset, user, roles: Iterable[str] | None, by_cpts):
    """The tenancy rule written once: `queryset.none()` when the user is anonymous or inactive,
    `queryset.all()` for a platform admin, otherwise `by_cpts(cpts)` where `cpts` is a subquery
    of the active CPTS where the user has an active membership with one of `roles` (any role
    when `roles` is None)."""
    from .models import Membership

    if user is None or not user.is_authenticated or not user.is_active:
        return queryset.none()
    if user.is_platform_admin:
        return queryset.all()
    memberships = Membership.objects.filter(user=user, is_active=True, cpts__is_active=True)
    if roles is not None:
        memberships = memberships.filter(role__in=list(roles))
    return by_cpts(memberships.values("cpts"))
