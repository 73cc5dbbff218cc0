"""The intake pages of `espace/<cpts_slug>/` in the tenant matrix (tests/tenant_matrix.py)."""

from django.urls import reverse

from tests.tenant_matrix import COORDINATOR, PLATFORM_ADMIN, REFERRER, TenantURL, register

REFERRAL_KINDS = frozenset({REFERRER, COORDINATOR, PLATFORM_ADMIN})


def _referral_in(cpts) -> dict:
    from tests.accounts.factories import MembershipFactory

    from .factories import HouseholdMemberFactory, RequestFactory

    referrer = MembershipFactory(cpts=cpts, role="referrer").user
    request = RequestFactory(
        cpts=cpts,
        channel="referral",
        referrer=referrer,
        referrer_attested_consent=True,
        email=f"temoin-{cpts.slug}@exemple.fr",
    )
    member = HouseholdMemberFactory(request=request, last_name=f"Témoin-{cpts.slug}")
    return {"request": request, "secrets": [request.reference, member.last_name, request.email]}


register(
    TenantURL(
        name="intake:refer",
        url=lambda cpts, objs: reverse("intake:refer", kwargs={"cpts_slug": cpts.slug}),
        allowed=REFERRAL_KINDS,
        setup=_referral_in,
    )
)
register(
    TenantURL(
        name="intake:my_referrals",
        url=lambda cpts, objs: reverse("intake:my_referrals", kwargs={"cpts_slug": cpts.slug}),
        allowed=REFERRAL_KINDS,
        setup=_referral_in,
    )
)
register(
    TenantURL(
        name="intake:phone_entry",
        url=lambda cpts, objs: reverse("intake:phone_entry", kwargs={"cpts_slug": cpts.slug}),
        allowed=frozenset({COORDINATOR, PLATFORM_ADMIN}),
        setup=_referral_in,
    )
)
