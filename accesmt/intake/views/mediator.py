"""The CPAM mediator's list: open requests whose household asked for help with their rights.

Only what the mediator needs to call the household back (reference, contact person, phone,
e-mail, commune, coverage, state): no health data. Every request shown gets a "read" line in
the audit log, as opening it would.
"""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.shortcuts import render

from accesmt.accounts.access import cpts_role_required
from accesmt.accounts.models import AuditAction, Role
from accesmt.accounts.services import audit_record_many
from accesmt.common.phones import format_phone_for_display

from ..models import OPEN_STATUSES, HouseholdMember, Request

MEDIATOR_ROLES = (Role.CPAM_MEDIATOR, Role.COORDINATOR)
PAGE_SIZE = 50


def rights_help_requests(*, cpts, user):
    """Open requests of `cpts` flagged "accès aux droits" that `user` may see, oldest first."""
    contacts = HouseholdMember.objects.filter(is_contact_person=True).only(
        "request_id", "first_name", "last_name"
    )
    return (
        Request.objects.for_user(user, MEDIATOR_ROLES)
        .filter(cpts=cpts, needs_rights_help=True, status__in=OPEN_STATUSES)
        .select_related("commune")
        .prefetch_related(Prefetch("members", queryset=contacts, to_attr="contacts"))
        .only(
            "pk",
            "cpts_id",
            "reference",
            "status",
            "phone",
            "email",
            "coverage",
            "commune__name",
            "waiting_since",
        )
        .order_by("waiting_since", "reference")
    )


@cpts_role_required(*MEDIATOR_ROLES)
def rights_help_list(http_request, cpts_slug: str):
    cpts = http_request.cpts
    page = Paginator(rights_help_requests(cpts=cpts, user=http_request.user), PAGE_SIZE).get_page(
        http_request.GET.get("page")
    )
    rows = list(page.object_list)
    # One audit line per request shown, in one INSERT.
    audit_record_many(
        actor=http_request.user,
        action=AuditAction.READ,
        objects=rows,
        cpts=cpts,
        http_request=http_request,
    )
    for row in rows:
        row.phone_display = format_phone_for_display(row.phone)
        row.contact = row.contacts[0] if row.contacts else None
    context = {"cpts": cpts, "page": page, "rows": rows}
    return render(http_request, "intake/mediator/list.html", context)
