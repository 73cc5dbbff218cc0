"""Who sees which figures. The coordination (and the platform admin) sees every count as it is;
an observer (bureau, CPAM, ARS) sees every aggregate of its CPTS with small counts masked; a
mairie sees the aggregates of its own communes only (`Membership.communes`), always masked.
`REPORTING_ROLES` are the roles let into the indicator pages; `scope_for` turns the
membership of the request into the `Scope` every indicator is computed over."""

from __future__ import annotations

from accesmt.accounts.models import Role

from .tables import Scope

REPORTING_ROLES = (Role.COORDINATOR, Role.OBSERVER, Role.MAIRIE)
COORDINATION = (Role.COORDINATOR,)


def sees_unmasked(membership) -> bool:
    """The coordination and platform admins (membership None) see counts from 1 to 4."""
    return membership is None or membership.role in COORDINATION


def communes_of(membership) -> tuple[str, ...] | None:
    """The INSEE codes a membership is limited to (a mairie's), None for the whole territory.
    A mairie without communes sees nothing (an empty tuple), never the whole territory."""
    if membership is None or membership.role != Role.MAIRIE:
        return None
    return tuple(sorted(membership.communes.values_list("pk", flat=True)))


def scope_for(http_request) -> Scope:
    """The scope of the CPTS of the URL for the user (`cpts_role_required` has run)."""
    membership = http_request.membership
    return Scope(
        cpts=http_request.cpts,
        communes=communes_of(membership),
        masked=not sees_unmasked(membership),
    )


def region_scope() -> Scope:
    """Every CPTS of the platform, for the platform admin: counts as they are."""
    return Scope(cpts=None, masked=False)
