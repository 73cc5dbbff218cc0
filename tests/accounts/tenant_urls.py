"""The members pages (accounts/views_members.py) in the tenant matrix (tests/tenant_matrix.py):
coordinators of the CPTS and platform admins only; B's members never shown to A's users."""

from django.urls import reverse

from tests.tenant_matrix import (
    COORDINATION,
    PLATFORM_ADMIN,
    TenantURL,
    admin_route,
    login_only,
    public,
    register,
    register_page,
    signed_link,
)


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

# Login, logout and passwords (tests/test_every_route.py). Logging out is a POST: a GET is 405.
public(
    "accounts:login",
    "accounts:password_reset",
    "accounts:password_reset_done",
    "accounts:password_reset_complete",
)
public("accounts:logout", statuses=(405,))
login_only("accounts:password_change", "accounts:password_change_done")
# The second factor (decision 0025): one's own setup page; the code page only follows a password
# (anonymous without one: back to the login page); django-otp's admin pages of a device.
login_only("accounts:otp_setup")
public("accounts:otp_verify", statuses=(302,))
# Pro Santé Connect (decision 0026): off in the test settings, so both routes answer 404.
public("accounts:psc_start", "accounts:psc_callback", statuses=(404,))
admin_route("admin:otp_totp_totpdevice_config", "admin:otp_totp_totpdevice_qrcode")


def _uid_link(name: str, generator, **user_fields):
    """make(cpts) for a link `<uidb64>/<token>/` of a member of cpts (a valid one leaves the
    token for the session: 302)."""

    def make(cpts) -> dict:
        from django.utils.encoding import force_bytes
        from django.utils.http import urlsafe_base64_encode

        from tests.accounts.factories import MembershipFactory

        user = MembershipFactory(
            cpts=cpts, role="gp", user__last_name=f"Lien-{cpts.slug}", **user_fields
        ).user
        if "user__is_active" in user_fields:
            user.set_unusable_password()
            user.save()
        kwargs = {
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": generator().make_token(user),
        }
        return {"url": reverse(name, kwargs=kwargs), "secrets": [user.last_name, user.email]}

    return make


def _invitation_generator():
    from accesmt.accounts.members import invitation_token_generator

    return invitation_token_generator


def _reset_generator():
    from django.contrib.auth.tokens import default_token_generator

    return default_token_generator


signed_link(
    "accounts:invitation",
    make=_uid_link("accounts:invitation", _invitation_generator, user__is_active=False),
    statuses=(302,),
)
signed_link(
    "accounts:password_reset_confirm",
    make=_uid_link("accounts:password_reset_confirm", _reset_generator),
    statuses=(302,),
)
