"""The professionals' space: the user's CPTS (`espace`), a CPTS home with the figures of its
territory and of the orientation flow (`cpts_home`: `indicators/home.py`, counts of 1 to 4 masked
outside the coordination, links to the indicator pages for the roles that see them). The members
of a CPTS are managed by the accounts app (`accounts/views_members.py`)."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils import timezone

from accesmt.accounts.access import ALL_ROLES, cpts_role_required
from accesmt.accounts.models import Role
from accesmt.intake.selectors import call_backs_due_count
from accesmt.notifications.selectors import counts_for_coordination

from . import catalogue, selectors
from .access import REPORTING_ROLES
from .indicators.home import home_shown
from .tables import Scope


@login_required
def espace(request):
    """The logged-in user's home: their CPTS and their role in each."""
    return render(
        request, "reporting/espace.html", {"spaces": selectors.spaces_for_user(request.user)}
    )


@cpts_role_required(*ALL_ROLES)
def cpts_home(request, cpts_slug: str):
    """A CPTS home for its members: aggregates of the territory; observers see nothing more."""
    membership = request.membership
    can_manage = membership is None or membership.role == Role.COORDINATOR
    sees_indicators = membership is None or membership.role in REPORTING_ROLES
    # A mairie sees its communes' figures only, on the indicator pages: not the CPTS's.
    whole_cpts = membership is None or membership.role != Role.MAIRIE
    return render(
        request,
        "reporting/cpts_home.html",
        {
            "cpts": request.cpts,
            "membership": membership,
            "figures": selectors.territory_figures(request.cpts),
            "indicators": (
                home_shown(Scope(request.cpts, masked=not can_manage)) if whole_cpts else None
            ),
            "can_manage": can_manage,
            "indicator_sections": [
                (catalogue.SECTION_SLUGS[code], title) for code, title in catalogue.SECTIONS.items()
            ]
            if sees_indicators
            else [],
            "outbox_counts": counts_for_coordination(request.cpts) if can_manage else None,
            "call_backs_due": (
                call_backs_due_count(cpts=request.cpts, today=timezone.localdate())
                if can_manage
                else None
            ),
        },
    )
