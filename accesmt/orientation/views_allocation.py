"""Sending a queue-wide allocation run (the review pages are in the matching app): the checked
lines (all by default) are asked through the orientation flow (`allocation_send`). Only
coordinators of the CPTS (and platform admins) reach it; a run of another CPTS answers 404."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from accesmt.accounts.access import cpts_role_required
from accesmt.accounts.models import Role
from accesmt.matching.selectors import allocation_run_for
from accesmt.matching.services import AllocationRefused

from .allocation_send import allocation_run_send

ROLES = (Role.COORDINATOR,)


@cpts_role_required(*ROLES)
@require_POST
def allocation_run_send_view(http_request, cpts_slug: str, pk: int):
    cpts = http_request.cpts
    run = allocation_run_for(http_request.user, cpts, pk)
    line_ids = None
    if http_request.POST.get("scope") != "all":
        line_ids = [int(v) for v in http_request.POST.getlist("line") if v.isdigit()]
        if not line_ids:
            messages.error(http_request, "Cochez au moins une ligne à envoyer.")
            return redirect("matching:run", cpts_slug=cpts.slug, pk=run.pk)
    try:
        report = allocation_run_send(run=run, by=http_request.user, line_ids=line_ids, cpts=cpts)
    except AllocationRefused as exc:
        messages.error(http_request, str(exc))
        return redirect("matching:run", cpts_slug=cpts.slug, pk=run.pk)
    n = len(report.sent)
    messages.success(
        http_request,
        f"{n} demande{'s' if n > 1 else ''} envoyée{'s' if n > 1 else ''} aux médecins proposés.",
    )
    if report.skipped:
        messages.warning(
            http_request,
            "Ignorées car elles ne sont plus en attente : " + ", ".join(report.skipped) + ".",
        )
    if report.failed:
        messages.error(
            http_request,
            "Non envoyées, le suivi de la demande l'a refusé (ouvrez-les pour voir pourquoi) : "
            + ", ".join(report.failed)
            + ".",
        )
    return redirect("matching:run", cpts_slug=cpts.slug, pk=run.pk)
