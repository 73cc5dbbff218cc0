"""The professionals' space pages in the tenant matrix (tests/tenant_matrix.py)."""

from django.urls import reverse

from tests.tenant_matrix import COORDINATION, EVERY_MEMBER, LOGGED_IN, TenantURL, register

register(
    TenantURL(
        name="core:espace",
        url=lambda cpts, objs: reverse("core:espace"),
        allowed=LOGGED_IN,
        tenant_scoped=False,
    )
)
register(
    TenantURL(
        name="core:cpts_home",
        url=lambda cpts, objs: reverse("core:cpts_home", kwargs={"cpts_slug": cpts.slug}),
        allowed=EVERY_MEMBER,
    )
)


def _member_of(cpts) -> dict:
    from tests.accounts.factories import MembershipFactory

    member = MembershipFactory(cpts=cpts, role="gp", user__last_name=f"Témoin-{cpts.slug}")
    return {"member": member, "secrets": [member.user.last_name, member.user.email]}


register(
    TenantURL(
        name="core:cpts_members",
        url=lambda cpts, objs: reverse("core:cpts_members", kwargs={"cpts_slug": cpts.slug}),
        allowed=COORDINATION,
        setup=_member_of,
    )
)
