"""What the three intake channels share: build, validate and store the form."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.shortcuts import render

from ..forms import IntakeForms
from ..services import Creation, NotEligible, SubmissionKeyReused, request_create

FORM_TEMPLATE = "intake/form.html"


@dataclass
class Outcome:
    creation: Creation | None = None
    response: object | None = None


def submission_key(data) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(data.get("submission_key", "")))
    except ValueError:
        return None


def territory_communes(cpts):
    from accesmt.territory.models import Commune

    return Commune.objects.filter(territory__cpts=cpts).order_by("name").only("name")


def render_form(http_request, *, cpts, forms: IntakeForms, page: dict, status=200, **extra):
    context = {
        "cpts": cpts,
        "forms": forms,
        "household": forms.household,
        "members": forms.members,
        "errors": forms.error_summary(),
        "communes": territory_communes(cpts),
        "page": page,
        **extra,
    }
    return render(http_request, FORM_TEMPLATE, context, status=status)


def _create(*, cpts, channel, forms: IntakeForms, **create_kwargs) -> Creation:
    """Store the household, or return the one already stored by this very form (double click,
    re-sent page). When the form's key already names another household (a shared tablet, the
    Back button), this household is stored under a key of its own, never merged into the other."""
    values = {
        "cpts": cpts,
        "channel": channel,
        "household": forms.household.household_values(),
        "members": forms.member_values(),
        **create_kwargs,
    }
    key = submission_key(forms.household.cleaned_data)
    try:
        return request_create(submission_key=key, **values)
    except SubmissionKeyReused as reused:
        return request_create(submission_key=reused.fresh_key, **values)


def try_create(
    http_request, *, cpts, channel, forms: IntakeForms, page: dict, before_store=None, **kwargs
):
    """Validate and store; on refusal return the page again with everything typed.
    `before_store(forms)` may answer instead (a rate limit) once the form is valid."""
    if not forms.is_valid():
        return Outcome(response=render_form(http_request, cpts=cpts, forms=forms, page=page))
    if before_store is not None and (refusal := before_store(forms)) is not None:
        return Outcome(response=refusal)
    try:
        creation = _create(cpts=cpts, channel=channel, forms=forms, **kwargs)
    except NotEligible as refusal:
        return Outcome(
            response=render_form(
                http_request,
                cpts=cpts,
                forms=forms,
                page=page,
                ineligible=refusal,
            )
        )
    except ValidationError as error:
        for message in error.messages:
            forms.household.add_error(None, message)
        return Outcome(response=render_form(http_request, cpts=cpts, forms=forms, page=page))
    return Outcome(creation=creation)


def staff_entry(http_request, *, channel: str, page: dict, **create_kwargs):
    """The form of a logged-in professional (referral, phone entry): show it, add a member, or
    store the request. Returns an HttpResponse to send as is, or the stored Request (the same
    one again when the form is re-sent)."""
    cpts = http_request.cpts
    if http_request.method == "GET":
        forms = IntakeForms(cpts=cpts, channel=channel)
        return render_form(http_request, cpts=cpts, forms=forms, page=page)
    data = http_request.POST
    if IntakeForms.retyping(data):
        forms = IntakeForms(cpts=cpts, channel=channel, data=data, retype=True)
        return render_form(http_request, cpts=cpts, forms=forms, page=page)
    forms = IntakeForms(cpts=cpts, channel=channel, data=data)
    outcome = try_create(
        http_request,
        cpts=cpts,
        channel=channel,
        forms=forms,
        page=page,
        by=http_request.user,
        **create_kwargs,
    )
    return outcome.response if outcome.response is not None else outcome.creation.request


def error_summary(household, members) -> list[tuple[str, str, str]]:
    """(anchor, label, message) of every error of an edit page, for its error summary."""
    summary = []
    for name, errors in household.errors.items():
        if name == "__all__":
            summary += [("", "", str(e)) for e in errors]
            continue
        bound = household[name]
        summary += [(bound.auto_id, bound.label, str(e)) for e in errors]
    for index, form in enumerate(members.forms, start=1):
        for name, errors in form.errors.items():
            label = f"Personne {index}"
            if name == "__all__":
                summary += [("", label, str(e)) for e in errors]
                continue
            bound = form[name]
            summary += [(bound.auto_id, f"{label} — {bound.label}", str(e)) for e in errors]
    summary += [("", "Personnes du foyer", str(e)) for e in members.non_form_errors()]
    return summary
