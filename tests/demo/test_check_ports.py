"""`scripts/check_ports.py`, run by `make demo` before anything else (issue 13, point 8)."""

import socket
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "check_ports.py"


def _run(*ports: int) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *map(str, ports)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _listening():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    return sock


def test_a_taken_web_port_gives_one_french_line_and_fails():
    with _listening() as taken:
        port = taken.getsockname()[1]
        result = _run(port, _free_port())
    assert result.returncode == 1
    assert result.stdout == (
        f"Le port {port} est déjà utilisé : lancez par exemple `make demo PORT={port + 10}`.\n"
    )


def test_a_taken_smtp_port_is_named_as_such():
    with _listening() as taken:
        port = taken.getsockname()[1]
        result = _run(_free_port(), port)
    assert result.returncode == 1
    assert result.stdout.startswith(f"Le port {port} (serveur SMTP de la démo) est déjà utilisé")
    assert len(result.stdout.splitlines()) == 1


def test_free_ports_pass_silently():
    result = _run(_free_port(), _free_port())
    assert (result.returncode, result.stdout) == (0, "")


def test_a_wrong_argument_is_explained():
    result = _run()
    assert result.returncode == 2 and "Usage" in result.stdout
