"""The person's own page, reached through the signed link of the acknowledgment."""

from __future__ import annotations

import functools

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from accesmt.common.phones import format_phone_for_display, normalise_phone
from accesmt.common.signing import LinkError

from ..lifecycle import STATUS_EXPLANATIONS, TransitionRefused
from ..selectors import request_for_followup_token
from ..services import NotEligible, request_update_contact, request_withdraw
from ..validation import (
    normalise_email,
    resolve_commune,
    validate_postcode,
)


class ContactForm(forms.Form):
    phone = forms.CharField(
        label="Téléphone",
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "type": "tel"}),
    )
    email = forms.CharField(
        label="Adresse e-mail",
        max_length=254,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "email", "type": "email"}),
    )
    address = forms.CharField(
        label="Adresse (numéro et rue)",
        max_length=250,
        error_messages={"required": "Indiquez votre adresse."},
    )
    postcode = forms.CharField(
        label="Code postal", max_length=10, error_messages={"required": "Indiquez le code postal."}
    )
    commune_name = forms.CharField(label="Commune", max_length=120, required=False)

    def clean_phone(self):
        return normalise_phone(self.cleaned_data["phone"])

    def clean_email(self):
        return normalise_email(self.cleaned_data["email"])

    def clean_postcode(self):
        return validate_postcode(self.cleaned_data["postcode"])

    def clean(self):
        data = super().clean()
        if not self.errors and not data.get("phone") and not data.get("email"):
            self.add_error("phone", "Indiquez un téléphone ou une adresse e-mail.")
        if data.get("postcode") and "postcode" not in self.errors:
            try:
                data["commune"] = resolve_commune(
                    postcode=data["postcode"], name=data.get("commune_name", "")
                )
            except ValidationError as error:
                self.add_error("commune_name", error)
        return data


class WithdrawForm(forms.Form):
    confirm = forms.BooleanField(
        label="Je confirme retirer ma demande : la CPTS ne cherchera plus de médecin "
        "pour mon foyer.",
        error_messages={"required": "Cochez la case pour confirmer le retrait."},
    )


def _initial(request) -> dict:
    return {
        "phone": format_phone_for_display(request.phone),
        "email": request.email,
        "address": request.address,
        "postcode": request.postcode,
        "commune_name": request.commune.name,
    }


def by_token(view):
    """Opens the request of the signed link: the French « lien non valable » page (404) when it
    does not hold, « demande effacée » (404) once its data are erased; never cached."""

    @never_cache
    @functools.wraps(view)
    def wrapper(http_request, token: str, **kwargs):
        try:
            request = request_for_followup_token(token)
        except LinkError as invalid:
            return render(
                http_request, "intake/followup_invalid.html", {"reason": invalid.reason}, status=404
            )
        if request.anonymised_at is not None:
            return render(http_request, "intake/followup_erased.html", status=404)
        return view(http_request, request, token, **kwargs)

    return wrapper


@require_http_methods(["GET", "POST"])
@by_token
def followup(http_request, request, token: str):
    contact_form = ContactForm(initial=_initial(request), prefix="contact")
    withdraw_form = WithdrawForm(prefix="retrait")
    if http_request.method == "POST" and not request.is_closed:
        if "withdraw" in http_request.POST:
            withdraw_form = WithdrawForm(http_request.POST, prefix="retrait")
            if withdraw_form.is_valid():
                try:
                    request_withdraw(request=request, http_request=http_request)
                except TransitionRefused as refused:
                    withdraw_form.add_error(None, refused.messages[0])
                else:
                    messages.success(
                        http_request, "Votre demande est retirée. Merci de nous avoir prévenus."
                    )
                    return redirect("intake:followup", token=token)
        else:
            contact_form = ContactForm(http_request.POST, prefix="contact")
            if contact_form.is_valid():
                data = contact_form.cleaned_data
                try:
                    request_update_contact(
                        request=request,
                        phone=data["phone"],
                        email=data["email"],
                        address=data["address"],
                        postcode=data["postcode"],
                        commune=data["commune"],
                        by_patient=True,
                        http_request=http_request,
                    )
                except NotEligible:
                    contact_form.add_error(
                        "commune_name",
                        "Cette commune n'est pas couverte par la CPTS : si vous avez déménagé, "
                        "retirez votre demande et inscrivez-vous auprès de la CPTS de votre "
                        "nouvelle commune.",
                    )
                except ValidationError as error:
                    contact_form.add_error(None, error)
                else:
                    messages.success(http_request, "Vos coordonnées ont été mises à jour.")
                    return redirect("intake:followup", token=token)
    context = {
        "intake_request": request,
        "cpts": request.cpts,
        "token": token,
        "explanation": STATUS_EXPLANATIONS[request.status],
        "contact_form": contact_form,
        "withdraw_form": withdraw_form,
        "members_count": request.members.count(),
    }
    status = 200 if not (contact_form.errors or withdraw_form.errors) else 400
    return render(http_request, "intake/followup.html", context, status=status)
