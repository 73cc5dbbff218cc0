"""The coordinator's queue-wide allocation pages, under `espace/<cpts_slug>/repartition/`.

- `runs`: launch a run (exact or greedy; a platform admin may also run every CPTS at once) as a
  background operation whose progress page (`notifications:operation`) leads to the run, and
  list the runs of the CPTS;
- `run_detail`: review one run, its lines priority first then longest waiting, with the GP
  proposed and the reason, or why no GP could be proposed. No names of people: the reference,
  the commune, age bands, priority reasons. Each view of a run is one "read" audit line;
- `run_discard`: set a draft aside. Sending the checked lines goes through the orientation flow,
  so its view is `orientation.views_allocation.run_send` (same path, `…/<pk>/envoyer/`).

Only coordinators of the CPTS (and platform admins) reach them (`cpts_role_required`); a run of
another CPTS answers 404. A platform-wide run (cpts None) is visible to platform admins only and,
under a CPTS's URL, shows and sends only the lines of that CPTS.
"""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Prefetch, Q
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from accesmt.accounts.access import cpts_role_required
from accesmt.accounts.models import AuditAction, Role
from accesmt.accounts.services import audit_record, audit_record_many
from accesmt.intake.ages import age_bands_text
from accesmt.intake.models import HouseholdMember, RequestPriorityReason
from accesmt.notifications.operation_pages import operation_start_response
from accesmt.notifications.operations import operation_active

from .models import AllocationMethod, AllocationStatus
from .operations import ALLOCATION_RUN
from .selectors import allocation_run_for, allocation_runs_for
from .services import AllocationRefused, allocation_run_discard

ROLES = (Role.COORDINATOR,)
LINES_PER_PAGE = 100
FILTERS = {
    "proposees": ("Foyers avec un médecin proposé", Q(practitioner__isnull=False)),
    "sans": ("Foyers sans proposition", Q(practitioner__isnull=True)),
}


@cpts_role_required(*ROLES)
@require_http_methods(["GET", "POST"])
def runs(http_request, cpts_slug: str):
    cpts = http_request.cpts
    if http_request.method == "POST":
        method = http_request.POST.get("method", AllocationMethod.EXACT)
        if method not in AllocationMethod.values:
            method = AllocationMethod.EXACT
        platform = http_request.user.is_platform_admin and http_request.POST.get("scope") == "all"
        return operation_start_response(
            http_request,
            kind=ALLOCATION_RUN,
            back=reverse("matching:runs", kwargs={"cpts_slug": cpts.slug}),
            params={"method": method, "scope": "all" if platform else "cpts"},
        )
    context = {
        "cpts": cpts,
        # a run being computed can be left and come back to: its progress page is linked here
        "active": operation_active(kind=ALLOCATION_RUN, cpts=cpts),
        "runs": allocation_runs_for(http_request.user, cpts)[:50],
        "methods": AllocationMethod.choices,
        "can_run_platform": http_request.user.is_platform_admin,
    }
    return render(http_request, "matching/runs.html", context)


def _decorate(lines, today: datetime.date) -> None:
    for line in lines:
        line.age_bands = age_bands_text(m.age_on(today) for m in line.request.members.all())
        line.priority_labels = sorted({r.label for r in line.request.priority_reasons.all()})
        weeks = line.waiting_days // 7
        line.waiting_label = (
            f"{weeks} semaine{'s' if weeks > 1 else ''}" if weeks else "moins d'une semaine"
        )


@cpts_role_required(*ROLES)
def run_detail(http_request, cpts_slug: str, pk: int):
    cpts = http_request.cpts
    run = allocation_run_for(http_request.user, cpts, pk)
    shown = http_request.GET.get("lignes", "proposees")
    if shown not in FILTERS:
        shown = "proposees"
    lines = run.lines.filter(cpts=cpts)
    counts = {key: lines.filter(q).count() for key, (_, q) in FILTERS.items()}
    pending = lines.filter(practitioner__isnull=False, outcome="").count()
    page = Paginator(
        lines.filter(FILTERS[shown][1])
        .select_related("request__commune", "practitioner", "site__commune")
        .prefetch_related(
            Prefetch(
                "request__members",
                queryset=HouseholdMember.objects.only("request_id", "birth_date"),
            ),
            Prefetch(
                "request__priority_reasons",
                queryset=RequestPriorityReason.objects.only("request_id", "label"),
            ),
        )
        .order_by("-is_priority", "-waiting_days", "pk"),
        LINES_PER_PAGE,
    ).get_page(http_request.GET.get("page"))
    _decorate(page.object_list, timezone.localdate())
    audit_record(
        actor=http_request.user,
        action=AuditAction.READ,
        obj=run,
        cpts=cpts,
        http_request=http_request,
    )
    # Each household listed (reference, commune, age bands, priority reasons) is a read too.
    audit_record_many(
        actor=http_request.user,
        action=AuditAction.READ,
        objects=[line.request for line in page.object_list],
        cpts=cpts,
        http_request=http_request,
    )
    context = {
        "cpts": cpts,
        "run": run,
        "page": page,
        "shown": shown,
        "filters": [(key, label, counts[key]) for key, (label, _) in FILTERS.items()],
        "pending": pending,
        "can_send": run.status != AllocationStatus.DISCARDED and pending > 0,
        "can_discard": run.status == AllocationStatus.DRAFT,
    }
    return render(http_request, "matching/run_detail.html", context)


@cpts_role_required(*ROLES)
@require_POST
def run_discard(http_request, cpts_slug: str, pk: int):
    cpts = http_request.cpts
    run = allocation_run_for(http_request.user, cpts, pk)
    try:
        allocation_run_discard(run=run, by=http_request.user)
    except AllocationRefused as exc:
        messages.error(http_request, str(exc))
    else:
        messages.success(http_request, "Répartition écartée.")
    return redirect("matching:runs", cpts_slug=cpts.slug)
