"""Writes of the accounts app: the audit log."""

from django.db import models

from .actors import actor_or_none
from .ip import client_ip
from .models import PLATFORM_ADMIN, AuditAction, AuditLog, Membership


def _role_of(actor, cpts) -> str:
    if actor is None or not getattr(actor, "pk", None):
        return ""
    if actor.is_platform_admin:
        return PLATFORM_ADMIN
    if cpts is None:
        return ""
    membership = (
        Membership.objects.filter(user_id=actor.pk, cpts=cpts, is_active=True)
        .values_list("role", flat=True)
        .first()
    )
    return membership or ""


def audit_record(
    *,
    actor,
    action: str,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str = "",
    cpts=None,
    http_request=None,
) -> AuditLog:
    """Append one line to the audit log: who (user id and role), did what, on which record
    (`obj`, or `object_type` such as "intake.request" and `object_id`), in which CPTS, from
    which address. Never pass names, e-mail addresses or health data: only identifiers."""
    if action not in AuditAction.values:
        raise ValueError(f"Action d'audit inconnue : {action!r}")
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
    actor = actor_or_none(actor)
    line = AuditLog(
        actor=actor,
        actor_role=_role_of(actor, cpts),
        cpts=cpts,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        ip_address=client_ip(http_request),
    )
    line.full_clean()
    line.save()
    return line


def audit_record_many(*, actor, action: str, objects, cpts=None, http_request=None) -> int:
    """One audit line per record of `objects` (a list page showing several patient files, in
    one INSERT). Same rules as `audit_record`: identifiers only."""
    if action not in AuditAction.values:
        raise ValueError(f"Action d'audit inconnue : {action!r}")
    actor = actor_or_none(actor)
    role, ip = _role_of(actor, cpts), client_ip(http_request)
    lines = [
        AuditLog(
            actor=actor,
            actor_role=role,
            cpts=cpts,
            action=action,
            object_type=obj._meta.label_lower,
            object_id=str(obj.pk),
            ip_address=ip,
        )
        for obj in objects
    ]
    AuditLog.objects.bulk_create(lines)
    return len(lines)
