"""The intake form, shared by the three channels (public, referral, phone).

`IntakeForms` bundles the household form and the members formset, collects the errors for the
summary at the top of the page, and re-renders with one member more or less without validating
("Ajouter une personne du foyer" and "Retirer cette personne" work without JavaScript; with it,
intake-form.js does the same in the page). The list of the CPTS's GPs (the usual GP) is shown the
same way, only when asked for ("Choisir dans la liste des médecins du territoire") or when a GP
is already picked: up to 2,000 options in a large CPTS were most of the page's weight and time."""

from __future__ import annotations

import unicodedata
import uuid

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from accesmt.common.phones import normalise_phone
from accesmt.common.widgets import DateInput

from . import usual_gp
from .consent import (
    CONSENT_PROCESSING,
    CONSENT_SHARING,
    CONSENT_TEXT_VERSION,
    ORAL_CONSENT,
    REFERRER_ATTESTATION,
)
from .models import Channel, Coverage, HomeVisits, Reason, Sex
from .services import HOUSEHOLD_FIELDS
from .validation import (
    normalise_email,
    resolve_commune,
    validate_birth_date,
    validate_nir,
    validate_postcode,
)

MAX_MEMBERS = 12
# Channels where a coordinator types the request: a postal address may be the only contact.
STAFF_CHANNELS = (Channel.PHONE, "edit")
POSTAL_ONLY_LABEL = "Ni téléphone ni e-mail : contact par courrier postal uniquement"
REQUIRED = "Ce champ est obligatoire."
# Behind « Préciser la situation (facultatif) » on the intake page.
OPTIONAL_SITUATION = (
    "usual_gp_rpps",
    "usual_gp_name",
    "former_gp_name",
    "former_gp_commune",
    "other_professionals",
    "comment",
)
# The button that shows the page again with the list of the CPTS's GPs.
USUAL_GP_LIST = "usual_gp_list"
DATE_FORMATS = ["%Y-%m-%d", "%d/%m/%Y", "%d/%m/%y", "%d-%m-%Y", "%d.%m.%Y"]


def _required(message: str) -> dict[str, str]:
    return {"required": message}


