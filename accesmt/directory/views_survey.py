"""Survey pages: the GP's personal link (no account) and the coordinator's campaigns."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from accesmt.accounts.access import cpts_role_required
from accesmt.accounts.models import Role
from accesmt.common.signing import LinkError

from .forms import DeclarationForm
from .models import AvailabilityDeclaration, SurveyCampaign, SurveyInvitation
from .survey import (
    campaign_eligible_practitioners,
    campaign_figures,
    campaign_stats,
    invitation_from_token,
    response_counts_by_campaign,
    response_rate,
    survey_answer,
    survey_campaign_launch,
)


@require_http_methods(["GET", "POST"])
def survey_answer_page(request, token):
    try:
        invitation = invitation_from_token(token)
    except LinkError as exc:
        return render(request, "directory/survey_invalid.html", {"reason": exc.reason}, status=400)
    cpts = invitation.campaign.cpts
    current = (
        AvailabilityDeclaration.objects.current()
        .filter(practitioner=invitation.practitioner, cpts=cpts)
        .first()
    )
    if request.method == "POST":
        form = DeclarationForm(request.POST)
        if form.is_valid() and survey_answer(invitation=invitation, form=form):
            return render(request, "directory/survey_thanks.html", {"cpts": cpts, "token": token})
    else:
        form = DeclarationForm(initial=DeclarationForm.initial_from(current))
    return render(
        request,
        "directory/survey_answer.html",
        {"form": form, "cpts": cpts, "invitation": invitation, "current": current},
        status=400 if form.errors else 200,
    )


class CampaignForm(forms.Form):
    title = forms.CharField(
        label="Titre de l'enquête",
        max_length=200,
        error_messages={"required": "Donnez un titre à l'enquête."},
    )
    reminder_after_days = forms.IntegerField(
        label="Relance des non-répondants après (jours)",
        initial=7,
        min_value=1,
        max_value=60,
        error_messages={
            "required": "Indiquez après combien de jours relancer.",
            "invalid": "Saisissez un nombre entier de jours.",
            "min_value": "Saisissez au moins 1 jour.",
            "max_value": "Saisissez au plus 60 jours.",
        },
    )


@require_http_methods(["GET", "POST"])
@cpts_role_required(Role.COORDINATOR)
def campaigns(request, cpts_slug):
    cpts = request.cpts
    if request.method == "POST":
        form = CampaignForm(request.POST)
        if form.is_valid():
            try:
                campaign = survey_campaign_launch(
                    cpts=cpts, launched_by=request.user, **form.cleaned_data
                )
            except ValidationError as error:
                for field, messages in error.message_dict.items():
                    form.add_error(field if field in form.fields else None, messages)
            else:
                return redirect("directory:campaign", cpts_slug=cpts.slug, pk=campaign.pk)
    else:
        form = CampaignForm()
    counts = response_counts_by_campaign(SurveyInvitation.objects.filter(campaign__cpts=cpts))
    rows = []
    for campaign in SurveyCampaign.objects.filter(cpts=cpts):
        found = counts.get(campaign.pk, {"sent": 0, "answered": 0})
        figures = {"answered": found["answered"], "total": found["sent"]}
        rows.append(
            (campaign, {**figures, "rate": response_rate(found["answered"], found["sent"])})
        )
    return render(
        request,
        "directory/campaigns.html",
        {
            "cpts": cpts,
            "form": form,
            "rows": rows,
            "eligible_count": campaign_eligible_practitioners(cpts).count(),
        },
        status=400 if form.errors else 200,
    )


@cpts_role_required(Role.COORDINATOR)
def campaign(request, cpts_slug, pk):
    found = SurveyCampaign.objects.filter(cpts=request.cpts, pk=pk).first()
    if found is None:
        raise Http404("Page introuvable.")
    return render(
        request,
        "directory/campaign.html",
        {"cpts": request.cpts, "campaign": found, "stats": campaign_stats(found)},
    )


@cpts_role_required(Role.COORDINATOR)
def campaign_rate(request, cpts_slug, pk):
    """The campaign's response figures, polled by static/directory/campaign-rate.js."""
    found = SurveyCampaign.objects.filter(cpts=request.cpts, pk=pk).first()
    if found is None:
        raise Http404("Page introuvable.")
    response = JsonResponse(campaign_figures(found))
    response["Cache-Control"] = "no-store"
    return response
