"""The coordinator's transfer plan pages, under `espace/<cpts_slug>/transferts/`: the list and
opening of plans, the plan page (receivers, allocation over months, the month table placed /
asked / refused / left, asking a month's receivers), the bulk import (preview then confirm,
the file kept server-side between both steps as for a CPAM list; the confirmed import runs as a
background operation, transfers/operations.py), the CSV template and the
printable consent letter. Coordinators of the CPTS only; a plan of another CPTS answers 404."""

from __future__ import annotations

import datetime
import secrets

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from accesmt.accounts.access import cpts_role_required
from accesmt.accounts.models import AuditAction, Role
from accesmt.accounts.services import audit_record
from accesmt.common.pending_files import pending_delete, pending_keep, pending_path
from accesmt.notifications.operation_pages import operation_start_response

from .forms import TransferConfirmForm, TransferImportForm, TransferPlanForm, TransferReceiverForm
from .importer import (
    COLUMNS,
    TransferFormatError,
    template_csv,
    transfer_import_preview,
)
from .letter import render_consent_letter
from .models import TransferPlan
from .operations import TRANSFER_IMPORT, pending_dir
from .services import (
    plan_month_list,
    plan_month_rows,
    transfer_month_send,
    transfer_plan_allocate,
    transfer_plan_create,
    transfer_receiver_remove,
    transfer_receiver_set,
)

ROLES = (Role.COORDINATOR,)
PENDING_KEY = "transfer_import_pending"


def _plan(http_request, pk: int) -> TransferPlan:
    plan = (
        TransferPlan.objects.for_user(http_request.user, ROLES)
        .filter(cpts=http_request.cpts, pk=pk)
        .select_related("practitioner", "cpts")
        .first()
    )
    if plan is None:
        raise Http404
    return plan


