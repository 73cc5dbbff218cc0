"""The coordinator's reporting settings (`espace/<slug>/indicateurs/reglages/`): the start date
of the ACI contract (the default period of every indicator page), the public monthly report
switched on or off, and how long a closed request is kept before it is anonymised (an intake
setting, edited here with the CPTS's other settings). Coordinators (and platform admins) only."""

from __future__ import annotations

import datetime

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from accesmt.accounts.access import cpts_role_required
from accesmt.intake.models import RETENTION_MONTHS_MAX, RETENTION_MONTHS_MIN, IntakeSettings
from accesmt.intake.services import intake_settings_retention_update

from .access import COORDINATION
from .models import ReportingSettings
from .periods import aci_year
from .settings_services import reporting_settings_update

FIRST_CONTRACT_YEAR = 2019  # the ACI of the CPTS was signed in 2019


class ReportingSettingsForm(forms.ModelForm):
    # Left empty: the value stays as it is (the projection's defaults until a coordinator sets
    # them).
    senior_departure_rate = forms.IntegerField(
        label="Taux annuel de départ des médecins de 67 ans et plus (%)",
        required=False,
        min_value=0,
        max_value=100,
        help_text="Pour la projection des départs : part des patients d'un médecin de 67 ans et "
        "plus sans date de départ déclarée qui perdent leur médecin traitant chaque année "
        "(20 % par défaut).",
        error_messages={
            "invalid": "Saisissez un nombre entier de 0 à 100.",
            "min_value": "Saisissez un nombre entier de 0 à 100.",
            "max_value": "Saisissez un nombre entier de 0 à 100.",
        },
    )
    default_patient_count = forms.IntegerField(
        label="Patients médecin traitant d'un médecin qui ne l'a pas déclaré",
        required=False,
        min_value=0,
        max_value=5000,
        help_text="Pour la projection, quand un médecin n'a pas indiqué son nombre approximatif "
        "de patients (1 000 par défaut).",
        error_messages={
            "invalid": "Saisissez un nombre entier de 0 à 5 000.",
            "min_value": "Saisissez un nombre entier de 0 à 5 000.",
            "max_value": "Saisissez un nombre entier de 0 à 5 000.",
        },
    )

    closed_retention_months = forms.IntegerField(
        label="Durée de conservation après clôture (mois)",
        required=False,  # left empty: unchanged
        min_value=RETENTION_MONTHS_MIN,
        max_value=RETENTION_MONTHS_MAX,
        help_text="Une demande close est anonymisée après cette durée : noms, coordonnées et "
        "textes libres sont effacés, les données gardées pour les statistiques sont "
        "généralisées. La politique de confidentialité affiche cette durée.",
        error_messages={
            "invalid": "Saisissez un nombre entier de mois, de 1 à 36.",
            "min_value": "La durée de conservation est d'au moins 1 mois.",
            "max_value": "La durée de conservation est de 36 mois au plus.",
        },
    )

    class Meta:
        model = ReportingSettings
        fields = ["aci_contract_start", "public_report"]
        help_texts = {"public_report": ""}  # said by the page, next to the report's address
        widgets = {"aci_contract_start": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}
        error_messages = {
            "aci_contract_start": {
                "required": "Indiquez la date de signature du contrat ACI.",
                "invalid": "Date invalide : utilisez le format AAAA-MM-JJ.",
            }
        }

    def clean_aci_contract_start(self):
        day = self.cleaned_data["aci_contract_start"]
        if day.year < FIRST_CONTRACT_YEAR:
            raise forms.ValidationError(
                "L'accord conventionnel des CPTS date de 2019 : indiquez une date à partir de 2019."
            )
        if day > timezone.localdate() + datetime.timedelta(days=366):
            raise forms.ValidationError("Indiquez une date d'ici un an au plus.")
        return day


@cpts_role_required(*COORDINATION)
@require_http_methods(["GET", "POST"])
def reporting_settings(http_request, cpts_slug: str):
    cpts = http_request.cpts
    current = ReportingSettings.for_cpts(cpts)
    form = ReportingSettingsForm(
        http_request.POST or None,
        instance=current,
        initial={
            "senior_departure_rate": current.senior_departure_rate,
            "default_patient_count": current.default_patient_count,
            "closed_retention_months": IntakeSettings.for_cpts(cpts).closed_retention_months,
        },
    )
    if http_request.method == "POST" and form.is_valid():
        reporting_settings_update(
            cpts=cpts,
            by=http_request.user,
            aci_contract_start=form.cleaned_data["aci_contract_start"],
            public_report=form.cleaned_data["public_report"],
            senior_departure_rate=form.cleaned_data["senior_departure_rate"],
            default_patient_count=form.cleaned_data["default_patient_count"],
            http_request=http_request,
        )
        months = form.cleaned_data["closed_retention_months"]
        if months is not None and months != IntakeSettings.for_cpts(cpts).closed_retention_months:
            intake_settings_retention_update(
                cpts=cpts,
                by=http_request.user,
                closed_retention_months=months,
                http_request=http_request,
            )
        messages.success(http_request, "Réglages enregistrés.")
        return redirect("reporting:settings", cpts_slug=cpts.slug)
    saved = ReportingSettings.for_cpts(cpts)
    return render(
        http_request,
        "reporting/settings.html",
        {
            "cpts": cpts,
            "form": form,
            "saved": saved,
            "contract_year": aci_year(saved.aci_contract_start, timezone.localdate()),
            "public_url": reverse("reporting:public_report", kwargs={"cpts_slug": cpts.slug}),
        },
        status=400 if form.errors else 200,
    )
