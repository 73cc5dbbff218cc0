"""A professional refers a patient they met (with the patient's agreement)."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from accesmt.accounts.access import cpts_role_required

from ..models import Channel, Request
from ..queue import REFERRAL_ROLES  # CPAM agents and mediators refer too (issue 12)
from ..selectors import referrals_of
from ._common import staff_entry

PAGE = {
    "title": "Orienter une personne sans médecin traitant",
    "submit": "Enregistrer l'orientation",
    "channel": Channel.REFERRAL,
    "intro": "Remplissez ce formulaire avec la personne, ou avec son accord.",
}


@cpts_role_required(*REFERRAL_ROLES)
@require_http_methods(["GET", "POST"])
def refer(http_request, cpts_slug: str):
    result = staff_entry(
        http_request,
        channel=Channel.REFERRAL,
        page=PAGE,
        referrer=http_request.user,
        referrer_attested_consent=True,
    )
    if not isinstance(result, Request):
        return result
    messages.success(
        http_request,
        f"Orientation enregistrée sous la référence {result.reference}. "
        "La personne recevra un accusé de réception si elle a donné un téléphone ou un e-mail.",
    )
    return redirect("intake:my_referrals", cpts_slug=cpts_slug)


@cpts_role_required(*REFERRAL_ROLES)
def my_referrals(http_request, cpts_slug: str):
    cpts = http_request.cpts
    referrals = referrals_of(user=http_request.user, cpts=cpts)
    return render(http_request, "intake/my_referrals.html", {"cpts": cpts, "referrals": referrals})
