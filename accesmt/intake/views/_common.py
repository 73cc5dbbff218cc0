"""What the three intake channels share: build, validate and store the form."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.shortcuts import render

from ..forms import IntakeForms
from ..models import Request
from ..services import Creation, NotEligible, request_create

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


def existing_submission(*, cpts, data) -> Request | None:
    key = submission_key(data)
    if key is None:
        return None
    return Request.objects.filter(cpts=cpts, submission_key=key).first()


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


def try_create(http_request, *, cpts, channel, forms: IntakeForms, page: dict, **create_kwargs):
    """Validate and store; on refusal return the page again with everything typed."""
    if not forms.is_valid():
        return Outcome(response=render_form(http_request, cpts=cpts, forms=forms, page=page))
    try:
        creation = request_create(
            cpts=cpts,
            channel=channel,
            household=forms.household.household_values(),
            members=forms.member_values(),
            submission_key=submission_key(forms.household.cleaned_data),
            **create_kwargs,
        )
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
    if "add_member" in data:
        forms = IntakeForms(cpts=cpts, channel=channel, data=data, extra_member=True)
        return render_form(http_request, cpts=cpts, forms=forms, page=page, added_member=True)
    already = existing_submission(cpts=cpts, data=data)
    if already is not None:
        return already
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
