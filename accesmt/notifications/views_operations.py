"""The progress page of a long operation (accesmt.notifications.operations), under
`espace/<cpts_slug>/operations/<pk>/`: share done (a <progress> element with its text), step,
estimated time left, the French error when it failed, the link to the result when it is done.
While the operation is queued or running the page reloads itself every few seconds with
`<meta http-equiv="refresh">` (no script: it works without JavaScript and under the strict
Content Security Policy, which does not govern a refresh). Only the coordination of the CPTS
(and platform admins) see it; an operation of another CPTS answers 404.

An operation that produced a file (an export) links to `…/operations/<pk>/fichier/`: the
download, for the coordination of the same CPTS, each download audited ("export"); the file is
kept a day at most. `operation_start_response` is what a page's POST calls to start an
operation: the redirect to its progress page, or the French refusal when one already runs."""

from __future__ import annotations

from django.contrib import messages
from django.http import FileResponse, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from accesmt.accounts.access import cpts_role_required
from accesmt.accounts.models import AuditAction, Role
from accesmt.accounts.services import audit_record

from .models import Operation
from .operations import OperationRefused, kind_label, operation_file, operation_start

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


def operation_start_response(
    http_request, *, kind: str, back: str, params: dict | None = None, started=None
) -> HttpResponse:
    """Start the operation `kind` for the page's CPTS and redirect to its progress page (after
    calling `started()`, e.g. to hand a waiting file over to it); when one of the same kind
    already runs, say so (French) and go to its page (or to `back`)."""
    cpts = http_request.cpts
    try:
        operation = operation_start(kind=kind, cpts=cpts, by=http_request.user, params=params)
    except OperationRefused as exc:
        messages.error(http_request, str(exc))
        if exc.active is not None:
            return redirect("notifications:operation", cpts_slug=cpts.slug, pk=exc.active.pk)
        return redirect(back)
    if started is not None:
        started()
    return redirect("notifications:operation", cpts_slug=cpts.slug, pk=operation.pk)


def operation_context(http_request, operation: Operation) -> dict:
    """What the progress page shows (also the admin's page of a platform operation)."""
    return {
        "operation": operation,
        "label": kind_label(operation.kind),
        "time_left": time_left_label(operation.seconds_left()),
        "file_available": operation.has_file and operation_file(operation) is not None,
        # RGAA 13.1: the automatic refresh can be stopped (`?pause=1`).
        "refresh_seconds": REFRESH_SECONDS
        if operation.is_active and "pause" not in http_request.GET
        else None,
    }


def _operation_of(http_request, pk: int) -> Operation:
    return get_object_or_404(
        Operation.objects.select_related("created_by"), pk=pk, cpts=http_request.cpts
    )


@cpts_role_required(*ROLES)
def operation_detail(http_request, cpts_slug: str, pk: int):
    operation = _operation_of(http_request, pk)
    context = {"cpts": http_request.cpts, **operation_context(http_request, operation)}
    return render(http_request, "notifications/operation.html", context)


@cpts_role_required(*ROLES)
def operation_download(http_request, cpts_slug: str, pk: int):
    """The file of a finished operation (an export), audited; gone after a day."""
    cpts = http_request.cpts
    operation = _operation_of(http_request, pk)
    found = operation_file(operation)
    if found is None:
        if operation.has_file:
            messages.error(
                http_request,
                "Le fichier n'est plus disponible (il est gardé 24 heures) : relancez l'export.",
            )
        return redirect("notifications:operation", cpts_slug=cpts.slug, pk=operation.pk)
    path, name, content_type = found
    audit_record(
        actor=http_request.user,
        action=AuditAction.EXPORT,
        obj=operation,
        cpts=cpts,
        http_request=http_request,
    )
    response = FileResponse(
        path.open("rb"), as_attachment=True, filename=name, content_type=content_type
    )
    response["Cache-Control"] = "private, no-store"
    return response
