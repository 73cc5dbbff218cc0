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
operation (operation_pages.py): the redirect to its progress page, or the French refusal when
one already runs."""

from __future__ import annotations

from django.contrib import messages
from django.http import FileResponse
from django.shortcuts import get_object_or_404, redirect, render

from accesmt.accounts.access import cpts_role_required
from accesmt.accounts.models import AuditAction, Role
from accesmt.accounts.services import audit_record

from .models import Operation
from .operation_pages import operation_context
from .operations import operation_file

ROLES = (Role.COORDINATOR,)


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
