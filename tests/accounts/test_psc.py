"""Pro Santé Connect: the whole OpenID Connect flow against a local provider that the tests start
(discovery, JWKS, token, userinfo over real HTTP on 127.0.0.1), and each refusal."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.urls import reverse
from joserfc import jwt
from joserfc.jwk import RSAKey

from accesmt.accounts.models import AuditLog, Role
from accesmt.accounts.psc import rpps_of
from tests.accounts.factories import MembershipFactory

pytestmark = pytest.mark.django_db
START = reverse("accounts:psc_start")
CALLBACK = reverse("accounts:psc_callback")
LOGIN = reverse("accounts:login")
CLIENT_ID = "accesmt-test"
RPPS = "10101201234"
UNKNOWN = "Aucun compte AccèsMT n&#x27;est associé à votre carte CPS / e-CPS"


class Provider:
    """A minimal OpenID provider: the test sets what it answers (claims, userinfo form, key)."""

    def __init__(self):
        self.key = RSAKey.generate_key(2048, parameters={"kid": "psc-1"})
        self.signing_key = self.key
        self.userinfo_as_jwt = True
        self.id_claims: dict = {}
        self.userinfo: dict = {"SubjectNameID": "8" + RPPS}
        self.nonce = ""
        self.token_requests: list[dict] = []
        self.gets: list[str] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.issuer = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def sign(self, claims: dict) -> str:
        return jwt.encode({"alg": "RS256", "kid": "psc-1"}, claims, self.signing_key)

    def _handler(self):
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, body, content_type="application/json", status=200):
                data = (body if isinstance(body, str) else json.dumps(body)).encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                base = provider.issuer
                provider.gets.append(self.path.split("?")[0])
                if self.path == "/.well-known/openid-configuration":
                    return self._send(
                        {
                            "issuer": base,
                            "authorization_endpoint": f"{base}/authorize",
                            "token_endpoint": f"{base}/token",
                            "userinfo_endpoint": f"{base}/userinfo",
                            "jwks_uri": f"{base}/jwks",
                            "end_session_endpoint": f"{base}/logout",
                        }
                    )
                if self.path.startswith("/authorize?"):  # the user said yes: back with a code
                    params = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
                    provider.nonce = params["nonce"]
                    back = {"code": "code-123", "state": params["state"]}
                    self.send_response(302)
                    self.send_header("Location", f"{params['redirect_uri']}?{urlencode(back)}")
                    self.send_header("Content-Length", "0")
                    return self.end_headers()
                if self.path == "/jwks":
                    return self._send({"keys": [provider.key.as_dict(private=False)]})
                if self.path == "/userinfo":
                    if self.headers.get("Authorization") != "Bearer access-123":
                        return self._send({"error": "invalid_token"}, status=401)
                    claims = {"sub": "psc-sub-1", **provider.userinfo}
                    if provider.userinfo_as_jwt:
                        claims |= {"iss": base, "aud": CLIENT_ID, "exp": int(time.time()) + 60}
                        return self._send(provider.sign(claims), "application/jwt")
                    return self._send(claims)
                return self._send({}, status=404)

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                provider.token_requests.append(form)
                if form.get("code") != "code-123" or form.get("client_secret") != "secret":
                    return self._send({"error": "invalid_grant"}, status=400)
                now = int(time.time())
                claims = {
                    "iss": provider.issuer,
                    "aud": CLIENT_ID,
                    "sub": "psc-sub-1",
                    "iat": now,
                    "exp": now + 300,
                    "nonce": provider.nonce,
                    "acr": "eidas1",
                    **provider.id_claims,
                }
                return self._send(
                    {
                        "access_token": "access-123",
                        "token_type": "Bearer",
                        "id_token": provider.sign(claims),
                    }
                )

        return Handler


@pytest.fixture
def provider(settings):
    provider = Provider()
    settings.PSC_ENABLED = True
    settings.PSC_CLIENT_ID = CLIENT_ID
    settings.PSC_CLIENT_SECRET = "secret"  # noqa: S105
    settings.PSC_DISCOVERY_URL = f"{provider.issuer}/.well-known/openid-configuration"
    settings.PUBLIC_BASE_URL = "https://accesmt.example.org"
    yield provider
    provider.server.shutdown()
    provider.server.server_close()


def _authorize(client, provider) -> dict:
    """GET start: the provider's address with its parameters (the provider learns the nonce)."""
    response = client.get(START)
    assert response.status_code == 302
    url = urlsplit(response["Location"])
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{provider.issuer}/authorize"
    params = {k: v[0] for k, v in parse_qs(url.query).items()}
    provider.nonce = params["nonce"]
    return params


