"""The error of the orientation flow."""

from django.core.exceptions import ValidationError


class OrientationError(ValidationError):
    """A move of the flow that is not possible now (French message for the user)."""
