"""The coordinator types a request during a phone call."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect
from django.views.decorators.http import require_http_methods

from accesmt.accounts.access import cpts_role_required
from accesmt.accounts.models import Role

from ..models import Channel, Request
from ._common import staff_entry
from .coordinator import detail_url

PAGE = {
    "title": "Saisie d'une demande par téléphone",
    "submit": "Enregistrer la demande",
    "channel": Channel.PHONE,
    "intro": "Les champs suivent l'ordre de l'entretien ; Tab passe au champ suivant.",
}


@cpts_role_required(Role.COORDINATOR)
@require_http_methods(["GET", "POST"])
def phone_entry(http_request, cpts_slug: str):
    result = staff_entry(http_request, channel=Channel.PHONE, page=PAGE, consent_oral=True)
    if not isinstance(result, Request):
        return result
    messages.success(
        http_request,
        f"Demande {result.reference} enregistrée. Donnez cette référence à la personne.",
    )
    return redirect(detail_url(result))
