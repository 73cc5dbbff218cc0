"""What pages share about operations (not views themselves, so that any app's views may import
them): `operation_start_response`, what a page's POST calls to start an operation, and
`operation_context`, what a progress page shows (views_operations, and the admin's page of a
platform operation)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect

from .models import Operation
from .operations import OperationRefused, kind_label, operation_file, operation_start

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
