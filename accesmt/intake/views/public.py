"""Public pages of a CPTS: registration, acknowledgment, privacy notice."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from accesmt.accounts.ip import client_ip
from accesmt.common.links import public_url
from accesmt.territory.models import CPTS

from .. import form_cache
from ..consent import CONSENT_TEXT_VERSION, NOT_A_WAITING_LIST
from ..forms import IntakeForms
from ..models import Channel, IntakeSettings, Request
from ..retention import retention_periods
from ..services import followup_path, intake_attempt_register, intake_limit_reached
from ._common import render_form, submission_key, try_create

ACK_SESSION_KEY = "intake_acknowledged"
PAGE = {
    "title": "Je cherche un médecin traitant",
    "submit": "Envoyer ma demande",
    "channel": Channel.ONLINE,
    "public_nav": True,  # the links between the CPTS's public pages (core/_cpts_public_nav.html)
}


def _cpts(slug: str) -> CPTS:
    return get_object_or_404(CPTS, slug=slug, is_active=True)


def _acknowledge(http_request, cpts, request: Request):
    http_request.session[ACK_SESSION_KEY] = request.pk
    return redirect("intake:acknowledgment", cpts_slug=cpts.slug)


def _place_from_home(cpts, insee_code: str) -> dict:
    """The commune chosen on the home page (`?commune=<INSEE code>`, not personal data): its name,
    and its postal code when it has only one, so that the person does not type them again.
    Anything else (unknown, outside the CPTS) is ignored."""
    if not (len(insee_code) == 5 and insee_code.isalnum()):
        return {}
    commune = cpts.communes.filter(insee_code=insee_code).first()
    if commune is None:
        return {}
    codes = list(commune.postal_codes.values_list("code", flat=True)[:2])
    return {"commune_name": commune.name, **({"postcode": codes[0]} if len(codes) == 1 else {})}


@require_http_methods(["GET", "POST"])
def register(http_request, cpts_slug: str):
    cpts = _cpts(cpts_slug)
    page = {**PAGE, "intro": NOT_A_WAITING_LIST, "help_phone": cpts.phone}
    if http_request.method == "GET":
        place = _place_from_home(cpts, http_request.GET.get("commune", ""))
        forms = IntakeForms(cpts=cpts, channel=Channel.ONLINE, place=place)
        # Unbound: its fields are the same for every visitor (form_cache), rendered once.
        key = form_cache.fragment_key(cpts=cpts, channel=Channel.ONLINE, place=place)
        return render_form(
            http_request,
            cpts=cpts,
            forms=forms,
            page=page,
            form_fragment_key=key,
            form_fragment_timeout=form_cache.TIMEOUT,
        )

    data = http_request.POST
    if IntakeForms.retyping(data):
        forms = IntakeForms(cpts=cpts, channel=Channel.ONLINE, data=data, retype=True)
        return render_form(http_request, cpts=cpts, forms=forms, page=page)

    forms = IntakeForms(cpts=cpts, channel=Channel.ONLINE, data=data)
    if forms.is_honeypot_filled():
        # Answer like a success so that robots learn nothing; nothing is stored.
        return render(http_request, "intake/thanks_generic.html", {"cpts": cpts})
    ip = client_ip(http_request)

    def within_limits(forms):
        reached = intake_limit_reached(
            cpts=cpts,
            ip=ip,
            submission_key=submission_key(forms.household.cleaned_data),
            household=forms.household.household_values(),
            members=forms.member_values(),
        )
        if not reached:
            return None
        return render_form(
            http_request, cpts=cpts, forms=forms, page=page, status=429, rate_limited=reached
        )

    outcome = try_create(
        http_request,
        cpts=cpts,
        channel=Channel.ONLINE,
        forms=forms,
        page=page,
        before_store=within_limits,
    )
    if outcome.response is not None:
        return outcome.response
    if outcome.creation.created:  # only stored requests count against the address's limit
        intake_attempt_register(cpts=cpts, ip=ip)
    # A double click or a re-sent form (same content) gets the same acknowledgment.
    return _acknowledge(http_request, cpts, outcome.creation.request)


def acknowledgment(http_request, cpts_slug: str):
    cpts = _cpts(cpts_slug)
    pk = http_request.session.get(ACK_SESSION_KEY)
    request = Request.objects.filter(pk=pk, cpts=cpts).first() if pk else None
    if request is None:
        return redirect("intake:register", cpts_slug=cpts.slug)
    context = {
        "cpts": cpts,
        "intake_request": request,
        "followup_url": public_url(followup_path(request)),
        "care_texts": IntakeSettings.for_cpts(cpts).care_texts,
        "not_a_waiting_list": NOT_A_WAITING_LIST,
    }
    return render(http_request, "intake/acknowledgment.html", context)


def privacy(http_request, cpts_slug: str):
    cpts = _cpts(cpts_slug)
    if not cpts.is_active:
        raise Http404
    context = {
        "cpts": cpts,
        "version": CONSENT_TEXT_VERSION,
        "periods": retention_periods(cpts),
        "register_url": reverse("intake:register", kwargs={"cpts_slug": cpts.slug}),
    }
    return render(http_request, "intake/privacy.html", context)
