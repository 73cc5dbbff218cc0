"""Authentication events in the audit log.

Django's auth signals are the one place where every login path (the site, the admin, a
password reset that logs in) passes; the receivers only append an audit line (identifiers,
no e-mail address, no password) and have no other side effect.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver

from .models import AuditAction
from .services import audit_record


@receiver(user_logged_in, dispatch_uid="accounts_audit_login")
def audit_login(sender, request, user, **kwargs):
    """The method is recorded when it is not the password (Pro Santé Connect: "psc")."""
    method = getattr(request, "accesmt_login_method", "")
    audit_record(
        actor=user,
        action=AuditAction.LOGIN,
        object_type="accounts.login_method" if method else "",
        object_id=method,
        http_request=request,
    )


@receiver(user_login_failed, dispatch_uid="accounts_audit_login_failed")
def audit_login_failed(sender, credentials, request=None, **kwargs):
    """The account's id is stored when the e-mail matches one; the typed e-mail never is."""
    user_model = get_user_model()
    email = str(credentials.get(user_model.USERNAME_FIELD) or credentials.get("username") or "")
    actor = user_model.objects.filter(email__iexact=email.strip()).first() if email else None
    audit_record(actor=actor, action=AuditAction.LOGIN_FAILED, http_request=request)
