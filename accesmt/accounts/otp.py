"""Second factor (django-otp): TOTP applications and single-use recovery codes.

- `otp_required(user)`: platform admins, staff and holders of an active membership with one of
  OTP_REQUIRED_ROLES must have a second factor (settings.ACCESMT_OTP_REQUIRED; on everywhere
  but the dev settings, see docs/decisions/0025-authentication.md);
- `OTPRequiredMiddleware` sends such a user, logged in but not verified, to the enrolment page
  whatever the URL asked for;
- recovery codes are stored as keyed hashes (HMAC of SECRET_KEY) in django-otp's static tokens
  and consumed when used.
"""

import hashlib
import hmac
import secrets

from django.conf import settings
from django.contrib.admin import AdminSite
from django.shortcuts import redirect
from django.urls import reverse
from django_otp.admin import OTPAdminSite
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from .models import OTP_REQUIRED_ROLES, Membership
from .psc import DEVICE_NAME as PSC_DEVICE

RECOVERY_CODES = 10
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to misread


def otp_required(user) -> bool:
    if not getattr(settings, "ACCESMT_OTP_REQUIRED", True):
        return False
    if user.is_platform_admin or user.is_staff or user.is_superuser:
        return True
    return Membership.objects.filter(
        user=user, is_active=True, role__in=OTP_REQUIRED_ROLES, cpts__is_active=True
    ).exists()


def confirmed_totp(user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def _normalise(code: str) -> str:
    return "".join(ch for ch in str(code).lower() if ch.isalnum())


def hash_recovery_code(code: str) -> str:
    """16 hex characters (StaticToken.token holds 16): a keyed hash, useless without the key."""
    digest = hmac.new(settings.SECRET_KEY.encode(), _normalise(code).encode(), hashlib.sha256)
    return digest.hexdigest()[:16]


def new_recovery_codes(user) -> list[str]:
    """Replace the user's recovery codes with RECOVERY_CODES new ones, returned in clear once."""
    codes = [
        "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(4))
        + "-"
        + "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(4))
        for _ in range(RECOVERY_CODES)
    ]
    StaticDevice.objects.filter(user=user).exclude(name=PSC_DEVICE).delete()
    device = StaticDevice.objects.create(user=user, name="Codes de secours", confirmed=True)
    StaticToken.objects.bulk_create(
        StaticToken(device=device, token=hash_recovery_code(code)) for code in codes
    )
    return codes


def recovery_codes_left(user) -> int:
    return (
        StaticToken.objects.filter(device__user=user, device__confirmed=True)
        .exclude(device__name=PSC_DEVICE)
        .count()
    )


def otp_forget(user) -> None:
    """Turn the second factor off: the application and the recovery codes (not the device that
    records a Pro Santé Connect login)."""
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).exclude(name=PSC_DEVICE).delete()


def match_code(user, code: str):
    """The device that accepts `code` (6 digits: the application; else a recovery code, then
    consumed), or None."""
    code = _normalise(code)
    if not code:
        return None
    if code.isdigit() and len(code) == 6:
        for device in TOTPDevice.objects.filter(user=user, confirmed=True):
            if device.verify_token(code):
                return device
        return None
    for device in StaticDevice.objects.filter(user=user, confirmed=True):
        if device.verify_token(hash_recovery_code(code)):
            return device
    return None


class OTPRequiredMiddleware:
    """After django_otp's OTPMiddleware: a logged-in user who must use a second factor and has
    not given one this session reaches only the enrolment page and the logout button."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if (
            user.is_authenticated
            and not user.is_verified()
            and not request.path_info.startswith(("/static/", "/api/"))
            and request.path_info not in _open_paths()
            and otp_required(user)
        ):
            return redirect("accounts:otp_verify" if confirmed_totp(user) else "accounts:otp_setup")
        return self.get_response(request)


def _open_paths() -> tuple[str, ...]:
    return tuple(reverse(f"accounts:{name}") for name in ("otp_setup", "otp_verify", "logout"))


class VerifiedAdminSite(OTPAdminSite):
    """The admin site lets in only staff who gave their second factor this session (when the
    second factor is required: settings.ACCESMT_OTP_REQUIRED)."""

    def has_permission(self, request):
        if not getattr(settings, "ACCESMT_OTP_REQUIRED", True):
            return AdminSite.has_permission(self, request)
        return super().has_permission(request)
