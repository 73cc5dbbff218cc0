"""Calls and notes on the request page, and the call-back list (issue 13, point 4).

The forms are shown by the request page (`coordinator.detail_context`); their POST comes here,
opens the file through `access_record` (an "update" line in the audit log: a write), goes through
`calls.contact_note_record` and redirects to the page's timeline (`#historique`), or renders the
page again with the French errors next to the fields, nothing stored. The call-back list shows the
pending call-backs due within a week, overdue first, one "read" audit line per request shown.
"""

from __future__ import annotations

import datetime

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from accesmt.accounts.access import cpts_role_required
from accesmt.accounts.models import AuditAction
from accesmt.accounts.services import audit_record_many
from accesmt.common.pagination import bounded_page
from accesmt.common.phones import format_phone_for_display
from accesmt.common.widgets import DateInput

from ..calls import CLOSED_REFUSED, call_back_settle, contact_note_record
from ..models import CONTACT_TEXT_MAX, CallOutcome, ContactKind, ContactNote
from ..queue import QUEUE_ROLES
from ..selectors import CALL_BACK_HORIZON_DAYS, call_backs_due
from .coordinator import _open, detail_context

PAGE_SIZE = 50
TEXT_ERRORS = {"max_length": f"{CONTACT_TEXT_MAX} caractères au plus."}


class CallForm(forms.Form):
    outcome = forms.ChoiceField(
        label="Résultat de l'appel",
        choices=CallOutcome.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choisissez le résultat de l'appel."},
    )
    text = forms.CharField(
        label="Note (facultative)",
        max_length=CONTACT_TEXT_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Ce qui a été dit ; une correction s'écrit dans une nouvelle note.",
        error_messages=TEXT_ERRORS,
    )
    call_back_on = forms.DateField(
        label="Rappeler le (facultatif)",
        required=False,
        widget=DateInput,
        help_text="Aujourd'hui ou plus tard, dans l'année qui vient.",
        error_messages={"invalid": "Indiquez une date valide (jj/mm/aaaa)."},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix="appel", **kwargs)


class NoteForm(forms.Form):
    text = forms.CharField(
        label="Note",
        max_length=CONTACT_TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Une correction s'écrit dans une nouvelle note.",
        error_messages={"required": "Écrivez la note.", **TEXT_ERRORS},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix="note", **kwargs)


def _timeline(cpts, request):
    url = reverse(
        "intake_staff:request_detail",
        kwargs={"cpts_slug": cpts.slug, "reference": request.reference},
    )
    return redirect(f"{url}#historique")


@cpts_role_required(*QUEUE_ROLES)
@require_POST
def contact_note_add(http_request, cpts_slug: str, reference: str, kind: str):
    """Log a call (`kind` "appel") or add a note (`kind` "note")."""
    cpts = http_request.cpts
    request = _open(http_request, cpts, reference, action=AuditAction.UPDATE)
    if request.is_closed:
        messages.error(http_request, CLOSED_REFUSED)
        return _timeline(cpts, request)
    is_call = kind == "appel"
    form = (CallForm if is_call else NoteForm)(http_request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            contact_note_record(
                request=request,
                kind=ContactKind.CALL if is_call else ContactKind.NOTE,
                outcome=data.get("outcome", ""),
                text=data["text"],
                call_back_on=data.get("call_back_on"),
                by=http_request.user,
            )
        except forms.ValidationError as error:
            if hasattr(error, "error_dict"):
                for field, errors in error.error_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                form.add_error(None, error)
        else:
            messages.success(
                http_request,
                f"Appel noté pour {request.reference}." if is_call else "Note ajoutée.",
            )
            return _timeline(cpts, request)
    bound = {"call_form": form} if is_call else {"note_form": form}
    return render(
        http_request,
        "intake/coordinator/detail.html",
        detail_context(cpts, request, **bound),
        status=400,
    )


@cpts_role_required(*QUEUE_ROLES)
@require_POST
def call_back_done(http_request, cpts_slug: str, reference: str, pk: int):
    """« Rappel fait »: settle the call-back planned by call `pk` of the request."""
    cpts = http_request.cpts
    request = _open(http_request, cpts, reference, action=AuditAction.UPDATE)
    note = ContactNote.objects.filter(request=request, pk=pk).first()
    if note is None:
        raise Http404
    if call_back_settle(note=note):
        messages.success(http_request, f"Rappel de {request.reference} marqué comme fait.")
    if http_request.POST.get("next") == "list":
        return redirect("intake_staff:call_backs", cpts_slug=cpts.slug)
    return _timeline(cpts, request)


@cpts_role_required(*QUEUE_ROLES)
def call_back_list(http_request, cpts_slug: str):
    """« À rappeler »: pending call-backs of open requests due within a week, overdue first."""
    cpts = http_request.cpts
    today = timezone.localdate()
    page = bounded_page(
        call_backs_due(cpts=cpts, user=http_request.user, today=today),
        http_request.GET.get("page"),
        PAGE_SIZE,
    )
    rows = list(page.object_list)
    # The list shows phone numbers: one "read" audit line per request shown, in one INSERT.
    audit_record_many(
        actor=http_request.user,
        action=AuditAction.READ,
        objects=[row.request for row in rows],
        cpts=cpts,
        http_request=http_request,
    )
    for row in rows:
        row.phone_display = format_phone_for_display(row.request.phone)
        row.overdue = row.call_back_on < today
    context = {
        "cpts": cpts,
        "page": page,
        "rows": rows,
        "today": today,
        "until": today + datetime.timedelta(days=CALL_BACK_HORIZON_DAYS),
    }
    return render(http_request, "intake/coordinator/call_backs.html", context)