class HouseholdForm(forms.Form):
    address = forms.CharField(
        label="Adresse (numéro et rue)",
        max_length=250,
        error_messages=_required("Indiquez votre adresse (numéro et rue)."),
        widget=forms.TextInput(attrs={"autocomplete": "street-address"}),
    )
    postcode = forms.CharField(
        label="Code postal",
        max_length=10,
        error_messages=_required("Indiquez votre code postal."),
        widget=forms.TextInput(
            attrs={"autocomplete": "postal-code", "inputmode": "numeric", "size": "6"}
        ),
    )
    commune_name = forms.CharField(
        label="Commune",
        max_length=120,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "address-level2", "list": "communes"}),
    )
    phone = forms.CharField(
        label="Téléphone",
        max_length=30,
        required=False,
        help_text="Un mobile reçoit la confirmation par SMS.",
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel", "type": "tel"}),
    )
    email = forms.CharField(
        label="Adresse e-mail",
        max_length=254,
        required=False,
        widget=forms.TextInput(
            attrs={"autocomplete": "email", "inputmode": "email", "type": "email"}
        ),
    )
    coverage = forms.ChoiceField(
        label="Couverture sociale",
        choices=Coverage.choices,
        initial=Coverage.GENERAL,
        widget=forms.RadioSelect,
        error_messages=_required("Choisissez votre couverture sociale (ou « je ne sais pas »)."),
    )
    needs_rights_help = forms.BooleanField(
        label="J'ai besoin d'aide pour ouvrir ou renouveler mes droits (carte Vitale, CSS, AME…)",
        required=False,
    )
    reason = forms.ChoiceField(
        label="Pourquoi cherchez-vous un médecin traitant ?",
        choices=[("", "— Choisissez —"), *Reason.choices],
        error_messages=_required("Choisissez la raison de votre demande."),
    )
    reason_other = forms.CharField(label="Précisez la raison", max_length=200, required=False)
    urgent_follow_up = forms.BooleanField(
        label="Un suivi médical doit commencer dans le mois (traitement à renouveler, "
        "sortie d'hôpital…)",
        required=False,
    )
    former_gp_name = forms.CharField(
        label="Nom de votre ancien médecin traitant", max_length=150, required=False
    )
    former_gp_commune = forms.CharField(
        label="Commune de votre ancien médecin traitant", max_length=120, required=False
    )
    # The GP the person already sees (issue 12): picked in the directory's list (RPPS) or typed.
    usual_gp_rpps = forms.CharField(
        label="Médecin que vous consultez déjà (dans la liste des médecins du territoire)",
        required=False,
        max_length=20,
        help_text=usual_gp.HINT + " La CPTS lui demandera d'abord s'il accepte de devenir "
        "votre médecin traitant.",
    )
    usual_gp_name = forms.CharField(
        label="Ou son nom et sa commune, s'il n'est pas dans la liste",
        max_length=150,
        required=False,
    )
    other_professionals = forms.CharField(
        label="Autres professionnels qui vous suivent (infirmier, kiné, service social…)",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    comment = forms.CharField(
        label="Autre chose à nous dire ?",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    submission_key = forms.UUIDField(widget=forms.HiddenInput, required=False)

    # Postcode and name → Commune (ValidationError with the French message otherwise); an
    # import of many lines passes a cached one (cpam_lists.check).
    commune_resolver = staticmethod(resolve_commune)

    def __init__(self, *args, cpts=None, channel=Channel.ONLINE, gp_list=True, **kwargs):
        """`gp_list`: the usual GP is picked in the list of the CPTS's GPs (read from the
        directory); False: that list is neither read nor shown (the intake pages show a button
        asking for it, `USUAL_GP_LIST`)."""
        super().__init__(*args, **kwargs)
        self.gp_list_shown = gp_list
        self.cpts = cpts
        self.channel = channel
        cpts_name = cpts.name if cpts is not None else "la CPTS"
        if channel == Channel.ONLINE:
            self.fields["consent_processing"] = forms.BooleanField(
                label=CONSENT_PROCESSING.format(cpts=cpts_name),
                error_messages=_required(
                    "Votre accord est nécessaire pour que la CPTS puisse traiter votre demande."
                ),
            )
            self.fields["consent_sharing"] = forms.BooleanField(
                label=CONSENT_SHARING,
                error_messages=_required(
                    "Votre accord est nécessaire pour que la CPTS puisse contacter des médecins "
                    "pour vous."
                ),
            )
            # Honeypot: hidden from people (CSS class and aria-hidden), filled by robots.
            self.fields["website"] = forms.CharField(
                label="Ne pas remplir ce champ",
                required=False,
                widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
            )
        elif channel == Channel.REFERRAL:
            self.fields["attestation"] = forms.BooleanField(
                label=REFERRER_ATTESTATION.format(cpts=cpts_name, version=CONSENT_TEXT_VERSION),
                error_messages=_required(
                    "Cochez l'attestation : l'accord de la personne est indispensable."
                ),
            )
        elif channel == Channel.PHONE:
            self.fields["oral_consent"] = forms.BooleanField(
                label=ORAL_CONSENT.format(version=CONSENT_TEXT_VERSION),
                error_messages=_required(
                    "Lisez les textes de consentement à la personne et cochez son accord oral."
                ),
            )
        if channel == Channel.PHONE:
            self.fields["phone"].widget.attrs["autofocus"] = True
        gp_choices = usual_gp.usual_gp_choices(cpts) if gp_list else []
        if gp_choices:
            # A list without JavaScript; a value outside it (the API) is checked by the clean.
            self.fields["usual_gp_rpps"].widget = forms.Select(
                choices=[("", "— Pas dans la liste, ou aucun —"), *gp_choices]
            )
        else:
            self.fields["usual_gp_rpps"].label = "Numéro RPPS du médecin que vous consultez déjà"
            self.fields["usual_gp_rpps"].widget.attrs["inputmode"] = "numeric"
        if channel in STAFF_CHANNELS:
            # A person with neither phone nor e-mail: the postal address is the only contact,
            # every message goes by printed letter (ticked on purpose, never by omission).
            self.fields["postal_only"] = forms.BooleanField(label=POSTAL_ONLY_LABEL, required=False)

    def clean_postcode(self):
        return validate_postcode(self.cleaned_data["postcode"])

    def clean_phone(self):
        return normalise_phone(self.cleaned_data["phone"])

    def clean_email(self):
        return normalise_email(self.cleaned_data["email"])

    def clean_usual_gp_rpps(self):
        return usual_gp.validate_usual_gp_rpps(self.cleaned_data["usual_gp_rpps"])

    def clean(self):
        data = super().clean()
        contact_errors = self.errors.get("phone") or self.errors.get("email")
        no_contact = not contact_errors and not data.get("phone") and not data.get("email")
        if no_contact and self.channel in STAFF_CHANNELS and not data.get("postal_only"):
            message = (
                "Indiquez un téléphone ou une adresse e-mail. Si la personne n'a ni l'un ni "
                "l'autre, cochez « " + POSTAL_ONLY_LABEL + " » : tous les messages lui seront "
                "envoyés par courrier à son adresse."
            )
            self.add_error("phone", ValidationError(message, code="no_contact"))
        elif no_contact and self.channel not in STAFF_CHANNELS:
            message = (
                "Indiquez au moins un téléphone ou une adresse e-mail pour que la CPTS "
                "puisse vous recontacter. Sans l'un ni l'autre, appelez la CPTS : elle "
                "enregistrera votre demande avec vous."
            )
            self.add_error("phone", ValidationError(message, code="no_contact"))
        if data.get("reason") == Reason.OTHER and not data.get("reason_other", "").strip():
            self.add_error("reason_other", "Précisez la raison de votre demande.")
        if data.get("postcode") and "postcode" not in self.errors:
            try:
                data["commune"] = self.commune_resolver(
                    postcode=data["postcode"], name=data.get("commune_name", "")
                )
            except ValidationError as error:
                target = "postcode" if error.code == "postcode_unknown" else "commune_name"
                self.add_error(target, error)
        return data

    def household_values(self) -> dict:
        return {key: self.cleaned_data[key] for key in HOUSEHOLD_FIELDS}


NAME_MAX_LENGTH = 100


class MemberForm(forms.Form):
    first_name = forms.CharField(
        label="Prénom",
        max_length=NAME_MAX_LENGTH,
        error_messages=_required("Indiquez le prénom."),
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
    )
    last_name = forms.CharField(
        label="Nom",
        max_length=NAME_MAX_LENGTH,
        error_messages=_required("Indiquez le nom."),
        widget=forms.TextInput(attrs={"autocomplete": "family-name"}),
    )
    birth_date = forms.DateField(
        label="Date de naissance",
        input_formats=DATE_FORMATS,
        error_messages={
            "required": "Indiquez la date de naissance.",
            "invalid": "Date de naissance non reconnue : écrivez-la au format JJ/MM/AAAA.",
        },
        widget=DateInput(attrs={"autocomplete": "bday"}),
    )
    has_ald = forms.BooleanField(
        label="Affection de longue durée (ALD, prise en charge à 100 %)", required=False
    )
    has_disability = forms.BooleanField(label="Situation de handicap", required=False)
    home_visits = forms.ChoiceField(
        label="Visites à domicile nécessaires ?",
        choices=HomeVisits.choices,
        initial=HomeVisits.NEVER,
        widget=forms.RadioSelect,
        error_messages=_required("Indiquez si des visites à domicile sont nécessaires."),
    )
    conditions = forms.CharField(
        label="Pathologies particulières ou handicap à signaler (facultatif)",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    sex = forms.ChoiceField(
        label="Sexe (facultatif)",
        choices=[("", "non précisé"), *Sex.choices],
        required=False,
        widget=forms.RadioSelect,
    )
    nir = forms.CharField(
        label="Numéro de sécurité sociale (facultatif)",
        max_length=30,
        required=False,
        help_text="15 chiffres, sur la carte Vitale. Il aide la CPTS à éviter les doublons.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "numeric"}),
    )

    def _name_within_length(self, name: str, message: str) -> str:
        """Measured after NFKC normalisation: "ﬃ" is three letters, "ﷺ" eighteen."""
        value = self.cleaned_data[name]
        if len(unicodedata.normalize("NFKC", value)) > NAME_MAX_LENGTH:
            raise ValidationError(message, code="max_length")
        return value

    def clean_first_name(self):
        return self._name_within_length("first_name", "Ce prénom est trop long.")

    def clean_last_name(self):
        return self._name_within_length("last_name", "Ce nom est trop long.")

    def clean_birth_date(self):
        return validate_birth_date(self.cleaned_data["birth_date"], today=timezone.localdate())

    def clean(self):
        data = super().clean()
        if data.get("nir") and "birth_date" not in self.errors:
            try:
                data["nir"] = validate_nir(
                    data["nir"], sex=data.get("sex", ""), birth_date=data.get("birth_date")
                )
            except ValidationError as error:
                self.add_error("nir", error)
        return data


class BaseMemberFormSet(forms.BaseFormSet):
    # Django's own messages name "ManagementForm" and ask for a bug report (found by tests/fuzz):
    # a page kept open too long or altered is told what to do, in words a person understands.
    default_error_messages = {
        "missing_management_form": (
            "La liste des personnes du foyer n'a pas été transmise correctement : rechargez la "
            "page et saisissez-les de nouveau."
        ),
        "too_many_forms": f"Un foyer compte au plus {MAX_MEMBERS} personnes.",
        "too_few_forms": "Indiquez au moins une personne du foyer.",
    }

    def clean(self):
        if any(self.errors):
            return
        filled = [f for f in self.forms if f.cleaned_data]
        if not filled:
            raise ValidationError("Indiquez au moins une personne du foyer.")


class _EditMemberFormSet(BaseMemberFormSet):
    def add_fields(self, form, index):
        super().add_fields(form, index)
        if "DELETE" in form.fields:
            form.fields["DELETE"].label = "Retirer cette personne de la demande"

    def member_values(self) -> list[dict]:
        """The people kept (filled in, not ticked « Retirer »), without the DELETE flag."""
        return [
            {k: v for k, v in form.cleaned_data.items() if k != "DELETE"}
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]


# The household's people once registered (the coordinator's edit page, the person's
# correction page): one blank person to add, and « Retirer » on each.
EditMemberFormSet = forms.formset_factory(
    MemberForm,
    formset=_EditMemberFormSet,
    extra=1,
    can_delete=True,
    max_num=MAX_MEMBERS,
    validate_max=True,
)


class IntakeMemberForm(MemberForm):
    """A member on the intake page: the sex as a short list, beside the birth date on a phone."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sex"].widget = forms.Select(choices=self.fields["sex"].choices)
        self.fields["sex"].label = "Sexe"  # « non précisé » by default: clearly optional

    def has_changed(self):
        """An added person left with nothing typed but the household's name (filled in for
        them) is no person: ignored like an empty one (the first person is always checked)."""
        return bool(set(self.changed_data) - {"last_name"})


class _RetypedMemberFormSet(BaseMemberFormSet):
    """Shows typed values as initial data while counting every form as new (INITIAL_FORMS=0),
    so that an empty added person is ignored on submission."""

    def initial_form_count(self):
        return 0


MemberFormSet = forms.formset_factory(
    IntakeMemberForm,
    formset=BaseMemberFormSet,
    extra=0,
    min_num=1,
    validate_min=True,
    max_num=MAX_MEMBERS,
    validate_max=True,
)


def _checked(value) -> bool:
    return value in ("on", "true", "True", "1")


class IntakeForms:
    """The household form and the members formset of one page."""

    prefix = "membres"

    def __init__(
        self, *, cpts, channel: str, data=None, retype: bool = False, place: dict | None = None
    ):
        """`retype`: the person pressed "Ajouter une personne du foyer" (`add_member`) or
        "Retirer cette personne" (`remove_member`, its index): show the page again, changed.
        `place`: postcode and commune already known (the home page's search), for an empty form."""
        self.cpts = cpts
        self.channel = channel
        # Number (1, 2…) of the person just added: the page lands on them (#personne-N).
        self.added_number = None
        if data is not None and retype:
            self._build_unbound_from(data)
            return
        initial = None if data is not None else {"submission_key": uuid.uuid4(), **(place or {})}
        self.household = HouseholdForm(
            data, cpts=cpts, channel=channel, initial=initial, gp_list=self._gp_list(data)
        )
        self.members = MemberFormSet(data, prefix=self.prefix)
        self._phone_layout()

    @staticmethod
    def retyping(data) -> bool:
        """A button that shows the page again, changed, without validating it: add or remove a
        member, show the list of the GPs."""
        return "add_member" in data or "remove_member" in data or USUAL_GP_LIST in data

    @staticmethod
    def _gp_list(data) -> bool:
        """The list of the GPs is shown once asked for, or to show the GP already picked."""
        return data is not None and bool(USUAL_GP_LIST in data or data.get("usual_gp_rpps"))

    def _phone_layout(self) -> None:
        """The coverage as a short list (five long radio labels are a screen on a phone)."""
        coverage = self.household.fields["coverage"]
        coverage.widget = forms.Select(choices=coverage.choices)

    def _build_unbound_from(self, data) -> None:
        """Re-render what was typed with one more (empty) member, or one less, without error
        messages."""
        household_initial = {key: data.get(key) for key in data if not key.startswith(self.prefix)}
        for key in list(household_initial):
            if key in HouseholdForm.base_fields and isinstance(
                HouseholdForm.base_fields[key], forms.BooleanField
            ):
                household_initial[key] = _checked(data.get(key))
        for key in ("consent_processing", "consent_sharing", "attestation", "oral_consent"):
            if key in data:
                household_initial[key] = _checked(data.get(key))
        try:
            total = int(data.get(f"{self.prefix}-TOTAL_FORMS", "1"))
        except ValueError:
            total = 1
        total = max(1, min(total, MAX_MEMBERS))
        members_initial = []
        for index in range(total):
            row = {}
            for name, form_field in MemberForm.base_fields.items():
                value = data.get(f"{self.prefix}-{index}-{name}")
                if isinstance(form_field, forms.BooleanField):
                    row[name] = _checked(value)
                elif value is not None:
                    row[name] = value
            members_initial.append(row)
        removed = data.get("remove_member", "")
        # isdecimal, not isdigit: "²" is a digit that int() refuses (found by tests/fuzz).
        if removed.isdecimal() and 0 < int(removed) < len(members_initial):
            del members_initial[int(removed)]  # the first person (the contact) stays
        elif "add_member" in data and total < MAX_MEMBERS:
            # Same household, usually the same name: typed once, changed if need be.
            family_name = members_initial[0].get("last_name", "")
            members_initial.append({"home_visits": HomeVisits.NEVER, "last_name": family_name})
            self.added_number = len(members_initial)
        self.household = HouseholdForm(
            cpts=self.cpts,
            channel=self.channel,
            initial=household_initial,
            gp_list=self._gp_list(data),
        )
        self.household.fields["phone"].widget.attrs.pop("autofocus", None)
        if USUAL_GP_LIST in data:
            self.household.fields["usual_gp_rpps"].widget.attrs["autofocus"] = True
        formset_class = forms.formset_factory(
            IntakeMemberForm,
            formset=_RetypedMemberFormSet,
            extra=len(members_initial),
            min_num=0,
            max_num=MAX_MEMBERS,
        )
        self.members = formset_class(prefix=self.prefix, initial=members_initial)
        self._phone_layout()
        if self.added_number:
            added = self.members.forms[-1]
            added.fields["first_name"].widget.attrs["autofocus"] = True

    @property
    def optional_situation_given(self) -> bool:
        """Something typed (or refused) in the optional part, or the list of the GPs asked
        for: the page shows it open."""
        return self.household.gp_list_shown or any(
            self.household[name].value() or name in self.household.errors
            for name in OPTIONAL_SITUATION
        )

    @property
    def is_bound(self) -> bool:
        return self.household.is_bound

    def is_valid(self) -> bool:
        household_ok = self.household.is_valid()
        members_ok = self.members.is_valid()
        return household_ok and members_ok

    def is_honeypot_filled(self) -> bool:
        return bool(self.household.data.get("website", "").strip())

    def member_values(self) -> list[dict]:
        return [form.cleaned_data for form in self.members.forms if form.cleaned_data]

    def error_summary(self) -> list[tuple[str, str, str]]:
        """(anchor id, field label, message) for the summary at the top of the page."""
        if not self.is_bound:
            return []
        summary = []
        for name, errors in self.household.errors.items():
            if name == "__all__":
                summary += [("", "", str(e)) for e in errors]
                continue
            bound = self.household[name]
            summary += [(bound.auto_id, bound.label, str(e)) for e in errors]
        for index, form in enumerate(self.members.forms, start=1):
            for name, errors in form.errors.items():
                if name == "__all__":
                    summary += [("", f"Personne {index}", str(e)) for e in errors]
                    continue
                bound = form[name]
                summary += [
                    (bound.auto_id, f"Personne {index} — {bound.label}", str(e)) for e in errors
                ]
        summary += [("", "Personnes du foyer", str(e)) for e in self.members.non_form_errors()]
        return summary
