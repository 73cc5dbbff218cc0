from django import forms
from django.contrib.auth.forms import (
    AuthenticationForm,
    BaseUserCreationForm,
    PasswordResetForm,
    UserChangeForm,
)
from django.db import transaction
from django.template import loader

from accesmt.territory.models import Commune

from .members import membership_check
from .models import Profession, Role, User


class EmailAuthenticationForm(AuthenticationForm):
    """Login by e-mail: case and surrounding spaces do not matter; one message for every
    failure so that the form does not tell which accounts exist."""

    username = forms.EmailField(
        label="Adresse e-mail",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "username", "autofocus": True}),
    )
    error_messages = {
        "invalid_login": "Adresse e-mail ou mot de passe incorrect.",
        "inactive": "Adresse e-mail ou mot de passe incorrect.",
    }

    def clean_username(self) -> str:
        return self.cleaned_data["username"].strip().lower()


class OutboxPasswordResetForm(PasswordResetForm):
    """The password-reset e-mail goes through the outbox like every other message (retried
    during an SMTP outage, never lost, never sent from the web request), and its link is built
    from PUBLIC_BASE_URL, never from the Host header the client sent."""

    def send_mail(
        self,
        subject_template_name,
        email_template_name,
        context,
        from_email,
        to_email,
        html_email_template_name=None,
    ):
        from accesmt.notifications.services import outbox_enqueue

        subject = "".join(loader.render_to_string(subject_template_name, context).splitlines())
        body = loader.render_to_string(email_template_name, context)
        with transaction.atomic():
            outbox_enqueue(
                channel="email",
                to=to_email,
                subject=subject,
                body=body,
                topic="accounts.password_reset",
            )


class AdminUserCreationForm(BaseUserCreationForm):
    """Creates an e-mail account in the admin; the password rules apply."""

    class Meta:
        model = User
        fields = ("email", "first_name", "last_name")

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError("Un compte existe déjà avec cette adresse e-mail.")
        return email


class AdminUserChangeForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()


class MemberRoleForm(forms.Form):
    """A member's role in one CPTS: role, profession (a referrer's is required), communes (a
    mairie's, of the CPTS's territory only). The rules are `members.membership_check`'s."""

    role = forms.ChoiceField(label="Rôle", choices=[("", "— Choisissez un rôle —"), *Role.choices])
    profession = forms.ChoiceField(
        label="Profession",
        required=False,
        choices=[("", "— Aucune —"), *Profession.choices],
        help_text="Obligatoire pour un professionnel orienteur.",
    )
    communes = forms.ModelMultipleChoiceField(
        label="Communes (rôle mairie)",
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Pour le rôle mairie seulement : les communes dont elle voit les indicateurs.",
        error_messages={"invalid_choice": "Choisissez des communes du territoire de la CPTS."},
    )

    def __init__(self, *args, cpts, **kwargs):
        super().__init__(*args, **kwargs)
        self.cpts = cpts
        self.fields["communes"].queryset = Commune.objects.filter(territory__cpts=cpts).order_by(
            "name"
        )

    def clean(self):
        cleaned = super().clean()
        if not self.errors:
            cleaned["profession"] = membership_check(
                role=cleaned["role"],
                profession=cleaned["profession"],
                cpts=self.cpts,
                communes=cleaned["communes"],
            )
        return cleaned


class MemberInviteForm(MemberRoleForm):
    email = forms.EmailField(
        label="Adresse e-mail",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
    first_name = forms.CharField(label="Prénom", max_length=150)
    last_name = forms.CharField(label="Nom", max_length=150)

    field_order = ["email", "first_name", "last_name", "role", "profession", "communes"]


class OTPCodeForm(forms.Form):
    """A code of the authentication application (6 digits), or a recovery code."""

    code = forms.CharField(
        label="Code à 6 chiffres de votre application",
        max_length=20,
        error_messages={"required": "Saisissez le code affiché par votre application."},
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autocapitalize": "none", "spellcheck": "false"}
        ),
    )

    def __init__(self, *args, recovery_allowed: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if recovery_allowed:
            self.fields["code"].label = "Code à 6 chiffres ou code de secours"
            self.fields["code"].help_text = (
                "Le code change toutes les 30 secondes. Sans votre téléphone, saisissez l'un de "
                "vos codes de secours (chacun ne sert qu'une fois)."
            )
        else:
            self.fields["code"].widget.attrs["inputmode"] = "numeric"
