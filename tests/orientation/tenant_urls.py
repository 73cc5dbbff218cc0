"""The orientation pages of `espace/<cpts_slug>/` in the tenant matrix (tests/tenant_matrix.py)."""

from django.urls import reverse

from tests.directory.tenant_urls import survey_link
from tests.intake.tenant_urls import followup_link
from tests.tenant_matrix import (
    COORDINATION,
    GP,
    PLATFORM_ADMIN,
    TenantURL,
    register,
    register_page,
    signed_link,
)


def _request_with_accepted_gp(cpts) -> dict:
    from accesmt.orientation.models import AnswerChannel
    from accesmt.orientation.services import solicitation_answer, solicitations_send
    from tests.intake.factories import HouseholdMemberFactory, RequestFactory
    from tests.worlds import gp_at

    request = RequestFactory(cpts=cpts, status="waiting", email=f"temoin-{cpts.slug}@exemple.fr")
    member = HouseholdMemberFactory(request=request, last_name=f"Témoin-{cpts.slug}")
    site = gp_at(cpts, request.commune)
    [solicitation] = solicitations_send(request=request, practitioner_ids=[site.practitioner_id])
    solicitation_answer(solicitation=solicitation, accept=True, channel=AnswerChannel.PHONE)
    return {"request": request, "secrets": [request.reference, member.last_name, request.email]}


def _request_url(name):
    return lambda cpts, objs: reverse(
        f"orientation:{name}",
        kwargs={"cpts_slug": cpts.slug, "reference": objs["request"].reference},
    )


register(
    TenantURL(
        name="orientation:request",
        url=_request_url("request"),
        allowed=COORDINATION,
        setup=_request_with_accepted_gp,
    )
)
register(
    TenantURL(
        name="orientation:request_exclusions",
        url=_request_url("request_exclusions"),
        allowed=COORDINATION,
        setup=_request_with_accepted_gp,
    )
)
register(
    TenantURL(
        name="orientation:letter",
        url=_request_url("letter"),
        allowed=COORDINATION,
        setup=_request_with_accepted_gp,
    )
)
register_page(
    "orientation:gp_households",
    allowed=frozenset({GP, PLATFORM_ADMIN}),
    setup=_request_with_accepted_gp,
)


def _still_needed_to_call(cpts) -> dict:
    from django.utils import timezone

    from accesmt.orientation.still_needed import _start_check
    from tests.intake.factories import HouseholdMemberFactory, RequestFactory

    request = RequestFactory(cpts=cpts, status="waiting", email="", phone="")
    member = HouseholdMemberFactory(request=request, last_name=f"Injoignable-{cpts.slug}")
    _start_check(request.pk, now=timezone.now())
    return {"request": request, "secrets": [request.reference, member.last_name]}


register_page(
    "orientation:still_needed",
    allowed=COORDINATION,
    setup=_still_needed_to_call,
)


def _transfer_plan_in(cpts) -> dict:
    import datetime

    from accesmt.orientation.models import TransferPlan
    from tests.intake.factories import RequestFactory
    from tests.worlds import gp_at

    request = RequestFactory(cpts=cpts, status="waiting")
    site = gp_at(cpts, request.commune)
    site.practitioner.last_name = f"PARTANT-{cpts.slug}"
    site.practitioner.save()
    plan = TransferPlan.objects.create(
        cpts=cpts, practitioner=site.practitioner, departure_date=datetime.date(2030, 1, 1)
    )
    return {"plan": plan, "secrets": [site.practitioner.last_name]}


for _name in (
    "orientation:transfer_plan",
    "orientation:transfer_import",
    "orientation:transfer_template",
    "orientation:transfer_letter",
):
    register_page(_name, pk="plan", allowed=COORDINATION, setup=_transfer_plan_in)
register_page("orientation:transfer_plans", allowed=COORDINATION, setup=_transfer_plan_in)


# The signed links: the GP's answer to a solicitation, the person's choice and declaration
# pages (follow-up token), the still-needed check, the GP's households by survey link.
def _answer_link(cpts) -> dict:
    from accesmt.orientation.models import Solicitation
    from accesmt.orientation.services import solicitation_token

    objs = _request_with_accepted_gp(cpts)
    solicitation = Solicitation.objects.get(request=objs["request"])
    url = reverse("orientation:answer", kwargs={"token": solicitation_token(solicitation)})
    return {"url": url, "secrets": objs["secrets"]}


def _still_needed_link(cpts) -> dict:
    from accesmt.orientation.models import StillNeededCheck
    from accesmt.orientation.still_needed import check_path

    objs = _still_needed_to_call(cpts)
    check = StillNeededCheck.objects.get(request=objs["request"])
    return {"url": check_path(check), "secrets": objs["secrets"]}


signed_link("orientation:answer", make=_answer_link)
signed_link("orientation:still_needed_answer", make=_still_needed_link)
for _name in ("orientation:patient_choice", "orientation:declaration_answer"):
    signed_link(_name, make=followup_link(_name))
signed_link("orientation:gp_households_link", make=survey_link("orientation:gp_households_link"))
