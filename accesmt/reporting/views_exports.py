"""Downloads: every indicator table and every section as CSV / XLSX, the yearly ACI report
(XLSX, PDF), the one-page PDF per commune for the mairie, and — for coordinators only — the
exports of rows about persons (the queue, the requests of a period), audited.

Periods come from the query string as on the indicator pages (`?periode=&debut=&fin=`,
default: the current contract year). Masking follows the reader (`scope_for`), except the
commune sheet, always masked. URLs never carry personal data: the person exports are asked for
with a POST whose fields are the queue's filters or a period."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from accesmt.accounts.access import cpts_role_required
from accesmt.accounts.models import AuditAction
from accesmt.accounts.services import audit_record_many
from accesmt.intake.queue import QUEUE_ROLES, QueueFilters, parse_references, selected_requests
from accesmt.intake.selectors import MEDIATOR_ROLES, rights_help_requests
from accesmt.notifications.operation_pages import operation_start_response

from . import catalogue
from .access import REPORTING_ROLES, scope_for
from .export_operations import PERSON_EXPORT
from .exports import aci_report, commune_sheet, persons, rights_worklist
from .exports.tables import CSV_TYPE, XLSX_TYPE, rows_csv, rows_xlsx, tables_csv, tables_xlsx
from .models import ReportingSettings
from .periods import KINDS, PeriodError, aci_year, period_from_query

TYPES = {"csv": CSV_TYPE, "xlsx": XLSX_TYPE, "pdf": aci_report.PDF_TYPE}


def _download(content: bytes, fmt: str, filename: str, *, inline: bool = False) -> HttpResponse:
    response = HttpResponse(content, content_type=TYPES[fmt])
    disposition = "inline" if inline else "attachment"
    response["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


def _period(http_request, query=None):
    """The period asked for, or None when a parameter is wrong (the caller answers 400)."""
    settings = ReportingSettings.for_cpts(http_request.cpts)
    try:
        return period_from_query(
            http_request.GET if query is None else query,
            contract_start=settings.aci_contract_start,
        )
    except PeriodError:
        return None


def _bad_period() -> HttpResponse:
    return HttpResponseBadRequest(
        "Période invalide : choisissez-la sur la page des indicateurs.".encode(),
        content_type="text/plain; charset=utf-8",
    )


def _tables_file(tables, period, scope, fmt: str, name: str, title: str) -> HttpResponse:
    if fmt == "csv":
        content = tables_csv(tables, period, masked=scope.masked)
    else:
        content = tables_xlsx(tables, period, masked=scope.masked, title=title)
    return _download(content, fmt, f"{name}-{period.slug}.{fmt}")


@cpts_role_required(*REPORTING_ROLES)
def table_export(http_request, cpts_slug: str, code: str, fmt: str):
    """One indicator's table, as on its page."""
    try:
        item = catalogue.get(code)
    except KeyError:
        raise Http404("Page introuvable.") from None
    scope = scope_for(http_request)
    if not catalogue.visible(item, scope):
        raise Http404("Page introuvable.")
    period = _period(http_request)
    if period is None:
        return _bad_period()
    table = item.compute(scope, period)
    return _tables_file([table], period, scope, fmt, code.replace(".", "-"), item.title)


@cpts_role_required(*REPORTING_ROLES)
def section_export(http_request, cpts_slug: str, section_slug: str, fmt: str):
    """Every table of a section: one CSV with a block per table, or one sheet per table."""
    section = catalogue.SECTION_OF_SLUG.get(section_slug)
    if section is None:
        raise Http404("Page introuvable.")
    scope = scope_for(http_request)
    period = _period(http_request)
    if period is None:
        return _bad_period()
    tables = [item.compute(scope, period) for item in catalogue.of_section(section, scope)]
    title = f"Indicateurs — {catalogue.SECTIONS[section]}"
    return _tables_file(tables, period, scope, fmt, f"indicateurs-{section_slug}", title)


@cpts_role_required(*REPORTING_ROLES)
def aci_report_file(http_request, cpts_slug: str, fmt: str):
    """The yearly ACI report for a contract year (the period's contract year by default)."""
    scope = scope_for(http_request)
    period = _period(http_request)
    if period is None:
        return _bad_period()
    if period.kind != "aci":  # the contract year containing the period asked for
        settings = ReportingSettings.for_cpts(http_request.cpts)
        period = aci_year(settings.aci_contract_start, period.start)
    render_file = aci_report.report_pdf if fmt == "pdf" else aci_report.report_xlsx
    content = render_file(scope, period)
    return _download(content, fmt, aci_report.filename(scope.cpts, period, fmt))


def _communes_of(http_request):
    return scope_for(http_request).territory_communes().order_by("name")


@cpts_role_required(*REPORTING_ROLES)
def communes(http_request, cpts_slug: str):
    """The communes of the territory, each with the link to its one-page PDF."""
    period = _period(http_request)
    if period is None:
        return _bad_period()
    return render(
        http_request,
        "reporting/communes.html",
        {
            "cpts": http_request.cpts,
            "communes": _communes_of(http_request),
            "period": period,
            "period_query": urlencode(period.as_query()),
        },
    )


