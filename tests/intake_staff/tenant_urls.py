"""The coordinator's and the mediator's intake pages in the tenant matrix."""

from django.urls import reverse
from django.utils import timezone

from tests.tenant_matrix import (
    COORDINATION,
    COORDINATOR,
    CPAM_MEDIATOR,
    PLATFORM_ADMIN,
    TenantURL,
    register,
)


def _request_in(cpts) -> dict:
    from tests.intake.factories import HouseholdMemberFactory, RequestFactory

    request = RequestFactory(
        cpts=cpts, needs_rights_help=True, email=f"secret-{cpts.slug}@exemple.fr"
    )
    member = HouseholdMemberFactory(request=request, last_name=f"Confidentiel-{cpts.slug}")
    return {"request": request, "secrets": [request.reference, member.last_name, request.email]}


def _on_request(name):
    return lambda cpts, objs: reverse(
        f"intake_staff:{name}",
        kwargs={"cpts_slug": cpts.slug, "reference": objs["request"].reference},
    )


def _on_cpts(name):
    return lambda cpts, objs: reverse(f"intake_staff:{name}", kwargs={"cpts_slug": cpts.slug})


register(
    TenantURL(
        name="intake_staff:flyer",
        url=_on_cpts("flyer"),
        allowed=COORDINATION,
        setup=_request_in,
    )
)
register(
    TenantURL(
        name="intake_staff:queue",
        url=_on_cpts("queue"),
        allowed=COORDINATION,
        setup=_request_in,
    )
)
for name in ("request_detail", "request_edit"):
    register(
        TenantURL(
            name=f"intake_staff:{name}",
            url=_on_request(name),
            allowed=COORDINATION,
            setup=_request_in,
        )
    )
register(
    TenantURL(
        name="intake_staff:request_status",
        url=_on_request("request_status"),
        method="post",
        data=lambda cpts, objs: {"action": "verify"},
        allowed=COORDINATION,
        setup=_request_in,
        ok_statuses=(302,),
    )
)
register(
    TenantURL(
        name="intake_staff:rights_help",
        url=_on_cpts("rights_help"),
        allowed=frozenset({CPAM_MEDIATOR, COORDINATOR, PLATFORM_ADMIN}),
        setup=_request_in,
    )
)

register(
    TenantURL(
        name="intake_staff:request_split",
        url=_on_request("request_split"),
        allowed=COORDINATION,
        method="post",
        setup=_request_in,
        data=lambda cpts, objs: {"member": [objs["request"].members.first().pk]},
        ok_statuses=(302,),
    )
)
MEDIATION = frozenset({CPAM_MEDIATOR, COORDINATOR, PLATFORM_ADMIN})
register(
    TenantURL(
        name="intake_staff:rights_file",
        url=_on_request("rights_file"),
        allowed=MEDIATION,
        setup=_request_in,
    )
)
register(
    TenantURL(
        name="intake_staff:rights_file (record an outcome)",
        url=_on_request("rights_file"),
        method="post",
        data=lambda cpts, objs: {"kind": "contacted", "on": str(objs["request"].created_at.date())},
        allowed=MEDIATION,
        setup=_request_in,
        ok_statuses=(302,),
    )
)
# The mediator's list as CSV lives in reporting (exports), next to the other person exports.
register(
    TenantURL(
        name="reporting:rights_export",
        url=lambda cpts, objs: reverse("reporting:rights_export", kwargs={"cpts_slug": cpts.slug}),
        method="post",
        allowed=MEDIATION,
        setup=_request_in,
    )
)


def _cpam_list_in(cpts) -> dict:
    from tests.intake.factories import CpamListFactory, HouseholdMemberFactory, RequestFactory

    cpam_list = CpamListFactory(cpts=cpts, campaign_name=f"Campagne-{cpts.slug}")
    request = RequestFactory(cpts=cpts, from_cpam_list=True, cpam_list=cpam_list)
    member = HouseholdMemberFactory(request=request, last_name=f"Importé-{cpts.slug}")
    return {
        "list": cpam_list,
        "secrets": [cpam_list.campaign_name, request.reference, member.last_name],
    }


for name in ("cpam_lists", "cpam_list_upload", "cpam_list_template"):
    register(
        TenantURL(
            name=f"intake_staff:{name}",
            url=_on_cpts(name),
            allowed=COORDINATION,
            setup=_cpam_list_in,
        )
    )
register(
    TenantURL(
        name="intake_staff:cpam_list_detail",
        url=lambda cpts, objs: reverse(
            "intake_staff:cpam_list_detail", kwargs={"cpts_slug": cpts.slug, "pk": objs["list"].pk}
        ),
        allowed=COORDINATION,
        setup=_cpam_list_in,
    )
)


