"""The coordinator edits a request (household and members) after intake.

The data come from the same forms as intake (`forms.HouseholdForm`, `forms.MemberForm`), so the
same validation applies; this service stores them whole or not at all, keeps the members' rows
(matched by position: the first stays the contact person), geocodes again when the address
changed, recomputes the priority and looks for duplicates again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction

from accesmt.accounts.models import AuditAction
from accesmt.accounts.services import audit_record
from accesmt.common.phones import format_phone_for_display

from .models import DuplicateFlag, HouseholdMember, Request, Status
from .services import (
    HOUSEHOLD_FIELDS,
    MEMBER_FIELDS,
    _geocode,
    check_eligibility,
    request_detect_duplicates,
    request_recompute_priority,
)

if TYPE_CHECKING:
    from accesmt.accounts.models import User


def request_update(
    *,
    request: Request,
    household: dict[str, Any],
    members: list[dict[str, Any]],
    by: User | None,
    http_request=None,
) -> Request:
    """Replace the household values and the members of an open request. Raises
    `services.NotEligible` when the new commune is outside the territory, ValidationError when
    the request is closed or the data are inconsistent."""
    if request.status == Status.CLOSED:
        raise ValidationError("Cette demande est clôturée : rouvrez-la avant de la modifier.")
    if not members:
        raise ValidationError("Indiquez au moins une personne du foyer.", code="no_member")
    # No phone nor e-mail is allowed here: the coordinator's form asks to tick "contact par
    # courrier postal uniquement", and every message then goes by letter.
    commune = household["commune"]
    check_eligibility(cpts=request.cpts, commune=commune)
    with transaction.atomic():
        locked = Request.objects.select_for_update().get(pk=request.pk)
        address_changed = (household["address"], household["postcode"], commune.pk) != (
            locked.address,
            locked.postcode,
            locked.commune_id,
        )
        for name in HOUSEHOLD_FIELDS:
            if name in household:
                setattr(locked, name, household[name])
        if address_changed:
            geocoded = _geocode(
                street=household["address"], commune=commune, postcode=household["postcode"]
            )
            for name, value in geocoded.items():
                setattr(locked, name, value)
        locked.full_clean()
        locked.save()

        existing = list(locked.members.order_by("position", "pk"))
        for position, data in enumerate(members):
            member = existing[position] if position < len(existing) else None
            if member is None:
                member = HouseholdMember(request=locked)
            member.position = position
            member.is_contact_person = position == 0
            for name in MEMBER_FIELDS:
                if name in data:
                    setattr(member, name, data[name] if data[name] is not None else "")
            member.full_clean(exclude=["normalised_name"])
            member.save()
        for member in existing[len(members) :]:
            member.delete()

        request_recompute_priority(request=locked)
        # Identities may have changed: the open flags are computed again (a flag already
        # resolved for the same pair stays as the coordinator decided).
        DuplicateFlag.objects.filter(request=locked, resolved_at__isnull=True).delete()
        request_detect_duplicates(request=locked)
        audit_record(
            actor=by,
            action=AuditAction.UPDATE,
            obj=locked,
            cpts=locked.cpts,
            http_request=http_request,
        )
    return locked


def request_edit_initial(request: Request) -> tuple[dict, list[dict]]:
    """The values of the edit forms (`forms.HouseholdForm` with the "edit" channel and
    `forms.MemberForm`), for the coordinator's page and the person's correction."""
    household = {
        "address": request.address,
        "postcode": request.postcode,
        "commune_name": request.commune.name,
        "phone": format_phone_for_display(request.phone),
        "email": request.email,
        "postal_only": not (request.phone or request.email),
        "coverage": request.coverage,
        "needs_rights_help": request.needs_rights_help,
        "reason": request.reason,
        "reason_other": request.reason_other,
        "urgent_follow_up": request.urgent_follow_up,
        "former_gp_name": request.former_gp_name,
        "former_gp_commune": request.former_gp_commune,
        "usual_gp_rpps": request.usual_gp_rpps,
        "usual_gp_name": request.usual_gp_name,
        "other_professionals": request.other_professionals,
        "comment": request.comment,
    }
    members = [
        {
            "first_name": m.first_name,
            "last_name": m.last_name,
            "birth_date": m.birth_date,
            "sex": m.sex,
            "nir": m.nir,
            "has_ald": m.has_ald,
            "has_disability": m.has_disability,
            "conditions": m.conditions,
            "home_visits": m.home_visits,
        }
        for m in request.members.order_by("position", "pk")
    ]
    return household, members
