"""Who sees which figures. The coordination (and the platform admin) sees every count as it is;
an observer (bureau, CPAM, ARS) sees every aggregate of its CPTS with small counts masked.
`REPORTING_ROLES` are the roles let into the indicator pages; `scope_for` turns the
membership of the request into the `Scope` every indicator is computed over."""

from __future__ import annotations

from accesmt.accounts.models import Role

from .tables import Scope

REPORTING_ROLES = (Role.COORDINATOR, Role.OBSERVER)
COORDINATION = (Role.COORDINATOR,)


def sees_unmasked(membership) -> bool:
    """The coordination and platform admins (membership None) see counts from 1 to 4."""
    return membership is None or membership.role in COORDINATION


def scope_for(http_request) -> Scope:
    """The scope of the CPTS of the URL for the user (`cpts_role_required` has run)."""
    membership = http_request.membership
    return Scope(cpts=http_request.cpts, masked=not sees_unmasked(membership))
