"""Pages of "keeping the list true" (see `still_needed.py`).

- The person (`suivi/<check token>/toujours-besoin/`, no account): "Avez-vous toujours besoin
  d'un médecin traitant ?" and two buttons (POST). Expired, tampered or replayed links get a
  clear page.
- The coordinator (`espace/<slug>/a-relancer/`): the open checks, the households to call (no
  e-mail nor mobile) with the answer to record after the call, and the requests closed as
  unreachable in the last 90 days with a "Rouvrir" button. No names: reference, commune, waiting
  since, channel; the request page (which audits its reads) is one click away.
"""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from accesmt.accounts.access import cpts_role_required
from accesmt.accounts.models import AuditAction, Role
from accesmt.accounts.services import audit_record
from accesmt.common.signing import LinkError
from accesmt.intake.models import ClosedReason, Request, Status

from .models import CheckChannel, OrientationSettings, StillNeededAnswer, StillNeededCheck
from .still_needed import (
    UNREACHABLE_LIST_DAYS,
    StillNeededError,
    check_from_token,
    next_step_at,
    still_needed_answer,
)

COORDINATOR = (Role.COORDINATOR,)
LIST_LIMIT = 300


def _error_code(error: StillNeededError) -> str:
    return getattr(error, "code", None) or ""


@require_http_methods(["GET", "POST"])
def still_needed_answer_view(http_request, token: str):
    try:
        check = check_from_token(token)
    except LinkError as invalid:
        return render(
            http_request,
            "orientation/still_needed_invalid.html",
            {"reason": invalid.reason},
            status=404,
        )
    request = check.request
    context = {"check": check, "intake_request": request, "cpts": request.cpts}
    if http_request.method == "POST":
        answer = http_request.POST.get("answer", "")
        try:
            still_needed_answer(check=check, answer=answer)
        except StillNeededError as error:
            if _error_code(error) == "invalid":
                messages.error(http_request, " ".join(error.messages))
                return render(http_request, "orientation/still_needed.html", context, status=400)
            # Replayed, or the request moved meanwhile: the page below says where it stands.
            check.refresh_from_db()
            request.refresh_from_db()
        else:
            return redirect("orientation:still_needed_answer", token=token)
    if check.is_open and request.status != Status.WAITING:
        context["state"] = "moved"
    elif check.is_open:
        return render(http_request, "orientation/still_needed.html", context)
    elif check.answer == StillNeededAnswer.STILL_NEEDED:
        context["state"] = "still_needed"
    elif check.answer in (StillNeededAnswer.FOUND_GP, StillNeededAnswer.NO_LONGER_NEEDED):
        context["state"] = "no_longer_needed"
    elif check.closed_unreachable_at is not None:
        context["state"] = "unreachable"
    else:
        context["state"] = "moved"
    return render(http_request, "orientation/still_needed_done.html", context)


def _row(check: StillNeededCheck, config: OrientationSettings) -> dict:
    return {"check": check, "r": check.request, "next_at": next_step_at(check, config)}


@cpts_role_required(*COORDINATOR)
@require_http_methods(["GET", "POST"])
def still_needed_list(http_request, cpts_slug: str):
    cpts = http_request.cpts
    if http_request.method == "POST":
        check_id = http_request.POST.get("check", "")
        check = (
            StillNeededCheck.objects.filter(cpts=cpts, request__cpts=cpts)
            .select_related("request")
            .filter(pk=int(check_id) if check_id.isascii() and check_id.isdigit() else 0)
            .first()
        )
        if check is None:
            messages.error(http_request, "Vérification introuvable.")
        else:
            try:
                still_needed_answer(
                    check=check, answer=http_request.POST.get("answer", ""), by=http_request.user
                )
            except StillNeededError as error:
                messages.error(
                    http_request, f"{check.request.reference} : {' '.join(error.messages)}"
                )
            else:
                audit_record(
                    actor=http_request.user,
                    action=AuditAction.UPDATE,
                    obj=check.request,
                    cpts=cpts,
                    http_request=http_request,
                )
                messages.success(
                    http_request,
                    f"{check.request.reference} : réponse enregistrée "
                    f"({StillNeededAnswer(check.answer).label}).",
                )
        return redirect("orientation:still_needed", cpts_slug=cpts.slug)
    config = OrientationSettings.for_cpts(cpts)
    open_checks = (
        StillNeededCheck.objects.filter(
            cpts=cpts,
            request__cpts=cpts,
            request__status=Status.WAITING,
            answered_at__isnull=True,
            closed_unreachable_at__isnull=True,
            cancelled_at__isnull=True,
        )
        .select_related("request", "request__commune")
        .order_by("request__waiting_since", "pk")
    )
    to_call = open_checks.filter(channel=CheckChannel.CALL)
    sent = open_checks.exclude(channel=CheckChannel.CALL)
    since = timezone.now() - datetime.timedelta(days=UNREACHABLE_LIST_DAYS)
    unreachable = (
        Request.objects.filter(
            cpts=cpts,
            status=Status.CLOSED,
            closed_reason=ClosedReason.UNREACHABLE,
            closed_at__gte=since,
        )
        .select_related("commune")
        .order_by("-closed_at", "pk")
    )
    return render(
        http_request,
        "orientation/still_needed_list.html",
        {
            "cpts": cpts,
            "config": config,
            "to_call": [_row(c, config) for c in to_call[:LIST_LIMIT]],
            "to_call_total": to_call.count(),
            "sent": [_row(c, config) for c in sent[:LIST_LIMIT]],
            "sent_total": sent.count(),
            "unreachable": list(unreachable[:LIST_LIMIT]),
            "unreachable_total": unreachable.count(),
            "unreachable_days": UNREACHABLE_LIST_DAYS,
            "limit": LIST_LIMIT,
            "answers": StillNeededAnswer,
        },
    )
