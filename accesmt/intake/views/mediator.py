"""The CPAM mediator's worklist: open requests whose household asked for help with their rights,
each with the outcomes recorded so far, and the part of the file the mediator may see.

Only what the mediator needs to call the household back and open their rights (reference,
contact person, phone, e-mail, address, coverage, the persons' identity): no health data (no
ALD, conditions, disability, home visits, free comments). Every request shown gets a "read"
line in the audit log, as opening it would; recording an outcome writes an "update" line.
Outcomes go through `intake.rights.rights_outcome_record`.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from accesmt.accounts.access import access_record, cpts_role_required
from accesmt.accounts.models import AuditAction
from accesmt.accounts.services import audit_record_many
from accesmt.common.phones import format_phone_for_display
from accesmt.common.widgets import DateInput

from ..models import OPENED_RIGHTS, Request, RightsOutcomeKind
from ..rights import rights_outcome_record
from ..selectors import MEDIATOR_ROLES, mediator_files, rights_help_requests

PAGE_SIZE = 50


def worklist_rows(rows) -> list:
    for row in rows:
        row.phone_display = format_phone_for_display(row.phone)
        row.contact = row.contacts[0] if row.contacts else None
        row.last_kind_label = RightsOutcomeKind(row.last_kind).label if row.last_kind else ""
    return rows


@cpts_role_required(*MEDIATOR_ROLES)
def rights_help_list(http_request, cpts_slug: str):
    cpts = http_request.cpts
    page = Paginator(rights_help_requests(cpts=cpts, user=http_request.user), PAGE_SIZE).get_page(
        http_request.GET.get("page")
    )
    rows = list(page.object_list)
    # One audit line per request shown, in one INSERT.
    audit_record_many(
        actor=http_request.user,
        action=AuditAction.READ,
        objects=rows,
        cpts=cpts,
        http_request=http_request,
    )
    context = {"cpts": cpts, "page": page, "rows": worklist_rows(rows)}
    return render(http_request, "intake/mediator/list.html", context)


class RightsOutcomeForm(forms.Form):
    kind = forms.ChoiceField(
        label="Ce qui a été fait",
        choices=RightsOutcomeKind.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choisissez ce qui a été fait."},
    )
    opened = forms.MultipleChoiceField(
        label="Droits ouverts",
        choices=list(OPENED_RIGHTS.items()),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="Seulement si des droits ont été ouverts ; plusieurs cases possibles.",
        error_messages={"invalid_choice": "Droit inconnu."},
    )
    on = forms.DateField(
        label="Date",
        widget=DateInput,
        error_messages={
            "required": "Indiquez la date.",
            "invalid": "Indiquez une date valide (jj/mm/aaaa).",
        },
    )
    note = forms.CharField(
        label="Note (facultative)",
        max_length=300,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Ce qui a été fait ou reste à faire, sans aucune donnée de santé.",
        error_messages={"max_length": "300 caractères au plus."},
    )


def _file_context(cpts, request: Request, form: RightsOutcomeForm) -> dict:
    return {
        "cpts": cpts,
        "r": request,
        "phone_display": format_phone_for_display(request.phone),
        "members": request.members.order_by("position", "pk").only(
            "request_id", "first_name", "last_name", "birth_date", "is_contact_person"
        ),
        "outcomes": request.rights_outcomes.select_related("recorded_by").order_by("-on", "-pk"),
        "form": form,
    }


@cpts_role_required(*MEDIATOR_ROLES)
@require_http_methods(["GET", "POST"])
def rights_file(http_request, cpts_slug: str, reference: str):
    """The mediator's view of one request (identity, contacts, coverage, rights needs, outcomes)
    and the form to record an outcome."""
    cpts = http_request.cpts
    posting = http_request.method == "POST"
    request = access_record(
        http_request,
        mediator_files(cpts=cpts).select_related("cpts", "commune"),
        {"reference": reference},
        MEDIATOR_ROLES,
        action=AuditAction.UPDATE if posting else AuditAction.READ,
    )
    form = RightsOutcomeForm(
        http_request.POST if posting else None, initial={"on": timezone.localdate()}
    )
    if posting and form.is_valid():
        data = form.cleaned_data
        try:
            outcome = rights_outcome_record(
                request=request,
                kind=data["kind"],
                opened=set(data["opened"]),
                on=data["on"],
                note=data["note"],
                by=http_request.user,
            )
        except forms.ValidationError as error:
            if hasattr(error, "error_dict"):
                for field, errors in error.error_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                form.add_error(None, error)
        else:
            if outcome.settles_need:
                messages.success(
                    http_request,
                    f"Droits ouverts enregistrés pour {request.reference} : la demande reste dans "
                    "la file d'attente de la coordination, qui est prévenue.",
                )
                return redirect("intake_staff:rights_help", cpts_slug=cpts.slug)
            messages.success(http_request, f"Suite enregistrée pour {request.reference}.")
            return redirect("intake_staff:rights_file", cpts_slug=cpts.slug, reference=reference)
    status = 400 if posting else 200
    return render(
        http_request,
        "intake/mediator/file.html",
        _file_context(cpts, request, form),
        status=status,
    )
