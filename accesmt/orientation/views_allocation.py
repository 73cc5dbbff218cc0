"""Sending a queue-wide allocation run (the review pages are in the matching app): the checked
lines (all by default) are asked through the orientation flow (`allocation_send`), as a
background operation whose progress page (`notifications:operation`) leads back to the run.
Only coordinators of the CPTS (and platform admins) reach it; a run of another CPTS answers
404."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from accesmt.accounts.access import cpts_role_required
from accesmt.accounts.models import Role
from accesmt.matching.models import AllocationStatus
from accesmt.matching.selectors import allocation_run_for
from accesmt.notifications.operation_pages import operation_start_response

from .allocation_operations import ALLOCATION_SEND

ROLES = (Role.COORDINATOR,)


@cpts_role_required(*ROLES)
@require_POST
def allocation_run_send_view(http_request, cpts_slug: str, pk: int):
    cpts = http_request.cpts
    run = allocation_run_for(http_request.user, cpts, pk)
    line_ids = None
    if http_request.POST.get("scope") != "all":
        line_ids = [
            int(v) for v in http_request.POST.getlist("line") if v.isascii() and v.isdigit()
        ]
        if not line_ids:
            messages.error(http_request, "Cochez au moins une ligne à envoyer.")
            return redirect("matching:run", cpts_slug=cpts.slug, pk=run.pk)
    if run.status == AllocationStatus.DISCARDED:
        messages.error(
            http_request, "Cette répartition a été écartée : elle ne peut plus être envoyée."
        )
        return redirect("matching:run", cpts_slug=cpts.slug, pk=run.pk)
    return operation_start_response(
        http_request,
        kind=ALLOCATION_SEND,
        back=reverse("matching:run", kwargs={"cpts_slug": cpts.slug, "pk": run.pk}),
        params={"run": run.pk, "lines": line_ids},
    )
