"""A person's rights from their follow-up link (issue 14): see and download everything held
(page, PDF, JSON), correct their household, erase it. The coordinator's counterparts, on the
person's behalf, are in `coordinator_rights.py`."""

from __future__ import annotations

import json

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from accesmt.accounts.models import AuditAction
from accesmt.accounts.services import audit_record

from ..editing import request_edit_initial, request_update
from ..forms import EditMemberFormSet, HouseholdForm
from ..models import Request
from ..personal_data import RIGHTS, as_json, as_pdf, as_sections, personal_data, request_erase
from ..services import NotEligible
from ._common import error_summary
from .followup import by_token

EDIT_CHANNEL = "edit"  # HouseholdForm without consent fields nor honeypot
CONTACT_FIELDS = ("address", "postcode", "commune_name", "phone", "email", "postal_only")
MEMBERS_PREFIX = "membres"


def audit_export(http_request, request: Request, *, kind: str, actor=None) -> None:
    """Seeing the data is a read, downloading them an export; `actor` None is the person."""
    action = AuditAction.READ if kind == "page" else AuditAction.EXPORT
    audit_record(
        actor=actor, action=action, obj=request, cpts=request.cpts, http_request=http_request
    )


def export_response(request: Request, kind: str) -> HttpResponse:
    """The download of everything held about `request`: "pdf" or "json" (UTF-8, the keys of
    docs/donnees-personnelles.md), never cached."""
    data = personal_data(request)
    if kind == "json":
        body = json.dumps(as_json(data, cpts=request.cpts), ensure_ascii=False, indent=2)
        response = HttpResponse(body, content_type="application/json; charset=utf-8")
    else:
        pdf = as_pdf(request, as_sections(data), rights=RIGHTS)
        response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="donnees-{request.reference}.{kind}"'
    response["Cache-Control"] = "no-store"
    return response


def data_page_context(request: Request) -> dict:
    return {"sections": as_sections(personal_data(request)), "rights": RIGHTS}


@require_GET
@by_token
def my_data(http_request, request, token: str):
    audit_export(http_request, request, kind="page")
    context = {"intake_request": request, "cpts": request.cpts, "token": token}
    return render(http_request, "intake/my_data.html", context | data_page_context(request))


@require_GET
@by_token
def my_data_pdf(http_request, request, token: str):
    audit_export(http_request, request, kind="pdf")
    return export_response(request, "pdf")


@require_GET
@by_token
def my_data_json(http_request, request, token: str):
    audit_export(http_request, request, kind="json")
    return export_response(request, "json")


@require_http_methods(["GET", "POST"])
@by_token
def correct(http_request, request, token: str):
    """Every field the person gave but the contacts and the address (the follow-up page's own
    form), people added or removed included: the coordinator's edit forms and service, so the
    same validation, the priority computed again and one audit line `update` without an actor
    (the person)."""
    context = {"intake_request": request, "cpts": request.cpts, "token": token}
    if request.is_closed:
        return render(http_request, "intake/correct.html", context)
    household_initial, members_initial = request_edit_initial(request)
    data = None
    if http_request.method == "POST":
        # The contacts stay as they are: taken from the request, not from the form.
        data = http_request.POST.copy()
        for name in CONTACT_FIELDS:
            data.pop(name, None)
            value = household_initial[name]
            if value not in (None, "", False):
                data[name] = "on" if value is True else value
    household = HouseholdForm(
        data, cpts=request.cpts, channel=EDIT_CHANNEL, initial=household_initial
    )
    members = EditMemberFormSet(data, prefix=MEMBERS_PREFIX, initial=members_initial)
    if data is not None and household.is_valid() & members.is_valid():
        try:
            request_update(
                request=request,
                household=household.household_values(),
                members=members.member_values(),
                by=None,
                http_request=http_request,
            )
        except NotEligible:  # the address is not part of this form: cannot happen here
            household.add_error(None, "Cette correction n'est pas possible : appelez la CPTS.")
        except ValidationError as error:
            for message in error.messages:
                household.add_error(None, message)
        else:
            messages.success(http_request, "Vos informations ont été corrigées.")
            return redirect("intake:followup", token=token)
    context |= {
        "household": household,
        "members": members,
        "errors": error_summary(household, members) if data is not None else [],
    }
    return render(http_request, "intake/correct.html", context, status=400 if data else 200)


class EraseForm(forms.Form):
    confirm = forms.BooleanField(
        label="Je demande l'effacement de toutes les données de mon foyer. Je comprends que la "
        "CPTS ne cherchera plus de médecin pour nous et que l'effacement est définitif.",
        error_messages={"required": "Cochez la case pour confirmer l'effacement."},
    )


@require_http_methods(["GET", "POST"])
@by_token
def erase(http_request, request, token: str):
    data = http_request.POST if http_request.method == "POST" else None
    form = EraseForm(data, prefix="effacement")
    if http_request.method == "POST" and form.is_valid():
        try:
            erased = request_erase(request=request, http_request=http_request)
        except ValidationError as error:
            form.add_error(None, error.messages[0])
        else:
            context = {"reference": erased.reference, "cpts": erased.cpts}
            return render(http_request, "intake/erased.html", context)
    context = {"intake_request": request, "cpts": request.cpts, "token": token, "form": form}
    status = 400 if form.errors else 200
    return render(http_request, "intake/erase.html", context, status=status)
