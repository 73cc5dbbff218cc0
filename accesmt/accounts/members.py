"""Members of a CPTS managed in the product (issue 13): invite a professional by e-mail, change
a member's role, deactivate, reactivate or remove a membership. Each write is audited (one line:
the actor, the member's user, the change) and a CPTS always keeps one active coordinator.

Invitation policy: a new person gets an inactive account without a usable password and an
e-mail with a link `compte/invitation/<uidb64>/<token>/` (valid PASSWORD_RESET_TIMEOUT, one use:
the token hashes the password, which the link sets). Resending draws a new unusable password,
so that older links stop working. A person who already has a password is added and told by
e-mail, without a link to set one. E-mails hold the CPTS name, the role and the link only.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accesmt.common.links import public_url
from accesmt.notifications.messages import render_message
from accesmt.notifications.services import outbox_enqueue
from accesmt.territory.models import CPTS

from .models import (
    CPAM_ROLES,
    AuditAction,
    Membership,
    Profession,
    Role,
    User,
    clean_mairie_communes,
)
from .services import audit_record

TOPIC_INVITATION = "accounts.invitation"
MESSAGES = "accounts/messages/{}.txt"
LAST_COORDINATOR = (
    "La CPTS doit garder au moins un·e coordinateur·rice actif·ve : désignez-en d'abord un·e autre."
)


class InvitationTokenGenerator(PasswordResetTokenGenerator):
    """Like the password-reset token (one use, PASSWORD_RESET_TIMEOUT), with its own salt: a
    reset link is no invitation link and the other way round."""

    key_salt = "accesmt.accounts.members.InvitationTokenGenerator"


invitation_token_generator = InvitationTokenGenerator()


def membership_check(*, role: str, profession: str, cpts, communes) -> str:
    """The profession to store, or ValidationError naming the field: a referrer names a
    profession, a CPAM role defaults to "Assurance Maladie", a mairie's communes are of the
    territory and only a mairie has communes."""
    if role not in Role.values:
        raise ValidationError({"role": "Choisissez un rôle de la liste."})
    if profession and profession not in Profession.values:
        raise ValidationError({"profession": "Choisissez une profession de la liste."})
    if role == Role.REFERRER and not profession:
        raise ValidationError(
            {"profession": "Indiquez la profession d'un professionnel orienteur."}
        )
    clean_mairie_communes(role=role, cpts=cpts, communes=communes)
    if role in CPAM_ROLES and not profession:
        return Profession.CPAM
    return profession


def is_last_coordinator(membership: Membership) -> bool:
    """True when `membership` is the one active coordinator (with an active account) left."""
    if membership.role != Role.COORDINATOR or not membership.is_active:
        return False
    return not (
        Membership.objects.filter(
            cpts_id=membership.cpts_id, role=Role.COORDINATOR, is_active=True, user__is_active=True
        )
        .exclude(pk=membership.pk)
        .exists()
    )


def _lock(membership: Membership) -> Membership:
    """The membership again, its CPTS row locked (PostgreSQL) so that two coordinators cannot
    each remove the other at the same time."""
    CPTS.objects.select_for_update().filter(pk=membership.cpts_id).first()
    return Membership.objects.select_related("user", "cpts").get(pk=membership.pk)


def _keep_a_coordinator(membership: Membership, *, field: str | None = None) -> None:
    if is_last_coordinator(membership):
        raise ValidationError({field: LAST_COORDINATOR} if field else LAST_COORDINATOR)


def invitation_link(user: User) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = invitation_token_generator.make_token(user)
    return public_url(reverse("accounts:invitation", kwargs={"uidb64": uid, "token": token}))


def is_invited(user: User) -> bool:
    """Invited and not yet accepted: no password chosen yet."""
    return not user.has_usable_password()


def _send_invitation(membership: Membership) -> None:
    user, cpts = membership.user, membership.cpts
    home = reverse("reporting:cpts_home", kwargs={"cpts_slug": cpts.slug})
    context = {
        "cpts_name": cpts.name,
        "role": membership.get_role_display(),
        "days": max(1, settings.PASSWORD_RESET_TIMEOUT // 86400),
    }
    if is_invited(user):
        name = "invitation"
        context["link"] = invitation_link(user)
    else:
        name = "member_added"
        context["link"] = public_url(reverse("accounts:login") + "?" + urlencode({"next": home}))
    subject, body = render_message(
        MESSAGES.format(f"{name}_email"),
        context,
        subject_template=MESSAGES.format(f"{name}_subject"),
    )
    outbox_enqueue(
        channel="email",
        to=user.email,
        subject=subject,
        body=body,
        topic=TOPIC_INVITATION,
        cpts=cpts,
    )


@transaction.atomic
def member_invite(
    *,
    cpts,
    email: str,
    first_name: str,
    last_name: str,
    role: str,
    profession: str = "",
    communes=(),
    actor,
    http_request=None,
) -> Membership:
    """Add a person to `cpts` with `role` and e-mail them (see the module's docstring). Raises
    ValidationError naming the field; nothing is written then."""
    communes = list(communes)
    profession = membership_check(role=role, profession=profession, cpts=cpts, communes=communes)
    email = User.objects.normalize_email(email.strip()).lower()
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        user = User(
            email=email, first_name=first_name.strip(), last_name=last_name.strip(), is_active=False
        )
        user.set_unusable_password()
        user.full_clean()
        user.save()
    elif user.memberships.filter(cpts=cpts).exists():
        raise ValidationError({"email": "Cette personne est déjà membre de la CPTS."})
    elif not user.is_active and not is_invited(user):
        raise ValidationError(
            {
                "email": "Ce compte est désactivé : adressez-vous à l'administrateur "
                "de la plateforme."
            }
        )
    membership = Membership(user=user, cpts=cpts, role=role, profession=profession)
    membership.full_clean()
    membership.save()
    membership.communes.set(communes)
    _send_invitation(membership)
    audit_record(
        actor=actor,
        action=AuditAction.MEMBER_INVITE,
        obj=user,
        cpts=cpts,
        http_request=http_request,
    )
    return membership


@transaction.atomic
def member_invitation_resend(*, membership: Membership, actor, http_request=None) -> bool:
    """A new invitation link (older ones stop working); False when the person has already
    chosen a password (nothing to resend)."""
    membership = _lock(membership)
    user = membership.user
    if not is_invited(user):
        return False
    user.set_unusable_password()
    user.save(update_fields=["password"])
    _send_invitation(membership)
    audit_record(
        actor=actor,
        action=AuditAction.MEMBER_INVITE,
        obj=user,
        cpts=membership.cpts,
        http_request=http_request,
    )
    return True


@transaction.atomic
def membership_change(
    *,
    membership: Membership,
    role: str,
    profession: str = "",
    communes=(),
    actor,
    http_request=None,
) -> Membership:
    """Give `membership` another role (and profession, communes)."""
    membership = _lock(membership)
    communes = list(communes)
    profession = membership_check(
        role=role, profession=profession, cpts=membership.cpts, communes=communes
    )
    if role != Role.COORDINATOR:
        _keep_a_coordinator(membership, field="role")
    membership.role, membership.profession = role, profession
    membership.full_clean()
    membership.save(update_fields=["role", "profession"])
    membership.communes.set(communes)
    audit_record(
        actor=actor,
        action=AuditAction.MEMBER_CHANGE,
        obj=membership.user,
        cpts=membership.cpts,
        http_request=http_request,
    )
    return membership


@transaction.atomic
def membership_set_active(
    *, membership: Membership, active: bool, actor, http_request=None
) -> Membership:
    """Deactivate (the member loses access to the CPTS at once) or reactivate a membership."""
    membership = _lock(membership)
    if membership.is_active == active:
        return membership
    if not active:
        _keep_a_coordinator(membership)
    membership.is_active = active
    membership.save(update_fields=["is_active"])
    audit_record(
        actor=actor,
        action=AuditAction.MEMBER_REACTIVATE if active else AuditAction.MEMBER_DEACTIVATE,
        obj=membership.user,
        cpts=membership.cpts,
        http_request=http_request,
    )
    return membership


@transaction.atomic
def membership_remove(*, membership: Membership, actor, http_request=None) -> None:
    """Remove a person from the CPTS (their account stays, with their other CPTS)."""
    membership = _lock(membership)
    _keep_a_coordinator(membership)
    user, cpts = membership.user, membership.cpts
    membership.delete()
    audit_record(
        actor=actor,
        action=AuditAction.MEMBER_REMOVE,
        obj=user,
        cpts=cpts,
        http_request=http_request,
    )


@transaction.atomic
def invitation_accept(*, user: User, password: str) -> User:
    """The invited person chose a (validated) password: the account becomes active."""
    user.set_password(password)
    user.is_active = True
    user.save(update_fields=["password", "is_active"])
    return user
