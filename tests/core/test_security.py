"""Security headers, cookies under production settings, CSRF, and one-line configuration errors."""

import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

from tests.accounts.factories import PASSWORD, MembershipFactory, UserFactory

ROOT = Path(__file__).resolve().parents[2]
PROD_ENV = {
    "SECRET_KEY": "prod-like-key-for-tests-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFGH",
    "ALLOWED_HOSTS": "accesmt.example.org",
    "PUBLIC_BASE_URL": "https://accesmt.example.org",
    # Production's default cache (Makefile's quality runs the deploy check with it too).
    "CACHE_URL": "dbcache://accesmt_cache",
}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url_name",
    ["accounts:login", "accounts:password_reset", "reporting:espace", "reporting:cpts_home"],
)
def test_pages_send_a_strict_csp(client, url_name):
    membership = MembershipFactory(role="observer")
    if url_name.startswith("reporting:"):
        client.force_login(membership.user)
    kwargs = {"cpts_slug": membership.cpts.slug} if url_name == "reporting:cpts_home" else {}
    response = client.get(reverse(url_name, kwargs=kwargs))
    assert response.status_code == 200
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "no-store" in response["Cache-Control"]
    assert "<script>" not in response.content.decode()
    assert " style=" not in response.content.decode()


@pytest.fixture
def prod_settings(monkeypatch, tmp_path):
    for name, value in PROD_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'prod.sqlite3'}")
    sys.modules.pop("config.settings.prod", None)
    try:
        yield importlib.import_module("config.settings.prod")
    finally:
        sys.modules.pop("config.settings.prod", None)


@pytest.mark.django_db
def test_production_cookies_are_secure_host_only(client, settings, prod_settings):
    assert prod_settings.DEBUG is False
    assert prod_settings.SECURE_SSL_REDIRECT is True
    assert prod_settings.SECURE_HSTS_SECONDS >= 31536000
    for name in (
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "SESSION_COOKIE_NAME",
        "CSRF_COOKIE_NAME",
        "SESSION_COOKIE_HTTPONLY",
        "SESSION_COOKIE_SAMESITE",
    ):
        setattr(settings, name, getattr(prod_settings, name))
    user = UserFactory()
    page = client.get(reverse("accounts:login"), secure=True)
    csrf = page.cookies["__Host-csrftoken"]
    response = client.post(
        reverse("accounts:login"),
        {"username": user.email, "password": PASSWORD},
        secure=True,
    )
    assert response.status_code == 302
    session = response.cookies["__Host-sessionid"]
    for cookie in (csrf, session):
        assert cookie["secure"] is True
        assert cookie["path"] == "/"
        assert not cookie["domain"]  # __Host- cookies are bound to the exact host
        assert cookie["samesite"] == "Lax"
    assert session["httponly"] is True


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "SECRET_KEY", "ALLOWED_HOSTS", "DJANGO_SETTINGS_MODULE"}
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_SETTINGS_MODULE="config.settings.prod",
        DATABASE_URL=f"sqlite:///{tmp_path / 'prod.sqlite3'}",
        **PROD_ENV,
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        (
            ("check",),
            {"DJANGO_SETTINGS_MODULE": "config.settings.prod", "DATABASE_URL": "sqlite:///x"},
            "Variable d'environnement SECRET_KEY manquante",
        ),
        (
            ("check",),
            {"DATABASE_URL": "foo://x"},
            "DATABASE_URL : moteur « foo » non pris en charge",
        ),
        (
            ("migrate",),
            {"DATABASE_URL": "postgres://postgres@127.0.0.1:1/x"},
            "Base de données injoignable (PostgreSQL 127.0.0.1:1/x)",
        ),
    ],
    ids=["prod-without-secret-key", "unknown-database-scheme", "unreachable-database"],
)
def test_configuration_errors_fit_on_one_french_line(args, env, expected):
    result = _manage(*args, **env)
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert expected in lines[0]
    assert "Traceback" not in result.stderr
