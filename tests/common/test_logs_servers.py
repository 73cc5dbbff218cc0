"""The servers' own logs: gunicorn (with the project's gunicorn.conf.py, as in production) and
runserver (the demo) started as subprocesses on a free port, hit with a follow-up link, a
tampered one, a query string and a referer holding personal data, and an unknown page. Neither
their access lines nor their error output may show the token or the e-mail.

The database is empty on purpose: the valid token's page fails (no table) with a traceback in
the log, which must not show the token either."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from accesmt.common.signing import make_link_token
from accesmt.intake.selectors import FOLLOWUP_SALT
from tests.smtp_server import free_port

ROOT = Path(__file__).resolve().parents[2]
EMAIL = "josiane.lefebvre@exemple.fr"
SERVERS = {
    "gunicorn": [str(ROOT / ".venv/bin/gunicorn"), "--workers", "1", "--bind"],
    "runserver": [sys.executable, "manage.py", "runserver", "--noreload", "--skip-checks"],
}


def get(url, **headers):
    return httpx.get(url, headers=headers, timeout=10).status_code


def wait_until_listening(url, process, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the server stopped: {process.returncode}")
        try:
            get(url)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError("the server did not start")


@pytest.mark.parametrize("server", sorted(SERVERS))
def test_server_logs_show_routes_not_tokens(server, tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite3'}",
        "PYTHONUNBUFFERED": "1",
    }
    out, err = tmp_path / "stdout.log", tmp_path / "stderr.log"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = subprocess.Popen(  # noqa: S603 - our own servers, fixed arguments
            [*SERVERS[server], f"127.0.0.1:{port}"],
            cwd=ROOT,
            env=env,
            stdout=stdout,
            stderr=stderr,
            start_new_session=True,
        )
        try:
            wait_until_listening(f"{base}/robots.txt", process)
            token = make_link_token(987654, salt=FOLLOWUP_SALT, key="r")
            tampered = token[:-4] + "abcd"
            referer = {"Referer": f"{base}/suivi/{token}/?email={EMAIL}"}
            assert get(f"{base}/suivi/{token}/?email={EMAIL}", **referer) == 500
            assert get(f"{base}/suivi/{tampered}/choix/") == 404
            assert get(f"{base}/nimporte/{token}") == 404
            time.sleep(0.5)  # let the access lines be written
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=15)
    logs = out.read_text(encoding="utf-8") + err.read_text(encoding="utf-8")
    for expected in ("/suivi/<token>/", "/suivi/<token>/choix/", "/nimporte/…", " 404 "):
        assert expected in logs, f"{expected!r} missing from the {server} logs:\n{logs}"
    for secret in (token, tampered, token.split(":")[-1], tampered.split(":")[-1], EMAIL):
        assert secret not in logs, f"{secret!r} in the {server} logs"
    assert "josiane" not in logs


def test_gunicorn_with_json_logs_writes_one_json_object_a_line(tmp_path):
    """LOG_FORMAT=json (the production default): every line of gunicorn's and the application's
    output is a JSON object; an access line carries method, route, status and duration."""
    import json

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite3'}",
        "PYTHONUNBUFFERED": "1",
        "LOG_FORMAT": "json",
    }
    log = tmp_path / "all.log"
    with log.open("wb") as output:
        process = subprocess.Popen(  # noqa: S603 - our own server, fixed arguments
            [*SERVERS["gunicorn"], f"127.0.0.1:{port}"],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            wait_until_listening(f"{base}/robots.txt", process)
            token = make_link_token(987654, salt=FOLLOWUP_SALT, key="r")
            assert get(f"{base}/suivi/{token}/?email={EMAIL}") == 500
            assert get(f"{base}/nimporte/") == 404
            time.sleep(0.5)
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=15)
    text = log.read_text(encoding="utf-8")
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]  # each one JSON
    access = [line for line in lines if line["logger"] == "gunicorn.access"]
    by_route = {line["route"]: line for line in access}
    assert by_route["/suivi/<token>/"]["status"] == 500
    assert by_route["/suivi/<token>/"]["method"] == "GET"
    assert by_route["/suivi/<token>/"]["duration_ms"] >= 0
    assert by_route["/nimporte/…"]["status"] == 404
    errors = [line for line in lines if line.get("exception")]
    assert errors and all(token not in line["exception"] for line in errors)
    assert {"time", "level", "logger", "message", "process"} <= set(lines[0])
    assert token not in text and EMAIL not in text and "josiane" not in text
