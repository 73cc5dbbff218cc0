"""CPAM lists: the coordinator's pages (lists with their counts, import with a preview, one
list) and the person's public refusal page.

The import is in two steps, nothing written before the second: the upload is read and checked
(the report: accepted, duplicates and refused lines, with line numbers and reasons), and the
file is kept server-side in CPAM_PENDING_DIR under a random name held in the session (as the
RPPS upload does, ADR 0004); "Confirmer l'import" posts that token, which must equal the
session's (the path is always built from the session's value), and a background operation
(cpam_lists/operations.py) reads and checks the file again, then writes it in one transaction;
the coordinator follows it on its progress page, which links to the list. The file is deleted
once that operation has read it, on cancellation and on a new upload; files older than a day
are swept by intake's hourly job."""

from __future__ import annotations

import contextlib
import secrets
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from accesmt.accounts.access import cpts_role_required
from accesmt.accounts.models import Role
from accesmt.common.pending_files import pending_delete, pending_keep, pending_path
from accesmt.common.signing import LinkError
from accesmt.notifications.operation_pages import operation_start_response

from ..cpam_lists import (
    COLUMNS,
    CpamListFormatError,
    cpam_list_preview,
    cpam_opt_out_record,
    request_for_opt_out_token,
    template_csv,
)
from ..cpam_lists.forms import CpamListUploadForm
from ..cpam_lists.operations import CPAM_LIST_IMPORT, FILE_GONE
from ..lifecycle import TransitionRefused
from ..models import ClosedReason, CpamList, Status

ROLES = (Role.COORDINATOR,)
PAGE_SIZE = 20
PENDING_SESSION_KEY = "cpam_list_pending"
OPTIONS = ("campaign_name", "list_date", "opt_out_days")
COLUMN_TITLES = {c.key: c.title for c in COLUMNS}


def _with_counts(queryset):
    """Each list with what became of its requests (computed for the rows shown only)."""
    return queryset.annotate(
        pending=Count("requests", filter=Q(requests__status=Status.OPT_OUT_PENDING)),
        refused=Count("requests", filter=Q(requests__closed_reason=ClosedReason.OPTED_OUT)),
        in_queue=Count(
            "requests",
            filter=~Q(requests__status__in=[Status.OPT_OUT_PENDING, Status.CLOSED]),
        ),
        closed_other=Count(
            "requests",
            filter=Q(requests__status=Status.CLOSED)
            & ~Q(requests__closed_reason=ClosedReason.OPTED_OUT),
        ),
    )


def _lists_of(http_request):
    return CpamList.objects.for_user(http_request.user, ROLES).filter(cpts=http_request.cpts)


@cpts_role_required(*ROLES)
def cpam_lists(http_request, cpts_slug: str):
    rows = _with_counts(_lists_of(http_request).select_related("imported_by")).order_by(
        "-imported_at", "-pk"
    )
    page = Paginator(rows, PAGE_SIZE).get_page(http_request.GET.get("page"))
    context = {"cpts": http_request.cpts, "page": page, "rows": list(page.object_list)}
    return render(http_request, "intake/cpam_lists/list.html", context)


@cpts_role_required(*ROLES)
def cpam_list_detail(http_request, cpts_slug: str, pk: int):
    found = _with_counts(_lists_of(http_request).filter(pk=pk).select_related("imported_by"))
    cpam_list = found.first()
    if cpam_list is None:
        raise Http404
    context = {"cpts": http_request.cpts, "l": cpam_list}
    return render(http_request, "intake/cpam_lists/detail.html", context)


@cpts_role_required(*ROLES)
def cpam_list_template(http_request, cpts_slug: str):
    response = HttpResponse(
        "\ufeff" + template_csv(), content_type="text/csv; charset=utf-8"
    )  # the BOM makes Excel read UTF-8
    response["Content-Disposition"] = 'attachment; filename="modele-liste-cpam.csv"'
    return response


def _pending_dir() -> Path:
    return Path(settings.CPAM_PENDING_DIR)


def _keep_pending(http_request, data: bytes, options: dict) -> str:
    token = pending_keep(_pending_dir(), data=data)
    http_request.session[PENDING_SESSION_KEY] = {"token": token, **options}
    return token