# Calls, notes and call-backs (issue 13, point 4).
def _call_back_in(cpts) -> dict:
    from accesmt.intake.calls import contact_note_record

    objs = _request_in(cpts)
    objs["call"] = contact_note_record(
        request=objs["request"],
        kind="call",
        outcome="no_answer",
        text=f"Note-secrète-{cpts.slug}",
        call_back_on=timezone.localdate(),
    )
    objs["secrets"].append(objs["call"].text)
    return objs


register(
    TenantURL(
        name="intake_staff:call_backs",
        url=_on_cpts("call_backs"),
        allowed=COORDINATION,
        setup=_call_back_in,
    )
)
register(
    TenantURL(
        name="intake_staff:call_add",
        url=_on_request("call_add"),
        method="post",
        data=lambda cpts, objs: {"appel-outcome": "reached"},
        allowed=COORDINATION,
        setup=_request_in,
        ok_statuses=(302,),
    )
)
register(
    TenantURL(
        name="intake_staff:note_add",
        url=_on_request("note_add"),
        method="post",
        data=lambda cpts, objs: {"note-text": "Rappeler le matin"},
        allowed=COORDINATION,
        setup=_request_in,
        ok_statuses=(302,),
    )
)
register(
    TenantURL(
        name="intake_staff:call_back_done",
        url=lambda cpts, objs: reverse(
            "intake_staff:call_back_done",
            kwargs={
                "cpts_slug": cpts.slug,
                "reference": objs["request"].reference,
                "pk": objs["call"].pk,
            },
        ),
        method="post",
        allowed=COORDINATION,
        setup=_call_back_in,
        ok_statuses=(302,),
    )
)


# The queue's search box (posted, kept in the session) and the actions on checked requests;
# the export of the checked rows is reporting's person export, posted by the same form.
register(
    TenantURL(
        name="intake_staff:queue (search)",
        url=_on_cpts("queue"),
        method="post",
        data=lambda cpts, objs: {"q": objs["secrets"][1]},
        allowed=COORDINATION,
        setup=_request_in,
        ok_statuses=(302,),
    )
)
register(
    TenantURL(
        name="intake_staff:queue_verify",
        url=_on_cpts("queue_verify"),
        method="post",
        data=lambda cpts, objs: {"reference": [objs["request"].reference]},
        allowed=COORDINATION,
        setup=_request_in,
        ok_statuses=(302,),
    )
)
register(
    TenantURL(
        name="reporting:person_export (checked rows)",
        url=lambda cpts, objs: reverse("reporting:person_export", kwargs={"cpts_slug": cpts.slug}),
        method="post",
        data=lambda cpts, objs: {"reference": [objs["request"].reference]},
        allowed=COORDINATION,
        setup=_request_in,
    )
)


# Duplicates: merge two open requests, dismiss a possible duplicate (both posted).
def _two_requests_in(cpts) -> dict:
    from accesmt.intake.models import DuplicateFlag, DuplicateReason

    objs = _request_in(cpts)
    other = _request_in(cpts)
    objs["other"] = other["request"]
    objs["flag"] = DuplicateFlag.objects.create(
        request=objs["request"], other_request=other["request"], reason=DuplicateReason.NIR
    )
    objs["secrets"] += other["secrets"]
    return objs


register(
    TenantURL(
        name="intake_staff:request_merge",
        url=_on_request("request_merge"),
        method="post",
        data=lambda cpts, objs: {"other": objs["other"].reference},
        allowed=COORDINATION,
        setup=_two_requests_in,
        ok_statuses=(302,),
    )
)
register(
    TenantURL(
        name="intake_staff:duplicate_dismiss",
        url=lambda cpts, objs: reverse(
            "intake_staff:duplicate_dismiss",
            kwargs={
                "cpts_slug": cpts.slug,
                "reference": objs["request"].reference,
                "flag_id": objs["flag"].pk,
            },
        ),
        method="post",
        allowed=COORDINATION,
        setup=_two_requests_in,
        ok_statuses=(302,),
    )
)


# The person's rights on their behalf (issue 14): their data (page, PDF, JSON) and the erasure.
for name in ("request_data", "request_data_pdf", "request_data_json", "request_erase"):
    register(
        TenantURL(
            name=f"intake_staff:{name}",
            url=_on_request(name),
            allowed=COORDINATION,
            setup=_request_in,
        )
    )
register(
    TenantURL(
        name="intake_staff:request_erase (erase)",
        url=_on_request("request_erase"),
        method="post",
        data=lambda cpts, objs: {"reason": "demande reçue par téléphone", "confirm": "on"},
        allowed=COORDINATION,
        setup=_request_in,
        ok_statuses=(302,),
    )
)
