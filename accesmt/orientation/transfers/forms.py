"""Forms of the transfer plan pages (French labels; errors shown next to the fields)."""

from __future__ import annotations

from django import forms

from accesmt.common.widgets import DateInput
from accesmt.directory.models import Practitioner


def _gp_choices(cpts):
    return Practitioner.objects.in_cpts(cpts).filter(is_gone=False).order_by("last_name", "pk")


class GPField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"Dr {obj.last_name} {obj.first_name}".strip()


class TransferPlanForm(forms.Form):
    practitioner = GPField(queryset=Practitioner.objects.none(), label="Médecin qui part")
    departure_date = forms.DateField(label="Date de départ", widget=DateInput())
    avoid_summer = forms.BooleanField(
        label="Éviter les transferts en juillet et en août", required=False, initial=True
    )

    def __init__(self, *args, cpts, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["practitioner"].queryset = _gp_choices(cpts)


class TransferReceiverForm(forms.Form):
    practitioner = GPField(queryset=Practitioner.objects.none(), label="Médecin receveur")
    monthly_capacity = forms.IntegerField(
        label="Patients transférés par mois",
        min_value=1,
        max_value=500,
        help_text="Une partie de la capacité mensuelle qu'il a déclarée.",
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )

    def __init__(self, *args, cpts, plan, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["practitioner"].queryset = _gp_choices(cpts).exclude(pk=plan.practitioner_id)


class TransferImportForm(forms.Form):
    file = forms.FileField(
        label="Fichier des patients (CSV)",
        help_text="Une ligne par personne ; la colonne « foyer » regroupe un foyer.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )


class TransferConfirmForm(forms.Form):
    consent_attested = forms.BooleanField(
        label="Le cabinet a remis la lettre d'information à ces patients et recueilli leur accord",
        required=True,
        error_messages={"required": "Cochez cette case pour confirmer l'import."},
    )
