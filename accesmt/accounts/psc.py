"""Pro Santé Connect (PSC): the OpenID Connect login of health professionals with their CPS card
or the e-CPS application (docs/decisions/0026-pro-sante-connect.md).

Authorization code flow with `state` and `nonce` kept in the session, `acr_values=eidas1`,
scopes `openid scope_all`; the ID token and a userinfo answered as a signed JWT are verified
against the provider's JWKS (signature, iss, aud, exp, nonce, acr). The userinfo's
`SubjectNameID` is the national identifier of the professional: "8" followed by the 11 digits
of the RPPS number for RPPS holders (an ADELI-based identifier starts otherwise and links to no
account). Everything comes from the deployment's settings (PSC_*), off by default.
"""

import hashlib
import re
import secrets
import time
from urllib.parse import urlencode

import httpx
from django.conf import settings
from django.core.cache import cache
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from accesmt.common.links import public_url

SESSION_KEY = "accesmt_psc"  # session: state, nonce, when, and the user asking for a link
PENDING_SECONDS = 600
SCOPE = "openid scope_all"
ACR = "eidas1"
ALGORITHMS = ["RS256", "PS256", "ES256"]
DEVICE_NAME = "Pro Santé Connect"
_RPPS_SUBJECT = re.compile(r"8(\d{11})")


class PSCError(Exception):
    """A PSC login that cannot go on; the message is shown to the user, in French."""


FAILED = "La connexion avec Pro Santé Connect a échoué. Veuillez réessayer."


def rpps_of(subject_name_id) -> str | None:
    """ "810101201234" → "10101201234"; None for anything else (ADELI-based, malformed)."""
    found = _RPPS_SUBJECT.fullmatch(str(subject_name_id or ""))
    return found.group(1) if found else None


def _get(url: str, **kwargs) -> httpx.Response:
    try:
        response = httpx.get(url, timeout=settings.PSC_TIMEOUT, **kwargs)
        response.raise_for_status()
    except httpx.HTTPError as exc:
        raise PSCError("Pro Santé Connect ne répond pas. Veuillez réessayer plus tard.") from exc
    return response


def _cached_json(url: str, *, refresh: bool = False) -> dict:
    """The provider's discovery document or key set, kept PSC_CACHE_SECONDS in the cache (one
    HTTP round trip per hour, not three per login); `refresh` fetches it again."""
    key = "psc:" + hashlib.sha256(url.encode()).hexdigest()
    data = None if refresh else cache.get(key)
    if data is None:
        try:
            data = _get(url).json()
        except ValueError as exc:
            raise PSCError(FAILED) from exc
        cache.set(key, data, settings.PSC_CACHE_SECONDS)
    return data


def _metadata() -> dict:
    return _cached_json(settings.PSC_DISCOVERY_URL)


def _keys(meta: dict, *, refresh: bool = False) -> KeySet:
    try:
        return KeySet.import_key_set(_cached_json(meta["jwks_uri"], refresh=refresh))
    except (JoseError, ValueError, KeyError) as exc:
        raise PSCError(FAILED) from exc


def _redirect_uri() -> str:
    return public_url(reverse("accounts:psc_callback"))


def authorization_url(request) -> str:
    """Remember a fresh state and nonce (and, for a logged-in user, who asks for the link) and
    return the provider's authorization address."""
    state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    request.session[SESSION_KEY] = {
        "state": state,
        "nonce": nonce,
        "at": time.time(),
        "link": request.user.pk if request.user.is_authenticated else None,
    }
    params = {
        "response_type": "code",
        "client_id": settings.PSC_CLIENT_ID,
        "redirect_uri": _redirect_uri(),
        "scope": SCOPE,
        "acr_values": ACR,
        "state": state,
        "nonce": nonce,
    }
    return f"{_metadata()['authorization_endpoint']}?{urlencode(params)}"


def _verify(value: str, keys: KeySet, *, issuer: str, **expected) -> dict:
    """The claims of a signed JWT from the provider, once signature, iss, aud, exp and the
    `expected` values (nonce, acr) are checked."""
    try:
        token = jwt.decode(value, keys, algorithms=ALGORITHMS)
        options = {
            "iss": {"essential": True, "value": issuer},
            "aud": {"essential": True, "value": settings.PSC_CLIENT_ID},
            "exp": {"essential": True},
        }
        options.update({name: {"essential": True, "value": v} for name, v in expected.items()})
        jwt.JWTClaimsRegistry(leeway=60, **options).validate(token.claims)
    except (JoseError, ValueError) as exc:
        raise PSCError(FAILED) from exc
    return token.claims


def finish(request) -> tuple[str | None, int | None]:
    """Check the provider's answer on the callback address and return (RPPS number or None,
    id of the logged-in user who asked for a link or None). Raises PSCError."""
    pending = request.session.pop(SESSION_KEY, None)
    if not pending or time.time() - pending["at"] > PENDING_SECONDS:
        raise PSCError("La demande de connexion a expiré. Veuillez recommencer.")
    if not secrets.compare_digest(request.GET.get("state", ""), pending["state"]):
        raise PSCError(FAILED)
    if "error" in request.GET or not request.GET.get("code"):
        raise PSCError("La connexion a été annulée ou refusée par Pro Santé Connect.")
    meta = _metadata()
    try:
        answer = httpx.post(
            meta["token_endpoint"],
            data={
                "grant_type": "authorization_code",
                "code": request.GET["code"],
                "redirect_uri": _redirect_uri(),
                "client_id": settings.PSC_CLIENT_ID,
                "client_secret": settings.PSC_CLIENT_SECRET,
            },
            timeout=settings.PSC_TIMEOUT,
        )
        answer.raise_for_status()
        tokens = answer.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise PSCError(FAILED) from exc
    keys = _keys(meta)
    issuer = meta["issuer"]
    id_token = str(tokens.get("id_token", ""))
    try:
        id_claims = _verify(id_token, keys, issuer=issuer, nonce=pending["nonce"], acr=ACR)
    except PSCError:  # the provider may have rotated its keys since they were cached
        keys = _keys(meta, refresh=True)
        id_claims = _verify(id_token, keys, issuer=issuer, nonce=pending["nonce"], acr=ACR)
    info = _get(
        meta["userinfo_endpoint"],
        headers={"Authorization": f"Bearer {tokens.get('access_token', '')}"},
    )
    if info.headers.get("content-type", "").startswith("application/jwt"):
        claims = _verify(info.text.strip(), keys, issuer=issuer)
    else:
        claims = info.json()
    if claims.get("sub") != id_claims.get("sub"):
        raise PSCError(FAILED)
    request.accesmt_psc_id_token = id_token  # kept in the session for the logout (views_psc)
    return rpps_of(claims.get("SubjectNameID")), pending["link"]


def logout_url(id_token: str) -> str | None:
    """The provider's end-session address (RP-initiated logout), back to our home afterwards;
    None when the provider has none or cannot be reached (the local logout is enough then)."""
    try:
        endpoint = _metadata().get("end_session_endpoint")
    except PSCError:
        return None
    if not endpoint:
        return None
    params = {
        "id_token_hint": id_token,
        "post_logout_redirect_uri": public_url(reverse("territory:home")),
        "state": secrets.token_urlsafe(16),
    }
    return f"{endpoint}?{urlencode(params)}"


def device_of(user) -> StaticDevice:
    """The django-otp device that stands for PSC: without codes, it never accepts one; logging
    it in the session (django_otp.login) marks the session verified (decision 0026)."""
    device, _ = StaticDevice.objects.get_or_create(user=user, name=DEVICE_NAME, confirmed=True)
    return device
