"""Merging two requests of the same household (duplicates), and dismissing a false duplicate.

`request_merge(keep=A, duplicate=B, by=user)`:
- B is closed with the reason "duplicate" (through `lifecycle.request_transition`, so the
  history says who and when, and the note names A's reference);
- the pointer B → A is the `DuplicateFlag(request=B, other_request=A, resolution="merged")`
  (created when detection had flagged the pair the other way round): `merged_into(B)` reads it;
- nothing is lost: A receives B's contact details and texts that A lacks, the "help with rights"
  and "urgent follow-up" flags when B had them, a known coverage when A's was unknown, the
  earlier `waiting_since` of the two (the household has waited since its first request), and
  B's members who are not already in A (same NIR, or same normalised name and birth date);
  a member present in both gets from B what A's copy lacks (NIR, sex, ALD, disability,
  conditions, the stronger home-visit need);
- A's priority is computed again; both requests get an "update" audit line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from accesmt.accounts.models import AuditAction
from accesmt.accounts.services import audit_record

from .lifecycle import request_transition
from .models import (
    ClosedReason,
    DuplicateFlag,
    DuplicateReason,
    HomeVisits,
    HouseholdMember,
    Request,
    Status,
)
from .services import MEMBER_FIELDS, request_recompute_priority

if TYPE_CHECKING:
    from accesmt.accounts.models import User

MERGED = "merged"
DISMISSED = "dismissed"

# Household fields copied from the duplicate when the kept request has them empty.
FILL_IF_EMPTY = (
    "phone",
    "email",
    "former_gp_name",
    "former_gp_commune",
    "other_professionals",
    "reason_other",
)
# Booleans that stay true when either request had them.
KEEP_IF_EITHER = ("needs_rights_help", "urgent_follow_up")
VISIT_STRENGTH = {HomeVisits.NEVER: 0, HomeVisits.OCCASIONALLY: 1, HomeVisits.EXCLUSIVELY: 2}


@dataclass
class MergeResult:
    kept: Request
    closed: Request
    members_added: list[HouseholdMember] = field(default_factory=list)
    fields_copied: list[str] = field(default_factory=list)


def same_person(a: HouseholdMember, b: HouseholdMember) -> bool:
    if a.nir and b.nir:
        return a.nir == b.nir
    return a.normalised_name == b.normalised_name and a.birth_date == b.birth_date


def _complete_member(target: HouseholdMember, source: HouseholdMember) -> bool:
    changed = False
    for name in ("nir", "sex", "conditions"):
        if not getattr(target, name) and getattr(source, name):
            setattr(target, name, getattr(source, name))
            changed = True
    for name in ("has_ald", "has_disability"):
        if getattr(source, name) and not getattr(target, name):
            setattr(target, name, True)
            changed = True
    if VISIT_STRENGTH.get(source.home_visits, 0) > VISIT_STRENGTH.get(target.home_visits, 0):
        target.home_visits = source.home_visits
        changed = True
    return changed


def merged_into(request: Request) -> Request | None:
    """The request a duplicate was merged into, if it was."""
    flag = (
        DuplicateFlag.objects.filter(request=request, resolution=MERGED)
        .select_related("other_request")
        .first()
    )
    return flag.other_request if flag is not None else None


def request_merge(
    *, keep: Request, duplicate: Request, by: User | None, http_request=None
) -> MergeResult:
    """Merge `duplicate` into `keep` (same CPTS, both open). See the module docstring."""
    if keep.pk == duplicate.pk:
        raise ValidationError("Une demande ne peut pas être fusionnée avec elle-même.")
    if keep.cpts_id != duplicate.cpts_id:
        raise ValidationError("Seules deux demandes de la même CPTS peuvent être fusionnées.")
    with transaction.atomic():
        locked = {
            r.pk: r
            for r in Request.objects.select_for_update().filter(pk__in=[keep.pk, duplicate.pk])
        }
        kept, closed = locked[keep.pk], locked[duplicate.pk]
        if kept.status == Status.CLOSED or closed.status == Status.CLOSED:
            raise ValidationError("Les deux demandes doivent être ouvertes pour être fusionnées.")
        result = MergeResult(kept=kept, closed=closed)

        for name in FILL_IF_EMPTY:
            if not getattr(kept, name) and getattr(closed, name):
                setattr(kept, name, getattr(closed, name))
                result.fields_copied.append(name)
        for name in KEEP_IF_EITHER:
            if getattr(closed, name) and not getattr(kept, name):
                setattr(kept, name, True)
                result.fields_copied.append(name)
        if kept.coverage == "unknown" and closed.coverage != "unknown":
            kept.coverage = closed.coverage
            result.fields_copied.append("coverage")
        if closed.comment.strip() and closed.comment.strip() not in kept.comment:
            note = f"[Fusion de {closed.reference}] {closed.comment.strip()}"
            kept.comment = f"{kept.comment.rstrip()}\n{note}".strip()
            result.fields_copied.append("comment")
        if closed.waiting_since < kept.waiting_since:
            kept.waiting_since = closed.waiting_since
            result.fields_copied.append("waiting_since")
        kept.full_clean()
        kept.save()

        kept_members = list(kept.members.all())
        next_position = (kept.members.aggregate(m=Max("position"))["m"] or 0) + 1
        for member in closed.members.order_by("position", "pk"):
            twin = next((m for m in kept_members if same_person(m, member)), None)
            if twin is not None:
                if _complete_member(twin, member):
                    twin.full_clean(exclude=["normalised_name"])
                    twin.save()
                continue
            copy = HouseholdMember(
                request=kept,
                position=next_position,
                is_contact_person=False,
                **{name: getattr(member, name) for name in MEMBER_FIELDS},
            )
            copy.full_clean(exclude=["normalised_name"])
            copy.save()
            next_position += 1
            kept_members.append(copy)
            result.members_added.append(copy)

        request_recompute_priority(request=kept)
        request_transition(
            request=closed,
            to=Status.CLOSED,
            by=by,
            reason=ClosedReason.DUPLICATE,
            note=f"Fusionnée dans {kept.reference}",
        )
        now = timezone.now()
        pair = Q(request=closed, other_request=kept) | Q(request=kept, other_request=closed)
        existing = DuplicateFlag.objects.filter(pair)
        reason = (
            DuplicateReason.NIR
            if existing.filter(reason=DuplicateReason.NIR).exists()
            else DuplicateReason.NAME_BIRTH_DATE
        )
        existing.filter(request=kept).update(resolved_at=now, resolved_by=by, resolution=MERGED)
        DuplicateFlag.objects.update_or_create(
            request=closed,
            other_request=kept,
            defaults={
                "reason": reason,
                "same_cpts": True,
                "resolved_at": now,
                "resolved_by": by,
                "resolution": MERGED,
            },
        )
        for obj in (kept, closed):
            audit_record(
                actor=by,
                action=AuditAction.UPDATE,
                obj=obj,
                cpts=obj.cpts,
                http_request=http_request,
            )
    keep.refresh_from_db()
    duplicate.refresh_from_db()
    result.kept, result.closed = keep, duplicate
    return result


def duplicate_dismiss(*, flag: DuplicateFlag, by: User | None, http_request=None) -> DuplicateFlag:
    """The coordinator says the two requests are different people: the flag is resolved."""
    if flag.resolved_at is not None:
        raise ValidationError("Ce doublon possible a déjà été traité.")
    flag.resolved_at = timezone.now()
    flag.resolved_by = by
    flag.resolution = DISMISSED
    flag.full_clean()
    flag.save(update_fields=["resolved_at", "resolved_by", "resolution"])
    audit_record(
        actor=by,
        action=AuditAction.UPDATE,
        obj=flag.request,
        cpts=flag.request.cpts,
        http_request=http_request,
    )
    return flag
