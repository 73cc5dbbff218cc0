"""The members pages (accounts/views_members.py) in the tenant matrix (tests/tenant_matrix.py):
coordinators of the CPTS and platform admins only; B's members never shown to A's users."""

from django.urls import reverse

from tests.tenant_matrix import COORDINATION, PLATFORM_ADMIN, TenantURL, register, register_page


def _member_of(cpts) -> dict:
    from tests.accounts.factories import MembershipFactory

    member = MembershipFactory(cpts=cpts, role="gp", user__last_name=f"Témoin-{cpts.slug}")
    return {"member": member, "secrets": [member.user.last_name, member.user.email]}


def _invited_of(cpts) -> dict:
    from tests.accounts.factories import MembershipFactory

    member = MembershipFactory(
        cpts=cpts, role="gp", user__last_name=f"Invité-{cpts.slug}", user__password=None
    )
    member.user.set_unusable_password()
    member.user.is_active = False
    member.user.save()
    return {"member": member, "secrets": [member.user.last_name, member.user.email]}


register_page("members:list", allowed=COORDINATION, setup=_member_of)
register_page("members:invite", allowed=COORDINATION)
register(
    TenantURL(
        name="members:invite (POST)",
        url=lambda cpts, objs: reverse("members:invite", kwargs={"cpts_slug": cpts.slug}),
        method="post",
        data=lambda cpts, objs: {
            "email": "nouvelle@exemple.fr",
            "first_name": "Lou",
            "last_name": "Nouvelle",
            "role": "gp",
        },
        allowed=COORDINATION,
        ok_statuses=(302,),
    )
)
for name in ("members:edit", "members:remove", "members:deactivate"):
    register_page(name, pk="member", allowed=COORDINATION, setup=_member_of)
for name, setup in (
    ("members:edit", _member_of),
    ("members:remove", _member_of),
    ("members:deactivate", _member_of),
    ("members:reactivate", _member_of),
    ("members:resend", _invited_of),
):
    register(
        TenantURL(
            name=f"{name} (POST)",
            url=lambda cpts, objs, name=name: reverse(
                name, kwargs={"cpts_slug": cpts.slug, "pk": objs["member"].pk}
            ),
            method="post",
            data=lambda cpts, objs: {"role": "observer"},
            allowed=COORDINATION,
            setup=setup,
            ok_statuses=(302,),
        )
    )
register(
    TenantURL(
        name="members:platform",
        url=lambda cpts, objs: reverse("members:platform"),
        allowed=frozenset({PLATFORM_ADMIN}),
        tenant_scoped=False,
    )
)
