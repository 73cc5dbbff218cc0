"""The progress page of a long operation (accesmt.notifications.operations), under
`espace/<cpts_slug>/operations/<pk>/`: share done (a <progress> element with its text), step,
estimated time left, the French error when it failed, the link to the result when it is done.
While the operation is queued or running the page reloads itself every few seconds with
`<meta http-equiv="refresh">` (no script: it works without JavaScript and under the strict
Content Security Policy, which does not govern a refresh). Only the coordination of the CPTS
(and platform admins) see it; an operation of another CPTS answers 404."""

from __future__ import annotations

from django.shortcuts import get_object_or_404, render

from accesmt.accounts.access import cpts_role_required
from accesmt.accounts.models import Role

from .models import Operation
from .operations import kind_label

ROLES = (Role.COORDINATOR,)
REFRESH_SECONDS = 2


def time_left_label(seconds: int | None) -> str:
    if seconds is None:
        return "en cours d'estimation"
    if seconds < 60:
        return "moins d'une minute"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"environ {minutes} minute{'s' if minutes > 1 else ''}"
    hours, minutes = divmod(minutes, 60)
    return f"environ {hours} h {minutes:02d}"


@cpts_role_required(*ROLES)
def operation_detail(http_request, cpts_slug: str, pk: int):
    cpts = http_request.cpts
    operation = get_object_or_404(Operation.objects.select_related("created_by"), pk=pk, cpts=cpts)
    context = {
        "cpts": cpts,
        "operation": operation,
        "label": kind_label(operation.kind),
        "time_left": time_left_label(operation.seconds_left()),
        # RGAA 13.1: the automatic refresh can be stopped (`?pause=1`).
        "refresh_seconds": REFRESH_SECONDS
        if operation.is_active and "pause" not in http_request.GET
        else None,
    }
    return render(http_request, "notifications/operation.html", context)
