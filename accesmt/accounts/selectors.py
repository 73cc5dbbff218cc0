"""Reads of the accounts app: the members of a CPTS."""

from django.db.models import Prefetch

from accesmt.territory.models import Commune

from .models import Membership, Role

MEMBER_MANAGERS: tuple[str, ...] = (Role.COORDINATOR,)


def members_of(cpts, user):
    """Members of `cpts` as seen by `user` (its coordinators and platform admins only), with
    their user and a mairie's communes (no query per row)."""
    return (
        Membership.objects.for_user(user, roles=MEMBER_MANAGERS)
        .filter(cpts=cpts)
        .select_related("user")
        .prefetch_related(Prefetch("communes", queryset=Commune.objects.order_by("name")))
        .order_by("-is_active", "role", "user__last_name", "user__email", "pk")
    )


def member_of(cpts, user, pk):
    """One membership of `cpts` that `user` may manage, or None."""
    return members_of(cpts, user).filter(pk=pk).first()
