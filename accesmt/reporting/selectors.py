"""Reads for the professionals' space (espace) and the CPTS home's figures."""

from django.db.models import Count, Sum

from accesmt.accounts.access import PLATFORM_ADMIN
from accesmt.accounts.models import Membership
from accesmt.territory.models import CPTS


def spaces_for_user(user) -> list[dict]:
    """The CPTS the user may enter, each with the user's role there (sorted by name)."""
    if user.is_platform_admin:
        return [
            {"cpts": cpts, "role": PLATFORM_ADMIN, "role_label": "administrateur de la plateforme"}
            for cpts in CPTS.objects.order_by("name")
        ]
    memberships = (
        Membership.objects.filter(user=user, is_active=True, cpts__is_active=True)
        .select_related("cpts")
        .order_by("cpts__name")
    )
    return [
        {
            "cpts": m.cpts,
            "role": m.role,
            "role_label": m.get_role_display(),
            "profession": m.get_profession_display() if m.profession else "",
        }
        for m in memberships
    ]


def territory_figures(cpts: CPTS) -> dict:
    """Number of communes and population of a CPTS territory (aggregates only)."""
    figures = cpts.territory.aggregate(communes=Count("pk"), population=Sum("commune__population"))
    return {"communes": figures["communes"], "population": figures["population"] or 0}
