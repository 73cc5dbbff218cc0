"""The availability declaration form: one minute on a phone, French errors next to the fields.

Used by the GP's own page, the coordinator's page (and later the survey link). The form only
parses input; `declaration_save` hands it to `services.declaration_create`, whose ValidationError
(keyed by field) is put back on the form's fields."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from accesmt.common.widgets import DateInput

from .models import (
    MAX_HOME_VISIT_RADIUS_KM,
    MAX_MONTHLY_CAPACITY,
    MAX_PATIENT_COUNT,
    PROFILE_FIELDS,
    Accepting,
    DepartureCertainty,
    DepartureScope,
    InstallationKind,
    Listing,
)
from .services import declaration_create

REQUIRED = "Ce champ est obligatoire."


class DeclarationForm(forms.Form):
    accepting = forms.ChoiceField(
        label="Acceptez-vous de nouveaux patients comme médecin traitant ?",
        choices=Accepting.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Indiquez si vous acceptez de nouveaux patients."},
    )
    monthly_capacity = forms.IntegerField(
        label="Combien de nouveaux patients par mois, environ ?",
        required=False,
        min_value=0,
        max_value=MAX_MONTHLY_CAPACITY,
        help_text=(
            "Comptés en personnes : un foyer de trois personnes prend trois places, et il vous "
            "est proposé entier ou pas du tout. Jamais affiché au public. Laissez vide si vous "
            "ne savez pas."
        ),
        error_messages={
            "invalid": "Saisissez un nombre entier.",
            "min_value": "Le nombre ne peut pas être négatif.",
            "max_value": f"Saisissez au plus {MAX_MONTHLY_CAPACITY}.",
        },
    )
    transfer_capacity = forms.IntegerField(
        label=(
            "Dont combien de places par mois pour des patients d'un confrère qui part "
            "(transferts) ?"
        ),
        required=False,
        min_value=0,
        max_value=MAX_MONTHLY_CAPACITY,
        help_text=(
            "Une partie des nouveaux patients par mois ci-dessus, réservée aux patients d'un "
            "médecin qui part à la retraite ou quitte le territoire : la coordination peut vous "
            "proposer ses patients, foyer par foyer. Laissez vide si vous ne souhaitez pas en "
            "recevoir."
        ),
        error_messages={
            "invalid": "Saisissez un nombre entier.",
            "min_value": "Le nombre ne peut pas être négatif.",
            "max_value": f"Saisissez au plus {MAX_MONTHLY_CAPACITY}.",
        },
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    accepts_children_under_6 = forms.BooleanField(label="Enfants de moins de 6 ans", required=False)
    accepts_aged_70_plus = forms.BooleanField(label="Personnes de 70 ans et plus", required=False)
    accepts_ald = forms.BooleanField(label="Patients en ALD", required=False)
    accepts_css_ame = forms.BooleanField(
        label="Bénéficiaires de la CSS ou de l'AME", required=False
    )
    accepts_home_visits = forms.BooleanField(
        label="Personnes ayant besoin de visites à domicile", required=False
    )
    accepts_households = forms.BooleanField(label="Foyers de plusieurs personnes", required=False)
    home_visit_radius_km = forms.IntegerField(
        label="Rayon des visites à domicile (km)",
        required=False,
        min_value=1,
        max_value=MAX_HOME_VISIT_RADIUS_KM,
        error_messages={
            "invalid": "Saisissez un nombre entier de kilomètres.",
            "min_value": "Saisissez au moins 1 km.",
            "max_value": f"Saisissez au plus {MAX_HOME_VISIT_RADIUS_KM} km.",
        },
    )
    listing = forms.ChoiceField(
        label="Où souhaitez-vous apparaître ?",
        choices=Listing.choices,
        widget=forms.RadioSelect,
        help_text="La carte publique ne montre jamais votre capacité.",
        error_messages={"required": "Indiquez où vous souhaitez apparaître."},
    )
    planned_departure_date = forms.DateField(
        label="Date prévue de départ (retraite, déménagement), si connue",
        required=False,
        widget=DateInput(),
        error_messages={"invalid": "Saisissez une date valide, par exemple 30/06/2027."},
    )
    departure_certainty = forms.ChoiceField(
        label="Ce départ est-il certain ou probable ?",
        choices=DepartureCertainty.choices,
        widget=forms.RadioSelect,
        required=False,
        help_text="Sans réponse, un départ daté est compté comme probable.",
    )
    departure_scope = forms.ChoiceField(
        label="Arrêtez-vous complètement ou réduisez-vous votre activité ?",
        choices=DepartureScope.choices,
        widget=forms.RadioSelect,
        required=False,
        help_text="Sans réponse, un départ daté est compté comme une cessation complète ; "
        "une réduction d'activité compte la moitié de vos patients.",
    )
    approx_patient_count = forms.IntegerField(
        label="Nombre approximatif de patients dont vous êtes le médecin traitant",
        required=False,
        min_value=0,
        max_value=MAX_PATIENT_COUNT,
        error_messages={
            "invalid": "Saisissez un nombre entier.",
            "min_value": "Le nombre ne peut pas être négatif.",
            "max_value": f"Saisissez au plus {MAX_PATIENT_COUNT}.",
        },
    )
    remarks = forms.CharField(
        label="Remarques pour la coordination",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    profile_field_names = PROFILE_FIELDS

    def clean(self):
        cleaned = super().clean()
        transfers = cleaned.get("transfer_capacity")
        if transfers and "monthly_capacity" in cleaned:
            capacity = cleaned.get("monthly_capacity")
            if capacity is None:
                self.add_error(
                    "transfer_capacity",
                    "Indiquez d'abord combien de nouveaux patients par mois vous acceptez : les "
                    "transferts en sont une partie.",
                )
            elif transfers > capacity:
                self.add_error(
                    "transfer_capacity",
                    f"Au plus {capacity} : les transferts sont une partie de vos {capacity} "
                    "nouveaux patients par mois.",
                )
        if not cleaned.get("planned_departure_date"):
            for name in ("departure_certainty", "departure_scope"):
                if cleaned.get(name):
                    self.add_error(
                        name, "Indiquez la date prévue de départ, ou laissez cette question."
                    )
        return cleaned

    def profile_fields(self):
        return [self[name] for name in PROFILE_FIELDS]

    @classmethod
    def initial_from(cls, declaration) -> dict:
        """Initial values from the current declaration (None: empty form)."""
        if declaration is None:
            return {}
        names = [n for n in cls.base_fields if n != "remarks"]
        return {name: getattr(declaration, name) for name in names}


def declaration_save(form: DeclarationForm, *, practitioner, cpts, source: str, recorded_by=None):
    """Create the declaration from a bound, valid form; on a service error, attach the French
    messages to the form's fields and return None."""
    try:
        return declaration_create(
            practitioner=practitioner,
            cpts=cpts,
            source=source,
            recorded_by=recorded_by,
            **form.cleaned_data,
        )
    except ValidationError as error:
        for field, messages in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages)
        return None


