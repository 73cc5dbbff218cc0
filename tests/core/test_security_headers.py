import pytest


@pytest.mark.django_db
def test_home_sends_strict_security_headers(client):
    response = client.get("/")
    assert response.status_code == 200
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Cache-Control"] == "no-store"
    assert '<html lang="fr">' in response.content.decode()


@pytest.mark.django_db
def test_healthz_checks_the_database(client):
    body = client.get("/healthz").json()
    assert body["database"]["ok"] is True and body["status"] in {"ok", "degraded"}