def _apply_errors(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


@cpts_role_required(*ROLES)
@require_http_methods(["GET", "POST"])
def plans(http_request, cpts_slug: str):
    cpts = http_request.cpts
    form = TransferPlanForm(http_request.POST or None, cpts=cpts)
    if http_request.method == "POST" and form.is_valid():
        try:
            plan = transfer_plan_create(cpts=cpts, by=http_request.user, **form.cleaned_data)
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            messages.success(http_request, "Plan de transfert ouvert.")
            return redirect("orientation:transfer_plan", cpts_slug=cpts.slug, pk=plan.pk)
    context = {
        "cpts": cpts,
        "form": form,
        "plans": TransferPlan.objects.for_user(http_request.user, ROLES)
        .filter(cpts=cpts)
        .select_related("practitioner")[:100],
    }
    return render(
        http_request,
        "orientation/transfers/plans.html",
        context,
        status=400 if form.errors else 200,
    )


@cpts_role_required(*ROLES)
@require_http_methods(["GET", "POST"])
def plan_detail(http_request, cpts_slug: str, pk: int):
    cpts = http_request.cpts
    plan = _plan(http_request, pk)
    receiver_form = TransferReceiverForm(
        http_request.POST if http_request.POST.get("action") == "receiver" else None,
        cpts=cpts,
        plan=plan,
    )
    status = 200
    if http_request.method == "POST" and plan.is_open:
        action = http_request.POST.get("action", "")
        if action == "receiver":
            if receiver_form.is_valid():
                try:
                    transfer_receiver_set(plan=plan, **receiver_form.cleaned_data)
                except ValidationError as error:
                    _apply_errors(receiver_form, error)
                else:
                    messages.success(http_request, "Médecin receveur enregistré.")
                    return redirect(http_request.path)
            status = 400
        elif action == "remove_receiver":
            gp = http_request.POST.get("practitioner", "")
            if gp.isdigit() and transfer_receiver_remove(plan=plan, practitioner_id=int(gp)):
                messages.success(
                    http_request,
                    "Médecin receveur retiré ; ses foyers pas encore sollicités sont à répartir "
                    "de nouveau.",
                )
            else:
                messages.error(http_request, "Ce médecin n'est pas receveur de ce plan.")
            return redirect(http_request.path)
        elif action == "allocate":
            try:
                outcome = transfer_plan_allocate(plan=plan)
            except ValidationError as error:
                messages.error(http_request, " ".join(error.messages))
            else:
                messages.success(
                    http_request,
                    f"Répartition calculée sur {outcome.months} mois : {outcome.proposed} "
                    f"foyer(s) avec un médecin et un mois prévus, {outcome.unplaced} sans.",
                )
            return redirect(http_request.path)
        elif action == "send":
            try:
                month = datetime.date.fromisoformat(http_request.POST.get("month", ""))
            except ValueError:
                messages.error(http_request, "Mois inconnu.")
                return redirect(http_request.path)
            sent, skipped = transfer_month_send(plan=plan, month=month, by=http_request.user)
            messages.success(
                http_request,
                f"{len(sent)} foyer(s) proposé(s) aux médecins receveurs (lien signé, sans nom).",
            )
            if skipped:
                messages.warning(http_request, "Non envoyées : " + ", ".join(skipped) + ".")
            return redirect(http_request.path)
    audit_record(actor=http_request.user, action=AuditAction.READ, obj=plan, cpts=cpts)
    months = plan_month_list(plan) if plan.is_open else []
    context = {
        "cpts": cpts,
        "plan": plan,
        "receivers": plan.receivers.select_related("practitioner").order_by(
            "practitioner__last_name"
        ),
        "receiver_form": receiver_form,
        "month_rows": plan_month_rows(plan),
        "months": months,
        "household_count": plan.households.count(),
    }
    return render(http_request, "orientation/transfers/plan.html", context, status=status)


def _keep_pending(http_request, plan, data: bytes) -> str:
    token = pending_keep(pending_dir(), data=data)
    http_request.session[PENDING_KEY] = {"token": token, "plan": plan.pk}
    return token


def _forget_pending(http_request) -> None:
    pending = http_request.session.pop(PENDING_KEY, None)
    if pending:
        pending_delete(pending_dir(), pending["token"])


def _rows(notes):
    titles = {c[0]: c[1] for c in COLUMNS} | {"insee_code": "code INSEE"}
    return [
        {
            "line": n.line,
            "name": n.name,
            "reference": n.reference,
            "reasons": [(titles.get(k, ""), m) for k, m in n.reasons],
        }
        for n in notes
    ]


def _render_import(http_request, plan, form, *, preview=None, token="", confirm=None, status=200):
    context = {
        "cpts": http_request.cpts,
        "plan": plan,
        "form": form,
        "confirm_form": confirm or TransferConfirmForm(),
        "preview": preview,
        "token": token,
        "columns": COLUMNS,
    }
    if preview is not None:
        report = preview.report
        context |= {
            "refused": _rows(report.shown("refused")),
            "duplicates": _rows(report.shown("duplicates")),
        }
    return render(http_request, "orientation/transfers/import.html", context, status=status)


@cpts_role_required(*ROLES)
@require_http_methods(["GET", "POST"])
def plan_import(http_request, cpts_slug: str, pk: int):
    plan = _plan(http_request, pk)
    if not plan.is_open:
        raise Http404
    if http_request.method == "POST" and (
        "confirm" in http_request.POST or "cancel" in http_request.POST
    ):
        return _confirm(http_request, plan)
    form = TransferImportForm(http_request.POST or None, http_request.FILES or None)
    if http_request.method != "POST":
        return _render_import(http_request, plan, form)
    if not form.is_valid():
        return _render_import(http_request, plan, form, status=400)
    _forget_pending(http_request)
    data = form.cleaned_data["file"].read()
    try:
        preview = transfer_import_preview(data, plan=plan)
    except TransferFormatError as error:
        form.add_error("file", str(error))
        return _render_import(http_request, plan, form, status=400)
    token = _keep_pending(http_request, plan, data) if preview.can_confirm else ""
    return _render_import(http_request, plan, form, preview=preview, token=token)


def _confirm(http_request, plan):
    import_url = reverse(
        "orientation:transfer_import", kwargs={"cpts_slug": plan.cpts.slug, "pk": plan.pk}
    )
    pending = http_request.session.get(PENDING_KEY)
    token = http_request.POST.get("confirm") or http_request.POST.get("cancel") or ""
    if (
        not pending
        or pending.get("plan") != plan.pk
        or not secrets.compare_digest(pending["token"], token)
    ):
        messages.error(
            http_request, "Cet import n'est plus en attente : envoyez à nouveau le fichier."
        )
        return redirect(import_url)
    if "cancel" in http_request.POST:
        _forget_pending(http_request)
        messages.info(http_request, "Import annulé : rien n'a été enregistré.")
        return redirect(import_url)
    path = pending_path(pending_dir(), pending["token"])
    if path is None:
        _forget_pending(http_request)
        messages.error(http_request, "Le fichier n'est plus disponible : envoyez-le à nouveau.")
        return redirect(import_url)
    confirm = TransferConfirmForm(http_request.POST)
    if not confirm.is_valid():
        preview = transfer_import_preview(path.read_bytes(), plan=plan)
        return _render_import(
            http_request,
            plan,
            TransferImportForm(),
            preview=preview,
            token=token,
            confirm=confirm,
            status=400,
        )
    # the import runs as a background operation, which takes the waiting file over
    return operation_start_response(
        http_request,
        kind=TRANSFER_IMPORT,
        back=import_url,
        params={"token": pending["token"], "plan": plan.pk},
        started=lambda: http_request.session.pop(PENDING_KEY, None),
    )


@cpts_role_required(*ROLES)
@require_GET
def plan_template(http_request, cpts_slug: str, pk: int):
    _plan(http_request, pk)
    response = HttpResponse(template_csv().encode("utf-8-sig"), content_type="text/csv")
    response["Content-Disposition"] = 'attachment; filename="modele-plan-de-transfert.csv"'
    return response


@cpts_role_required(*ROLES)
@require_GET
def plan_letter(http_request, cpts_slug: str, pk: int):
    plan = _plan(http_request, pk)
    response = HttpResponse(render_consent_letter(plan), content_type="application/pdf")
    response["Content-Disposition"] = 'inline; filename="lettre-plan-de-transfert.pdf"'
    return response
