"""Password rules: length rather than composition (settings.AUTH_PASSWORD_VALIDATORS)."""

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError


class MaximumLengthValidator:
    """Room for a long passphrase, but a bound on what the hasher is given."""

    def __init__(self, max_length: int = 128):
        self.max_length = max_length

    def validate(self, password, user=None):
        if len(password) > self.max_length:
            raise ValidationError(
                f"Le mot de passe ne doit pas dépasser {self.max_length} caractères.",
                code="password_too_long",
            )

    def get_help_text(self):
        return f"Au plus {self.max_length} caractères : une phrase de passe convient très bien."


class CommonPasswordValidator(password_validation.CommonPasswordValidator):
    """Django's list of 20,000 common passwords, checked also once case, digits and symbols
    are set aside: "Password123!" is "password" with decorations."""

    def validate(self, password, user=None):
        lowered = password.lower().strip()
        letters = "".join(ch for ch in lowered if ch.isalpha())
        if {lowered, letters} & self.passwords:
            raise ValidationError("Ce mot de passe est trop courant.", code="password_too_common")

    def get_help_text(self):
        return "Pas un mot de passe courant, même agrémenté de chiffres ou de symboles."