def _callback(client, params, **override):
    query = {"code": "code-123", "state": params["state"], **override}
    return client.get(f"{CALLBACK}?{urlencode(query)}")


@pytest.fixture
def gp():
    membership = MembershipFactory(role=Role.GP)
    membership.user.rpps = RPPS
    membership.user.save()
    return membership


def test_subject_name_id_is_8_then_the_rpps_number():
    assert rpps_of("810101201234") == "10101201234"
    assert rpps_of("012345678") is None  # ADELI-based: no RPPS
    assert rpps_of("8101012012345") is None
    assert rpps_of(None) is None


@pytest.mark.otp
@pytest.mark.parametrize("userinfo_as_jwt", [True, False])
def test_gp_logs_in_with_psc_and_lands_on_the_cpts(client, provider, gp, userinfo_as_jwt):
    provider.userinfo_as_jwt = userinfo_as_jwt
    params = _authorize(client, provider)
    assert params["acr_values"] == "eidas1"
    assert params["scope"] == "openid scope_all"
    assert params["response_type"] == "code"
    assert params["client_id"] == CLIENT_ID
    assert params["redirect_uri"] == "https://accesmt.example.org" + CALLBACK
    assert len(params["state"]) >= 32 and len(params["nonce"]) >= 32

    response = _callback(client, params)
    home = reverse("reporting:cpts_home", kwargs={"cpts_slug": gp.cpts.slug})
    assert (response.status_code, response["Location"]) == (302, home)
    assert provider.token_requests[0]["redirect_uri"] == params["redirect_uri"]
    assert client.get(home).status_code == 200
    login = AuditLog.objects.get(action="login")
    assert (login.actor_id, login.object_type, login.object_id) == (
        gp.user.pk,
        "accounts.login_method",
        "psc",
    )


@pytest.mark.otp
def test_psc_counts_as_second_factor_for_a_coordinator(client, provider):
    coordinator = MembershipFactory(role=Role.COORDINATOR, user__rpps=RPPS)
    response = _callback(client, _authorize(client, provider))
    assert response.status_code == 302
    assert int(client.session["_auth_user_id"]) == coordinator.user.pk
    # With a password only, a coordinator with no application is held at the enrolment page;
    # after PSC, the session is verified: the pages open.
    home = reverse("reporting:cpts_home", kwargs={"cpts_slug": coordinator.cpts.slug})
    assert client.get(home).status_code == 200