@cpts_role_required(*REPORTING_ROLES)
def commune_pdf(http_request, cpts_slug: str, insee: str):
    """The mairie's one-page sheet of one commune of the territory, always masked."""
    commune = _communes_of(http_request).filter(pk=insee).first()
    if commune is None:
        raise Http404("Page introuvable.")
    period = _period(http_request)
    if period is None:
        return _bad_period()
    content = commune_sheet.commune_pdf(scope_for(http_request), commune, period)
    return _download(content, "pdf", commune_sheet.filename(commune, period), inline=True)


def _person_rows_file(http_request, requests, fmt: str, name: str) -> HttpResponse:
    audit_record_many(
        actor=http_request.user,
        action=AuditAction.EXPORT,
        objects=requests,
        cpts=http_request.cpts,
        http_request=http_request,
    )
    rows = persons.rows(requests)
    if fmt == "csv":
        content = rows_csv(persons.COLUMNS, rows)
    else:
        content = rows_xlsx(persons.COLUMNS, rows, title="Demandes", note=persons.WARNING)
    return _download(content, fmt, f"{name}.{fmt}")


def _checked(http_request):
    """The requests checked on a page of the queue (`reference` fields), or None when one is not
    a request of this CPTS (a tampered form: nothing is exported)."""
    references = parse_references(http_request.POST.getlist("reference"))
    if references is None:
        return None
    return selected_requests(cpts=http_request.cpts, user=http_request.user, references=references)


def _unknown_checked() -> HttpResponse:
    return HttpResponseBadRequest(
        b"Demandes inconnues : cochez-les de nouveau sur la page des demandes.",
        content_type="text/plain; charset=utf-8",
    )


@require_http_methods(["GET", "POST"])
@cpts_role_required(*QUEUE_ROLES)
def person_export(http_request, cpts_slug: str):
    """GET: the page that says what the export holds and that it is traced, with the queue's
    filters and a period to choose. POST (`export` = "file", "periode" or "cochees", `format` =
    "csv" or "xlsx"): the checked rows (50 at most) are the file at once; the queue or a period
    start a background operation whose progress page gives the file (export_operations). Every
    exported request is audited. The queue's « Exporter les
    cochées » posts the checked references without a format: the same page, for those rows."""
    cpts = http_request.cpts
    if http_request.method == "POST":
        fmt = http_request.POST.get("format")
        kind = http_request.POST.get("export")
        if fmt is None and kind is None:  # « Exporter les cochées » on the queue
            if "reference" not in http_request.POST:
                messages.error(http_request, "Cochez au moins une demande.")
                return redirect("intake_staff:queue", cpts_slug=cpts.slug)
            checked = _checked(http_request)
            if checked is None:
                return _unknown_checked()
            return render(
                http_request,
                "reporting/person_export_checked.html",
                {
                    "cpts": cpts,
                    "checked": checked,
                    "warning": persons.WARNING,
                    "columns": persons.COLUMNS,
                },
            )
        if fmt not in ("csv", "xlsx") or kind not in ("file", "periode", "cochees"):
            return HttpResponseBadRequest(b"Export inconnu.", content_type="text/plain")
        if kind == "cochees":
            checked = _checked(http_request)
            if checked is None:
                return _unknown_checked()
            return _person_rows_file(http_request, checked, fmt, f"demandes-cochees-{cpts.slug}")
        if kind == "periode" and _period(http_request, http_request.POST) is None:
            return _bad_period()
        # the queue or a period: as many rows as the queue, written by a background operation
        return operation_start_response(
            http_request,
            kind=PERSON_EXPORT,
            back=reverse("reporting:person_export", kwargs={"cpts_slug": cpts.slug}),
            params={
                "export": kind,
                "format": fmt,
                "filters": QueueFilters.from_query(http_request.POST).as_query(),
                "period": {
                    k: http_request.POST.get(k, "")[:20] for k in ("periode", "debut", "fin")
                },
            },
        )
    filters = QueueFilters.from_query(http_request.GET)
    period = _period(http_request) or _period(http_request, {})
    return render(
        http_request,
        "reporting/person_export.html",
        {
            "cpts": cpts,
            "filters": filters,
            "filter_fields": sorted(filters.as_query().items()),
            "filter_words": persons.describe(filters),
            "period": period,
            "kinds": KINDS,
            "warning": persons.WARNING,
            "columns": persons.COLUMNS,
        },
    )


@require_http_methods(["POST"])
@cpts_role_required(*MEDIATOR_ROLES)
def rights_export(http_request, cpts_slug: str):
    """The CPAM mediator's own list (every page of the worklist) as CSV, one row per household
    with its latest outcome; every exported request audited ("export"). POST only: the
    worklist's button, so that no link to it lingers in a history."""
    cpts = http_request.cpts
    requests = list(rights_help_requests(cpts=cpts, user=http_request.user))
    audit_record_many(
        actor=http_request.user,
        action=AuditAction.EXPORT,
        objects=requests,
        cpts=cpts,
        http_request=http_request,
    )
    content = rows_csv(rights_worklist.COLUMNS, rights_worklist.rows(requests))
    return _download(content, "csv", f"acces-aux-droits-{cpts.slug}.csv")
