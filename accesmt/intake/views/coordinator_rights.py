"""The person's rights exercised by the coordination on their behalf, after a phone call or a
letter (issue 14): the same export as the follow-up link (page, PDF, JSON; the staff's reading
is audited by `access_record`), the correction is the request's edit page, and the erasure asks
how the person asked for it (kept in `Erasure.reason`, the audit line says `erasure`)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from accesmt.accounts.access import cpts_role_required
from accesmt.accounts.models import AuditAction

from ..personal_data import request_erase
from .coordinator import ROLES, _detail, _open
from .personal_data import data_page_context, export_response


class StaffEraseForm(forms.Form):
    reason = forms.CharField(
        label="Comment la personne a-t-elle demandé l'effacement ?",
        help_text="Par exemple : « demande reçue par téléphone le 3 décembre ». Sans nom ni "
        "information de santé.",
        max_length=300,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        error_messages={"required": "Indiquez comment la personne a demandé l'effacement."},
    )
    confirm = forms.BooleanField(
        label="J'efface définitivement les noms, coordonnées et informations de santé de ce foyer.",
        error_messages={"required": "Cochez la case pour confirmer l'effacement."},
    )


@cpts_role_required(*ROLES)
@require_GET
@never_cache
def request_data(http_request, cpts_slug: str, reference: str):
    cpts = http_request.cpts
    request = _open(http_request, cpts, reference)
    context = {"cpts": cpts, "r": request} | data_page_context(request)
    return render(http_request, "intake/coordinator/data.html", context)


@cpts_role_required(*ROLES)
@require_GET
def request_data_export(http_request, cpts_slug: str, reference: str, kind: str):
    request = _open(http_request, http_request.cpts, reference, action=AuditAction.EXPORT)
    return export_response(request, kind)


@cpts_role_required(*ROLES)
@require_http_methods(["GET", "POST"])
def request_erase_view(http_request, cpts_slug: str, reference: str):
    cpts = http_request.cpts
    request = _open(http_request, cpts, reference)
    form = StaffEraseForm(http_request.POST if http_request.method == "POST" else None)
    if request.anonymised_at is not None:
        messages.info(http_request, "Les données de cette demande sont déjà effacées.")
        return _detail(cpts, request)
    if http_request.method == "POST" and form.is_valid():
        try:
            request_erase(
                request=request,
                by=http_request.user,
                reason=form.cleaned_data["reason"],
                http_request=http_request,
            )
        except ValidationError as error:
            form.add_error(None, error.messages[0])
        else:
            messages.success(http_request, f"Les données de la demande {reference} sont effacées.")
            return _detail(cpts, request)
    context = {"cpts": cpts, "r": request, "form": form}
    return render(
        http_request, "intake/coordinator/erase.html", context, status=400 if form.errors else 200
    )
