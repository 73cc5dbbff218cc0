"""The professionals' space pages in the tenant matrix (tests/tenant_matrix.py)."""

from django.urls import reverse

from tests.tenant_matrix import (
    COORDINATION,
    EVERY_MEMBER,
    LOGGED_IN,
    TenantURL,
    register,
    register_page,
)

register(
    TenantURL(
        name="reporting:espace",
        url=lambda cpts, objs: reverse("reporting:espace"),
        allowed=LOGGED_IN,
        tenant_scoped=False,
    )
)
register_page(
    "reporting:cpts_home",
    allowed=EVERY_MEMBER,
)


def _member_of(cpts) -> dict:
    from tests.accounts.factories import MembershipFactory

    member = MembershipFactory(cpts=cpts, role="gp", user__last_name=f"Témoin-{cpts.slug}")
    return {"member": member, "secrets": [member.user.last_name, member.user.email]}


register_page(
    "reporting:cpts_members",
    allowed=COORDINATION,
    setup=_member_of,
)
