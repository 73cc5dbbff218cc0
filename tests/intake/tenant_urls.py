"""The intake pages of `espace/<cpts_slug>/` in the tenant matrix (tests/tenant_matrix.py)."""

from tests.tenant_matrix import (
    COORDINATOR,
    CPAM_AGENT,
    CPAM_MEDIATOR,
    PLATFORM_ADMIN,
    REFERRER,
    public,
    register_page,
    signed_link,
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


# The public form and the person's signed links (no account).
public("intake:register", "intake:privacy")
# The thanks page reads the request from the session of its submission: back to the form without.
public("intake:acknowledgment", statuses=(302,))


def _household_in(cpts, **fields):
    from .factories import HouseholdMemberFactory, RequestFactory

    request = RequestFactory(cpts=cpts, email=f"foyer-{cpts.slug}@exemple.fr", **fields)
    member = HouseholdMemberFactory(request=request, last_name=f"Foyer-{cpts.slug}")
    return request, [request.reference, member.last_name, request.email]


def followup_link(name: str):
    """make(cpts) for a page of the person's follow-up link `name` (suivi/<token>/…)."""

    def make(cpts) -> dict:
        from django.urls import reverse

        from accesmt.intake.services import followup_token

        request, secrets = _household_in(cpts, status="waiting")
        return {"url": reverse(name, kwargs={"token": followup_token(request)}), "secrets": secrets}

    return make


def _opt_out_link(cpts) -> dict:
    from django.urls import reverse

    from accesmt.intake.cpam_lists.optout import opt_out_token

    request, secrets = _household_in(cpts, from_cpam_list=True)
    url = reverse("intake:cpam_opt_out", kwargs={"token": opt_out_token(request)})
    return {"url": url, "secrets": secrets}


signed_link("intake:followup", make=followup_link("intake:followup"))
signed_link("intake:cpam_opt_out", make=_opt_out_link)
# The person's rights by the follow-up link (issue 14): their data (page, PDF, JSON), the
# correction and the erasure's confirmation page (a GET erases nothing).
for _name in (
    "intake:my_data",
    "intake:my_data_pdf",
    "intake:my_data_json",
    "intake:correct",
    "intake:erase",
):
    signed_link(_name, make=followup_link(_name))
