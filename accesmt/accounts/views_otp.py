"""Second factor: enrolment (`compte/double-authentification/`) and the code asked after the
password (`compte/verification/`). See accesmt.accounts.otp."""

import base64
import time
from urllib.parse import quote

import qrcode
import qrcode.image.svg
from django.contrib.auth import login as auth_login
from django.contrib.auth.signals import user_login_failed
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from accesmt.common.errors import LoginRequired

from . import lockout
from .forms import OTPCodeForm
from .models import User
from .otp import (
    confirmed_totp,
    match_code,
    new_recovery_codes,
    otp_forget,
    otp_required,
    recovery_codes_left,
)
from .services import audit_record

PENDING = "accesmt_otp_pending"  # session: the user who gave the right password, before the code
PENDING_SECONDS = 600  # then the password must be typed again
WRONG_CODE = "Code incorrect ou expiré. Vérifiez l'heure de votre téléphone et réessayez."


def _qr_data_uri(text: str) -> str:
    svg = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, border=2).to_string()
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode()


def _grouped(secret: str) -> str:
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def otp_setup(request):
    """Enrol an authentication application: QR code and key, a first code to confirm, then the
    recovery codes, shown once."""
    user = request.user
    if not user.is_authenticated:
        raise LoginRequired
    if confirmed_totp(user):
        if not user.is_verified():
            return redirect("accounts:otp_verify")
        return _otp_manage(request, user)
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(
            user=user, name="Application d'authentification", confirmed=False
        )
    form = OTPCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token("".join(form.cleaned_data["code"].split())):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            otp_login(request, device)
            return _codes_page(request, new_recovery_codes(user))
        form.add_error("code", WRONG_CODE)
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return render(
        request,
        "accounts/otp_setup.html",
        {
            "form": form,
            "qr": _qr_data_uri(device.config_url),
            "secret": _grouped(secret),
            "required": otp_required(user),
        },
    )


def _codes_page(request, codes: list[str]):
    text = "Codes de secours AccèsMT (chacun ne sert qu'une fois)\n" + "\n".join(codes)
    return render(
        request,
        "accounts/otp_codes.html",
        {"codes": codes, "download": "data:text/plain;charset=utf-8," + quote(text)},
    )


def _otp_manage(request, user):
    """The second factor is on: new recovery codes, or (for a role where it is optional) turning
    it off. Either asks a current code first (someone at an unlocked session cannot do it), is
    slowed down like a login on wrong codes, and is audited (the device, never the codes)."""
    required = otp_required(user)
    action = request.POST.get("action") if request.method == "POST" else None
    forms_by_action = {
        name: OTPCodeForm(
            request.POST if action == name else None, recovery_allowed=True, prefix=name
        )
        for name in ("codes", "disable")
    }
    if action in forms_by_action and not (action == "disable" and required):
        form = forms_by_action[action]
        wait = lockout.seconds_to_wait(request, user.email)
        if wait:
            return lockout.locked_response(request, wait)
        if form.is_valid():
            if match_code(user, form.cleaned_data["code"]) is not None:
                lockout.clear(request, user.email)
                if action == "codes":
                    codes = new_recovery_codes(user)
                    audit_record(
                        actor=user,
                        action="update",
                        object_type="otp.recovery_codes",
                        object_id=str(user.pk),
                        http_request=request,
                    )
                    return _codes_page(request, codes)
                otp_forget(user)
                audit_record(
                    actor=user,
                    action="delete",
                    object_type="otp.device",
                    object_id=str(user.pk),
                    http_request=request,
                )
                return render(request, "accounts/otp_disabled.html")
            wait = lockout.record_failure(request, user.email)
            if wait:
                return lockout.locked_response(request, wait)
            form.add_error("code", WRONG_CODE)
    return render(
        request,
        "accounts/otp_enabled.html",
        {
            "required": required,
            "codes_form": forms_by_action["codes"],
            "disable_form": forms_by_action["disable"],
            "codes_left": recovery_codes_left(user),
        },
    )


def _pending(request):
    """The user who must give a code: the one logged in (not yet verified), or the one who gave
    the right password at the login page."""
    if request.user.is_authenticated:
        return request.user, None
    pending = request.session.get(PENDING)
    if not pending or time.time() - pending.get("at", 0) > PENDING_SECONDS:
        return None, None
    return User.objects.filter(pk=pending["user"], is_active=True).first(), pending


def otp_verify(request):
    from .views import landing_url

    user, pending = _pending(request)
    if user is None:
        return redirect("accounts:login")
    if request.user.is_authenticated and request.user.is_verified():
        return redirect(landing_url(user))
    form = OTPCodeForm(request.POST or None, recovery_allowed=True)
    if request.method == "POST":
        wait = lockout.seconds_to_wait(request, user.email)
        if wait:
            return lockout.locked_response(request, wait)
        if form.is_valid():
            device = match_code(user, form.cleaned_data["code"])
            if device is not None:
                lockout.clear(request, user.email)
                if pending is not None:
                    del request.session[PENDING]
                    auth_login(request, user, backend=pending["backend"])
                otp_login(request, device)
                next_url = (pending or {}).get("next") or ""
                safe = url_has_allowed_host_and_scheme(
                    next_url, {request.get_host()}, require_https=request.is_secure()
                )
                return redirect(next_url if safe else landing_url(user))
            user_login_failed.send(
                sender=__name__, credentials={"username": user.email}, request=request
            )
            wait = lockout.record_failure(request, user.email)
            if wait:
                return lockout.locked_response(request, wait)
            form.add_error("code", WRONG_CODE)
    return render(request, "accounts/otp_verify.html", {"form": form})