@pytest.mark.parametrize(
    ("case", "status"),
    [
        ("wrong state", 400),
        ("bad signature", 400),
        ("wrong nonce", 400),
        ("expired", 400),
        ("wrong audience", 400),
        ("no eidas1", 400),
        ("unknown rpps", 403),
        ("adeli", 403),
    ],
)
def test_refusals_show_a_french_page_and_log_nobody_in(client, provider, gp, case, status):
    params = _authorize(client, provider)
    override = {}
    if case == "wrong state":
        override = {"state": "forged"}
    elif case == "bad signature":
        provider.signing_key = RSAKey.generate_key(2048, parameters={"kid": "psc-1"})
    elif case == "wrong nonce":
        provider.nonce = "another"
    elif case == "expired":
        provider.id_claims = {"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200}
    elif case == "wrong audience":
        provider.id_claims = {"aud": "someone-else"}
    elif case == "no eidas1":
        provider.id_claims = {"acr": "eidas2"}
    elif case == "unknown rpps":
        provider.userinfo = {"SubjectNameID": "810101209999"}
    elif case == "adeli":
        provider.userinfo = {"SubjectNameID": "0" + RPPS}
    response = _callback(client, params, **override)
    assert response.status_code == status
    assert "_auth_user_id" not in client.session
    body = response.content.decode()
    assert "Connexion avec Pro Santé Connect" in body
    if status == 403:
        assert UNKNOWN in body
    else:
        assert "a échoué" in body
    failure = AuditLog.objects.get(action="login_failed")
    assert (failure.object_type, failure.object_id) == ("accounts.login_method", "psc")
    # The state is used once: replaying the callback is refused too.
    assert _callback(client, params).status_code == 400


def test_logged_in_user_associates_their_card(client, provider):
    membership = MembershipFactory(role=Role.GP)
    client.force_login(membership.user)
    assert (
        "Associer mon compte à Pro Santé Connect"
        in client.get(reverse("reporting:espace")).content.decode()
    )
    response = _callback(client, _authorize(client, provider))
    assert response.status_code == 302
    membership.user.refresh_from_db()
    assert membership.user.rpps == RPPS
    # Then, logged out, the card alone opens the account.
    client.logout()
    assert _callback(client, _authorize(client, provider)).status_code == 302
    assert int(client.session["_auth_user_id"]) == membership.user.pk


def test_card_of_another_account_is_not_associated(client, provider, gp):
    other = MembershipFactory(role=Role.GP)
    client.force_login(other.user)
    response = _callback(client, _authorize(client, provider))
    assert response.status_code == 409
    other.user.refresh_from_db()
    assert other.user.rpps is None


def test_disabled_psc_has_no_routes_and_no_button(client, settings):
    settings.PSC_ENABLED = False
    assert client.get(START).status_code == 404
    assert client.get(CALLBACK).status_code == 404
    assert "Pro Santé Connect" not in client.get(LOGIN).content.decode()


def test_enabled_psc_shows_the_button(client, provider):
    body = client.get(LOGIN).content.decode()
    assert f'href="{START}"' in body
    assert "Se connecter avec Pro Santé Connect" in body


def test_provider_down_gives_a_french_page(client, provider, settings):
    settings.PSC_DISCOVERY_URL = "http://127.0.0.1:9/.well-known/openid-configuration"
    response = client.get(START)
    assert response.status_code == 502
    assert "Pro Santé Connect ne répond pas" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_discovery_and_keys_are_fetched_once_then_again_when_the_key_rotates(client, provider, gp):
    for _ in range(2):
        client.logout()
        params = _authorize(client, provider)
        assert _callback(client, params).status_code == 302
    assert provider.gets.count("/.well-known/openid-configuration") == 1
    assert provider.gets.count("/jwks") == 1
    assert provider.gets.count("/userinfo") == 2
    # The provider rotates its key: the cached set does not know it, the login fetches it again.
    provider.key = provider.signing_key = RSAKey.generate_key(2048, parameters={"kid": "psc-1"})
    client.logout()
    params = _authorize(client, provider)
    assert _callback(client, params).status_code == 302
    assert provider.gets.count("/jwks") == 2
    assert int(client.session["_auth_user_id"]) == gp.user.pk


def test_logout_after_a_psc_login_closes_the_provider_session_too(client, provider, gp):
    params = _authorize(client, provider)
    assert _callback(client, params).status_code == 302
    response = client.post(reverse("accounts:logout"))
    url = urlsplit(response["Location"])
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{provider.issuer}/logout"
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert query["post_logout_redirect_uri"] == "https://accesmt.example.org/"
    assert jwt.decode(query["id_token_hint"], provider.key).claims["sub"] == "psc-sub-1"
    assert "_auth_user_id" not in client.session  # logged out here first


def test_logout_after_a_password_login_stays_on_the_site(client, provider, gp):
    client.force_login(gp.user)
    response = client.post(reverse("accounts:logout"))
    assert response["Location"] == reverse("territory:home")
