from django.core.exceptions import ValidationError


class CharacterClassesValidator:
    """At least three of: lower case, upper case, digit, other character (ANSSI guidance)."""

    def validate(self, password, user=None):
        classes = [
            any(c.islower() for c in password),
            any(c.isupper() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        ]
        if sum(classes) < 3:
            raise ValidationError(
                "Le mot de passe doit mélanger au moins trois types de caractères parmi : "
                "minuscules, majuscules, chiffres et symboles.",
                code="password_too_simple",
            )

    def get_help_text(self):
        return (
            "Au moins trois types de caractères parmi : minuscules, majuscules, chiffres, symboles."
        )
