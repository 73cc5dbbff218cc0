"""The coordinator's queue and request page (edit, verify, close, reopen, merge duplicates).

Every request is opened through `access_record` (tenant, role, audit line); every change goes
through a service (`editing.request_update`, `merge.request_merge`, `merge.duplicate_dismiss`)
or `lifecycle.request_transition`. URLs carry the reference, never personal data.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from accesmt.accounts.access import access_record, cpts_role_required
from accesmt.accounts.models import AuditAction
from accesmt.accounts.services import audit_record
from accesmt.common.phones import format_phone_for_display

from ..editing import request_edit_initial, request_update
from ..forms import EditMemberFormSet, HouseholdForm
from ..lifecycle import (
    COORDINATOR_ACTIONS,
    TransitionRefused,
    coordinator_actions,
    request_transition,
)
from ..merge import duplicate_dismiss, merged_into, request_merge
from ..models import DuplicateFlag, Request, Status
from ..queue import QUEUE_ROLES
from ..selectors import duplicates_of, request_timeline, wrong_number_warning
from ..services import NotEligible
from ..split import SPLITTABLE, request_split
from ._common import error_summary

ROLES = QUEUE_ROLES
EDIT_CHANNEL = "edit"  # HouseholdForm without consent fields nor honeypot
MEMBERS_PREFIX = "membres"


def _requests_of(cpts):
    return Request.objects.filter(cpts=cpts)


def _open(http_request, cpts, reference: str, *, action: str = AuditAction.READ) -> Request:
    queryset = _requests_of(cpts).select_related(
        "cpts", "commune", "referrer", "created_by", "cpam_list"
    )
    return access_record(http_request, queryset, {"reference": reference}, ROLES, action=action)


def _detail(cpts, request: Request):
    return redirect("intake_staff:request_detail", cpts_slug=cpts.slug, reference=request.reference)


def detail_context(cpts, request: Request, **forms) -> dict:
    """What the request page shows; `forms` are the call and note forms (bound when a POST of
    `views.calls` is refused)."""
    from .calls import CallForm, NoteForm

    actions = coordinator_actions(request)
    timeline = request_timeline(request)
    return {
        "cpts": cpts,
        "r": request,
        "phone_display": format_phone_for_display(request.phone),
        "wrong_number": wrong_number_warning(timeline),
        "members": request.members.order_by("position", "pk"),
        "reasons": request.priority_reasons.select_related("member").order_by("pk"),
        "timeline": timeline,
        "rights_outcomes": request.rights_outcomes.order_by("-on", "-pk"),
        "duplicates": duplicates_of(request),
        "merged_into": merged_into(request) if request.is_closed else None,
        "actions": actions,
        "other_actions": [a for a in actions.values() if a.destructive],
        "can_split": request.status in SPLITTABLE,
        "call_form": forms.get("call_form") or CallForm(),
        "note_form": forms.get("note_form") or NoteForm(),
    }


@cpts_role_required(*ROLES)
def request_detail(http_request, cpts_slug: str, reference: str):
    cpts = http_request.cpts
    request = _open(http_request, cpts, reference)
    return render(http_request, "intake/coordinator/detail.html", detail_context(cpts, request))


@cpts_role_required(*ROLES)
@require_http_methods(["GET", "POST"])
def request_edit(http_request, cpts_slug: str, reference: str):
    cpts = http_request.cpts
    request = _open(http_request, cpts, reference)
    if request.is_closed:
        messages.error(http_request, "Cette demande est clôturée : rouvrez-la pour la modifier.")
        return _detail(cpts, request)
    household_initial, members_initial = request_edit_initial(request)
    data = http_request.POST if http_request.method == "POST" else None
    household = HouseholdForm(data, cpts=cpts, channel=EDIT_CHANNEL, initial=household_initial)
    members = EditMemberFormSet(data, prefix=MEMBERS_PREFIX, initial=members_initial)
    if data is not None and household.is_valid() & members.is_valid():
        member_values = members.member_values()
        try:
            request_update(
                request=request,
                household=household.household_values(),
                members=member_values,
                by=http_request.user,
                http_request=http_request,
            )
        except NotEligible as refusal:
            household.add_error(
                "postcode",
                f"{refusal.commune.name} n'est pas sur le territoire de {cpts.name}.",
            )
        except ValidationError as error:
            for message in error.messages:
                household.add_error(None, message)
        else:
            messages.success(http_request, f"Demande {request.reference} modifiée.")
            return _detail(cpts, request)
    context = {
        "cpts": cpts,
        "r": request,
        "household": household,
        "members": members,
        "errors": error_summary(household, members) if data is not None else [],
    }
    status = 400 if data is not None else 200
    return render(http_request, "intake/coordinator/edit.html", context, status=status)


def _confirm(http_request, cpts, request: Request, action, *, reason: str, error: str = ""):
    """The confirmation step of a destructive action (close, refusal, reopen): the same POST
    again with `confirm=1`, or « Annuler » back to the request page."""
    context = {
        "cpts": cpts,
        "r": request,
        "action": action,
        "question": action.question.format(reference=request.reference),
        "reason": reason,
        "note": http_request.POST.get("note", "").strip()[:300],
        "error": error,
    }
    return render(
        http_request,
        "intake/coordinator/confirm_status.html",
        context,
        status=400 if error else 200,
    )


@cpts_role_required(*ROLES)
@require_POST
def request_status(http_request, cpts_slug: str, reference: str):
    """Verify, put back « à vérifier », close, record a refusal, reopen. A destructive action
    (`Action.destructive`) first answers a confirmation step: only a POST with `confirm=1`
    moves the request."""
    cpts = http_request.cpts
    request = _open(http_request, cpts, reference)
    action = COORDINATOR_ACTIONS.get(http_request.POST.get("action", ""))
    if action is None:
        messages.error(http_request, "Action inconnue.")
        return _detail(cpts, request)
    if action.channels is not None and request.channel not in action.channels:
        messages.error(http_request, "Cette action ne concerne pas cette demande.")
        return _detail(cpts, request)
    if action.code == "reopen" and not request.is_closed:
        messages.error(http_request, "Cette demande n'est pas clôturée.")
        return _detail(cpts, request)
    reason = http_request.POST.get("reason", "") if action.reasons else ""
    if len(action.reasons) == 1:
        reason = action.reasons[0][0]
    confirmed = http_request.POST.get("confirm") == "1"
    if action.destructive and not confirmed:
        if action.code not in coordinator_actions(request):
            messages.error(http_request, "Cette action n'est pas possible pour cette demande.")
            return _detail(cpts, request)
        return _confirm(http_request, cpts, request, action, reason=reason)
    if action.reasons and reason not in dict(action.reasons):
        return _confirm(
            http_request, cpts, request, action, reason="", error="Choisissez le motif de clôture."
        )
    target = action.to
    try:
        request_transition(
            request=request,
            to=target,
            by=http_request.user,
            reason=reason,
            note=http_request.POST.get("note", "").strip()[:300],
        )
    except TransitionRefused as refusal:
        messages.error(http_request, " ".join(refusal.messages))
    else:
        audit_record(
            actor=http_request.user,
            action=AuditAction.TRANSITION,
            obj=request,
            cpts=cpts,
            http_request=http_request,
        )
        messages.success(http_request, f"Demande {request.reference} : {Status(target).label}.")
    return _detail(cpts, request)


@cpts_role_required(*ROLES)
@require_POST
def request_merge_view(http_request, cpts_slug: str, reference: str):
    cpts = http_request.cpts
    this = _open(http_request, cpts, reference)
    other_reference = http_request.POST.get("other", "").strip()
    if not other_reference or other_reference == this.reference:
        raise Http404
    other = _open(http_request, cpts, other_reference)
    keep, duplicate = (other, this) if http_request.POST.get("keep") == "other" else (this, other)
    try:
        result = request_merge(
            keep=keep, duplicate=duplicate, by=http_request.user, http_request=http_request
        )
    except (ValidationError, TransitionRefused) as error:
        messages.error(http_request, " ".join(error.messages))
        return _detail(cpts, this)
    added = len(result.members_added)
    messages.success(
        http_request,
        f"{duplicate.reference} fusionnée dans {keep.reference} et clôturée comme doublon"
        + (
            f" ; {added} personne{'s' if added > 1 else ''} ajoutée{'s' if added > 1 else ''}"
            if added
            else ""
        )
        + ".",
    )
    return _detail(cpts, keep)


@cpts_role_required(*ROLES)
@require_POST
def duplicate_dismiss_view(http_request, cpts_slug: str, reference: str, flag_id: int):
    cpts = http_request.cpts
    this = _open(http_request, cpts, reference)
    flag = (
        DuplicateFlag.objects.filter(pk=flag_id, resolved_at__isnull=True)
        .filter(Q(request=this) | Q(other_request=this, request__cpts=cpts))
        .select_related("request__cpts")
        .first()
    )
    if flag is None:
        raise Http404
    duplicate_dismiss(flag=flag, by=http_request.user, http_request=http_request)
    messages.success(http_request, "Doublon possible écarté : ce ne sont pas les mêmes personnes.")
    return _detail(cpts, this)


@cpts_role_required(*ROLES)
@require_POST
def request_split_view(http_request, cpts_slug: str, reference: str):
    cpts = http_request.cpts
    this = _open(http_request, cpts, reference, action=AuditAction.UPDATE)
    try:
        new = request_split(
            request=this,
            member_ids=http_request.POST.getlist("member"),
            by=http_request.user,
            http_request=http_request,
        )
    except ValidationError as error:
        messages.error(http_request, " ".join(error.messages))
        return _detail(cpts, this)
    messages.success(
        http_request, f"Foyer séparé : les personnes cochées sont dans la demande {new.reference}."
    )
    return _detail(cpts, new)


def detail_url(request: Request) -> str:
    """The request page, for other views (phone entry, notifications to coordinators)."""
    return reverse(
        "intake_staff:request_detail",
        kwargs={"cpts_slug": request.cpts.slug, "reference": request.reference},
    )
