"""Splitting a household: a household stays together for matching (one GP for all its members)
unless the coordinator splits it, e.g. when no GP takes a large family at once.

`request_split(request=A, member_ids=[…], by=user)` moves those members into a new request B that
copies A's address, contact, situation, consent and referral, and keeps A's status and
`waiting_since` (the people have waited since A was made). Both priorities are computed again.
B's history starts with a line naming A; both get an "update" audit line. Refused while GPs are
being asked about A (proposing, awaiting choice) and when it would leave either request empty.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accesmt.accounts.actors import actor_or_none
from accesmt.accounts.models import AuditAction
from accesmt.accounts.services import audit_record

from .lifecycle import record_creation
from .models import HouseholdMember, Request, Status
from .services import _enqueue_acknowledgment, request_recompute_priority

if TYPE_CHECKING:
    from accesmt.accounts.models import User

SPLITTABLE = (Status.NEW, Status.TO_VERIFY, Status.WAITING)
NOT_COPIED = {
    "id",
    "reference",
    "submission_key",
    "submission_fingerprint",
    "created_at",
    "updated_at",
    "created_by",
    "is_priority",
    "priority_rule_count",
}


def request_split(
    *, request: Request, member_ids, by: User | None = None, http_request=None
) -> Request:
    by = actor_or_none(by)
    with transaction.atomic():
        locked = Request.objects.select_for_update(of=("self",)).get(pk=request.pk)
        if locked.status not in SPLITTABLE:
            raise ValidationError(
                "On ne sépare pas un foyer pendant que des médecins sont sollicités ou après "
                "la clôture."
            )
        members = list(locked.members.order_by("position", "pk"))
        try:
            wanted = {int(pk) for pk in member_ids}
        except (TypeError, ValueError) as exc:
            raise ValidationError("Sélection invalide.") from exc
        moving = [m for m in members if m.pk in wanted]
        if not moving or len(moving) != len(wanted):
            raise ValidationError("Cochez les personnes à placer dans une demande séparée.")
        if len(moving) == len(members):
            raise ValidationError("Au moins une personne doit rester dans la demande.")
        now = timezone.now()
        values = {
            f.attname: getattr(locked, f.attname)
            for f in Request._meta.concrete_fields
            if f.name not in NOT_COPIED
        }
        new = Request(**values, created_at=now, created_by=by)
        new.full_clean()
        new.save()
        HouseholdMember.objects.filter(pk__in=[m.pk for m in moving]).update(request=new)
        if not any(m.is_contact_person for m in moving):
            HouseholdMember.objects.filter(pk=moving[0].pk).update(is_contact_person=True)
        if not locked.members.filter(is_contact_person=True).exists():
            first = locked.members.order_by("position", "pk").first()
            HouseholdMember.objects.filter(pk=first.pk).update(is_contact_person=True)
        record_creation(request=new, by=by, note=f"Séparée de la demande {locked.reference}")
        # The new request has its own reference and follow-up link: its people must receive them.
        _enqueue_acknowledgment(request=new)
        for each in (locked, new):
            request_recompute_priority(request=each)
            audit_record(
                actor=by,
                action=AuditAction.UPDATE,
                obj=each,
                cpts=each.cpts,
                http_request=http_request,
            )
    return new
