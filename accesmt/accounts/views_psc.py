"""Pro Santé Connect: `compte/psc/` sends to the provider, `compte/psc/retour/` comes back
(accesmt.accounts.psc). 404 when the deployment has not turned PSC on."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.http import Http404
from django.shortcuts import redirect, render
from django_otp import login as otp_login

from . import psc
from .models import AuditAction, User
from .services import audit_record

METHOD = "psc"
ID_TOKEN_KEY = "accesmt_psc_id_token"  # noqa: S105 - a session key, not a secret
UNKNOWN = (
    "Aucun compte AccèsMT n'est associé à votre carte CPS / e-CPS : "
    "demandez une invitation à votre CPTS."
)


def _enabled():
    if not settings.PSC_ENABLED:
        raise Http404


def _failure(request, message: str, status: int = 400):
    audit_record(
        actor=request.user if request.user.is_authenticated else None,
        action=AuditAction.LOGIN_FAILED,
        object_type="accounts.login_method",
        object_id=METHOD,
        http_request=request,
    )
    return render(request, "accounts/psc_error.html", {"message": message}, status=status)


def psc_start(request):
    _enabled()
    try:
        return redirect(psc.authorization_url(request))
    except psc.PSCError as exc:
        return _failure(request, str(exc), status=502)


def psc_callback(request):
    from .views import landing_url

    _enabled()
    try:
        rpps, link_pk = psc.finish(request)
    except psc.PSCError as exc:
        return _failure(request, str(exc))
    if rpps is None:
        return _failure(request, UNKNOWN, status=403)
    if link_pk is not None and request.user.is_authenticated and request.user.pk == link_pk:
        return _link(request, request.user, rpps)
    user = User.objects.filter(rpps=rpps, is_active=True).first()
    if user is None:
        return _failure(request, UNKNOWN, status=403)
    request.accesmt_login_method = METHOD  # read by the login audit (signals.audit_login)
    auth_login(request, user, backend=settings.AUTHENTICATION_BACKENDS[0])
    otp_login(request, psc.device_of(user))
    request.session[ID_TOKEN_KEY] = request.accesmt_psc_id_token
    return redirect(landing_url(user))


class LogoutView(auth_views.LogoutView):
    """The site's logout (POST). After a Pro Santé Connect login, the provider's session is
    closed too: the browser goes through its end-session address, then back to the home."""

    def post(self, request, *args, **kwargs):
        id_token = request.session.get(ID_TOKEN_KEY) if settings.PSC_ENABLED else None
        response = super().post(request, *args, **kwargs)
        if id_token:
            url = psc.logout_url(id_token)
            if url:
                return redirect(url)
        return response


def _link(request, user, rpps: str):
    """A user logged in with their password associates their card: the RPPS number is stored
    on their account, unless it already belongs to another one."""
    from .views import landing_url

    if User.objects.filter(rpps=rpps).exclude(pk=user.pk).exists() or user.rpps not in (
        None,
        rpps,
    ):
        return _failure(
            request,
            "Cette carte CPS / e-CPS est déjà associée à un autre compte, ou votre compte à une "
            "autre carte : contactez votre CPTS.",
            status=409,
        )
    if user.rpps != rpps:
        user.rpps = rpps
        user.save(update_fields=["rpps"])
        audit_record(actor=user, action=AuditAction.UPDATE, obj=user, http_request=request)
    otp_login(request, psc.device_of(user))
    messages.success(request, "Votre compte est associé à Pro Santé Connect.")
    return redirect(landing_url(user))
