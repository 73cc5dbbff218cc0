"""The coordinator's upload form of a CPAM list."""

from __future__ import annotations

from django import forms
from django.utils import timezone

from accesmt.common.widgets import DateInput

from ..forms import DATE_FORMATS
from .reader import MAX_BYTES

ALLOWED_SUFFIXES = (".csv", ".txt", ".xlsx")


class CpamListUploadForm(forms.Form):
    campaign_name = forms.CharField(
        label="Nom de la campagne",
        max_length=150,
        help_text="Par exemple « Plan ALD 2026 — 1er envoi » : il s'affiche avec chaque demande.",
        error_messages={"required": "Indiquez le nom de la campagne de la CPAM."},
    )
    list_date = forms.DateField(
        label="Date de la liste",
        input_formats=DATE_FORMATS,
        help_text="La date d'édition de la liste par la CPAM (JJ/MM/AAAA) : à la fin de la "
        "période d'opposition, les personnes entrent dans la file avec cette ancienneté.",
        error_messages={
            "required": "Indiquez la date de la liste.",
            "invalid": "Date non reconnue : écrivez-la au format JJ/MM/AAAA.",
        },
        widget=DateInput(),
    )
    opt_out_days = forms.IntegerField(
        label="Délai pour refuser (jours)",
        initial=30,
        min_value=7,
        max_value=92,
        help_text="Les personnes sont informées dès l'import et peuvent refuser pendant ce "
        "délai (un mois par défaut).",
        error_messages={
            "required": "Indiquez le délai pour refuser, en jours.",
            "invalid": "Indiquez un nombre de jours.",
            "min_value": "Laissez au moins 7 jours aux personnes pour refuser.",
            "max_value": "92 jours (trois mois) au plus.",
        },
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    file = forms.FileField(
        label="Fichier de la liste",
        help_text="CSV (séparateur point-virgule ou virgule, UTF-8 ou Windows) ou Excel .xlsx, "
        "avec les colonnes du modèle. Rien n'est enregistré avant votre confirmation.",
        error_messages={"required": "Choisissez le fichier de la liste."},
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(ALLOWED_SUFFIXES)}),
    )

    def clean_list_date(self):
        value = self.cleaned_data["list_date"]
        if value > timezone.localdate():
            raise forms.ValidationError("La date de la liste ne peut pas être dans le futur.")
        return value

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith(ALLOWED_SUFFIXES):
            raise forms.ValidationError(
                "Envoyez un fichier .csv ou .xlsx (depuis Excel : « Enregistrer sous » CSV)."
            )
        if upload.size > MAX_BYTES:
            raise forms.ValidationError("Fichier trop gros (20 Mo au plus) : découpez la liste.")
        return upload
