"""The intake pages of `espace/<cpts_slug>/` in the tenant matrix (tests/tenant_matrix.py)."""

from tests.tenant_matrix import (
    COORDINATOR,
    CPAM_AGENT,
    CPAM_MEDIATOR,
    PLATFORM_ADMIN,
    REFERRER,
    register_page,
)

# The CPAM roles refer like any professional (issue 12).
REFERRAL_KINDS = frozenset({REFERRER, COORDINATOR, CPAM_AGENT, CPAM_MEDIATOR, PLATFORM_ADMIN})


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


register_page(
    "intake:refer",
    allowed=REFERRAL_KINDS,
    setup=_referral_in,
)
register_page(
    "intake:my_referrals",
    allowed=REFERRAL_KINDS,
    setup=_referral_in,
)
register_page(
    "intake:phone_entry",
    allowed=frozenset({COORDINATOR, PLATFORM_ADMIN}),
    setup=_referral_in,
)
