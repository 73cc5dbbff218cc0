"""Public pages of reporting (no account):

- `survey` (`suivi/<token>/avis/`): the satisfaction survey behind the signed link sent at
  closing (`satisfaction.py`): three questions in fieldsets, a free comment; answered once (the
  next visit says thanks); an expired or broken link gets a clear page.
- `public_monthly_report` (`<cpts_slug>/rapport-mensuel/`): the CPTS's monthly report
  (`public_report.py`), only when the CPTS publishes it (404 otherwise), always masked.
"""

from __future__ import annotations

import contextlib

from django import forms
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from accesmt.common.signing import LinkError
from accesmt.territory.models import CPTS

from . import charts
from .models import Delay, Ease, ReportingSettings
from .public_report import public_tables
from .satisfaction import AlreadyAnswered, invitation_from_token, satisfaction_answer

REQUIRED = {"required": "Choisissez une réponse.", "invalid_choice": "Choisissez une réponse."}
YES_NO = (("yes", "oui"), ("no", "non"))


class SurveyForm(forms.Form):
    ease = forms.ChoiceField(
        label="Vous inscrire auprès de la CPTS a été :",
        choices=Ease.choices,
        widget=forms.RadioSelect,
        error_messages=REQUIRED,
    )
    delay = forms.ChoiceField(
        label="Le délai avant une réponse à votre demande vous a paru :",
        choices=Delay.choices,
        widget=forms.RadioSelect,
        error_messages=REQUIRED,
    )
    recommend = forms.ChoiceField(
        label="Recommanderiez-vous ce service à un proche sans médecin traitant ?",
        choices=YES_NO,
        widget=forms.RadioSelect,
        error_messages=REQUIRED,
    )
    comment = forms.CharField(
        label="Un commentaire ? (facultatif)",
        help_text="Ce que nous pourrions améliorer. N'indiquez ni votre nom ni d'information "
        "sur votre santé. 1 000 caractères au plus.",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"max_length": "Écrivez 1 000 caractères au plus."},
    )


@require_http_methods(["GET", "POST"])
def survey(http_request, token: str):
    try:
        invitation = invitation_from_token(token)
    except LinkError as invalid:
        return render(
            http_request, "reporting/survey_invalid.html", {"reason": invalid.reason}, status=404
        )
    context = {"cpts": invitation.cpts}
    if invitation.answered:
        return render(http_request, "reporting/survey_thanks.html", context)
    form = SurveyForm(http_request.POST or None)
    if http_request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        # Answered meanwhile (two tabs): the page below says thanks all the same.
        with contextlib.suppress(AlreadyAnswered):
            satisfaction_answer(
                invitation=invitation,
                ease=data["ease"],
                delay=data["delay"],
                would_recommend=data["recommend"] == "yes",
                comment=data["comment"],
            )
        return redirect("reporting:survey", token=token)
    status = 400 if form.errors else 200
    return render(http_request, "reporting/survey.html", {**context, "form": form}, status=status)


def public_monthly_report(http_request, cpts_slug: str):
    cpts = get_object_or_404(CPTS, slug=cpts_slug, is_active=True)
    if not ReportingSettings.for_cpts(cpts).public_report:
        raise Http404("Page introuvable.")
    period, tables = public_tables(cpts)
    results = [
        {
            "table": table,
            "rows": table.shown_rows(True),
            "chart": charts.render(table, masked=True),
        }
        for table in tables
    ]
    return render(
        http_request,
        "reporting/public_report.html",
        {"cpts": cpts, "period": period, "results": results},
    )