def _forget_pending(http_request) -> None:
    pending = http_request.session.pop(PENDING_SESSION_KEY, None)
    if pending:
        pending_delete(_pending_dir(), pending["token"])


def _report_rows(notes):
    return [
        {
            "line": note.line,
            "name": note.name,
            "reference": note.reference,
            "reasons": [(COLUMN_TITLES.get(key, ""), message) for key, message in note.reasons],
        }
        for note in notes
    ]


def _render_import(http_request, form, *, checked=None, token="", options=None, status=200):
    report = checked.report if checked is not None else None
    context = {
        "cpts": http_request.cpts,
        "form": form,
        "report": report,
        "token": token,
        "options": options or {},
        "columns": COLUMNS,
    }
    if report is not None:
        context |= {
            "accepted": _report_rows(report.shown("accepted")),
            "duplicates": _report_rows(report.shown("duplicates")),
            "refused": _report_rows(report.shown("refused")),
        }
    return render(http_request, "intake/cpam_lists/import.html", context, status=status)


@cpts_role_required(*ROLES)
@require_http_methods(["GET", "POST"])
def cpam_list_upload(http_request, cpts_slug: str):
    cpts = http_request.cpts
    if http_request.method == "POST" and (
        "confirm" in http_request.POST or "cancel" in http_request.POST
    ):
        return _confirm(http_request, cpts)
    form = CpamListUploadForm(http_request.POST or None, http_request.FILES or None)
    if http_request.method != "POST":
        return _render_import(http_request, form)
    if not form.is_valid():
        return _render_import(http_request, form, status=400)
    _forget_pending(http_request)
    data = form.cleaned_data["file"].read()
    options = {name: form.cleaned_data[name] for name in OPTIONS}
    options["list_date"] = options["list_date"].isoformat()
    try:
        checked = cpam_list_preview(data, cpts=cpts, campaign_name=options["campaign_name"])
    except CpamListFormatError as error:
        form.add_error("file", str(error))
        return _render_import(http_request, form, status=400)
    token = _keep_pending(http_request, data, options) if checked.people else ""
    return _render_import(http_request, form, checked=checked, token=token, options=options)


def _confirm(http_request, cpts):
    """Second step: import the file kept at the first step, or drop it."""
    pending = http_request.session.get(PENDING_SESSION_KEY)
    token = http_request.POST.get("confirm") or http_request.POST.get("cancel") or ""
    upload_url = reverse("intake_staff:cpam_list_upload", kwargs={"cpts_slug": cpts.slug})
    if not pending or not secrets.compare_digest(pending["token"], token):
        messages.error(
            http_request,
            "Cet import n'est plus en attente de confirmation : envoyez à nouveau le fichier.",
        )
        return redirect(upload_url)
    if "cancel" in http_request.POST:
        _forget_pending(http_request)
        messages.info(http_request, "Import annulé : rien n'a été enregistré.")
        return redirect(upload_url)
    if pending_path(_pending_dir(), pending["token"]) is None:
        _forget_pending(http_request)
        messages.error(http_request, FILE_GONE)
        return redirect(upload_url)
    # the import runs as a background operation, which takes the waiting file over
    return operation_start_response(
        http_request,
        kind=CPAM_LIST_IMPORT,
        back=upload_url,
        params={key: pending[key] for key in ("token", *OPTIONS)},
        started=lambda: http_request.session.pop(PENDING_SESSION_KEY, None),
    )


# --- the person's refusal (public, signed link) ------------------------------------------------


@require_http_methods(["GET", "POST"])
def cpam_opt_out(http_request, token: str):
    try:
        request = request_for_opt_out_token(token)
    except LinkError as error:
        return render(
            http_request, "intake/followup_invalid.html", {"reason": error.reason}, status=404
        )
    context = {"cpts": request.cpts, "r": request, "token": token}
    if http_request.method == "POST" and not request.is_closed:
        with contextlib.suppress(TransitionRefused):  # closed meanwhile: the page says so
            cpam_opt_out_record(request=request, by_patient=True)
        request.refresh_from_db()
    if request.is_closed:
        context["refused"] = request.closed_reason == ClosedReason.OPTED_OUT
        return render(http_request, "intake/cpam_lists/opt_out_done.html", context)
    return render(http_request, "intake/cpam_lists/opt_out.html", context)