class InstallationForm(forms.Form):
    """A planned installation (coordinator). `practitioner` lists the GPs of the directory in the
    CPTS; `communes` the communes of its territory."""

    practitioner = forms.ModelChoiceField(
        label="Médecin de l'annuaire",
        queryset=None,
        required=False,
        empty_label="— pas dans l'annuaire —",
        error_messages={"invalid_choice": "Choisissez un médecin de l'annuaire de la CPTS."},
    )
    name = forms.CharField(
        label="Ou nom du médecin",
        required=False,
        max_length=200,
        help_text="Si le médecin n'est pas (encore) dans l'annuaire.",
    )
    kind = forms.ChoiceField(
        label="Installation",
        choices=InstallationKind.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Indiquez s'il s'agit d'un nouveau cabinet."},
    )
    practice_label = forms.CharField(
        label="Cabinet ou maison de santé", required=False, max_length=200
    )
    date = forms.DateField(
        label="Date prévue d'installation",
        widget=DateInput(),
        error_messages={
            "required": "Indiquez la date prévue d'installation.",
            "invalid": "Saisissez une date valide, par exemple 01/09/2027.",
        },
    )
    communes = forms.ModelMultipleChoiceField(
        label="Communes desservies",
        queryset=None,
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": "Choisissez au moins une commune desservie.",
            "invalid_choice": "Choisissez des communes du territoire de la CPTS.",
            "invalid_pk_value": "Choisissez des communes du territoire de la CPTS.",
        },
    )
    monthly_capacity = forms.IntegerField(
        label="Nouveaux patients par mois attendus",
        min_value=0,
        max_value=MAX_MONTHLY_CAPACITY,
        help_text="En personnes, comme les déclarations des médecins.",
        error_messages={
            "required": "Indiquez le nombre de nouveaux patients par mois attendus.",
            "invalid": "Saisissez un nombre entier.",
            "min_value": "Le nombre ne peut pas être négatif.",
            "max_value": f"Saisissez au plus {MAX_MONTHLY_CAPACITY}.",
        },
    )
    certainty = forms.ChoiceField(
        label="Installation certaine ou probable ?",
        choices=DepartureCertainty.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Indiquez si l'installation est certaine ou probable."},
    )
    remarks = forms.CharField(
        label="Remarques", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, practitioners, communes, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["practitioner"].queryset = practitioners
        self.fields["communes"].queryset = communes

    def clean(self):
        cleaned = super().clean()
        if "practitioner" in cleaned and "name" in cleaned:
            if cleaned["practitioner"] is None and not cleaned["name"].strip():
                self.add_error("name", "Choisissez un médecin de l'annuaire ou saisissez son nom.")
            elif cleaned["practitioner"] is not None and cleaned["name"].strip():
                self.add_error(
                    "name", "Choisissez un médecin de l'annuaire ou saisissez un nom, pas les deux."
                )
        return cleaned

    @staticmethod
    def initial_from(installation) -> dict:
        return {
            "practitioner": installation.practitioner_id,
            "name": installation.name,
            "kind": installation.kind,
            "practice_label": installation.practice_label,
            "date": installation.date,
            "communes": list(installation.communes.all()),
            "monthly_capacity": installation.monthly_capacity,
            "certainty": installation.certainty,
            "remarks": installation.remarks,
        }
