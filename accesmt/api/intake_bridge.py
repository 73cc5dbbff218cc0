"""From the API payload to what `accesmt.intake.services.request_create` takes, through the
intake forms (the same checks and French messages as the public page)."""

from __future__ import annotations

from typing import Any

from accesmt.intake.forms import HouseholdForm, MemberForm

from .schemas import RequestIn

API_CHANNEL = "api"  # HouseholdForm without consent fields nor honeypot: consent checked here
CONSENT_MISSING = (
    "L'accord de la personne est indispensable : ne transmettez la demande qu'après l'avoir "
    "recueilli (valeur attendue : true)."
)


class ApiInvalid(Exception):
    def __init__(self, errors: list[tuple[str, str]]):
        super().__init__("invalid payload")
        self.errors = errors


def _form_data(values: dict[str, Any]) -> dict[str, str]:
    """Booleans as checkboxes (present = checked), dates as ISO text, the rest as text."""
    data = {}
    for name, value in values.items():
        if isinstance(value, bool):
            if value:
                data[name] = "on"
        elif value is None:
            continue
        elif hasattr(value, "isoformat"):
            data[name] = value.isoformat()
        else:
            data[name] = str(value)
    return data


def _form_errors(form, prefix: str = "") -> list[tuple[str, str]]:
    errors = []
    for name, messages in form.errors.items():
        field = "" if name == "__all__" else f"{prefix}{name}"
        errors += [(field, str(message)) for message in messages]
    return errors


def validate_payload(payload: RequestIn, *, cpts) -> tuple[dict, list[dict]]:
    """(household values, member values) ready for `request_create`, or ApiInvalid with every
    error, each naming its field as the JSON does ("members[0].birth_date")."""
    errors: list[tuple[str, str]] = []
    values = payload.dict()
    member_values = values.pop("members")
    for consent in ("consent_processing", "consent_sharing"):
        if not values.pop(consent):
            errors.append((consent, CONSENT_MISSING))
    household = HouseholdForm(_form_data(values), cpts=cpts, channel=API_CHANNEL)
    if not household.is_valid():
        errors += _form_errors(household)
    members = []
    for index, member in enumerate(member_values):
        form = MemberForm(_form_data(member))
        if form.is_valid():
            members.append(form.cleaned_data)
        else:
            errors += _form_errors(form, prefix=f"members[{index}].")
    if errors:
        raise ApiInvalid(errors)
    return household.household_values(), members
