"""A generated demo household as the data `intake.services.request_create` takes."""

from __future__ import annotations

from accesmt.territory.models import Commune

from .generator import DemoHousehold


def household_data(h: DemoHousehold, communes: dict[str, Commune]):
    household = {
        "address": h.street,
        "postcode": h.place.postcode,
        "commune": communes[h.place.insee_code],
        "phone": h.phone,
        "email": h.email,
        "coverage": h.coverage,
        "needs_rights_help": h.needs_rights_help,
        "reason": h.reason,
        "reason_other": h.reason_other,
        "former_gp_name": h.former_gp,
        "urgent_follow_up": h.urgent_follow_up,
    }
    members = [
        {
            "first_name": m.first_name,
            "last_name": m.last_name,
            "birth_date": m.birth_date,
            "sex": m.sex,
            "has_ald": m.has_ald,
            "has_disability": bool(m.disability),
            "conditions": m.disability,
            "home_visits": m.home_visits,
        }
        for m in h.members
    ]
    return household, members
