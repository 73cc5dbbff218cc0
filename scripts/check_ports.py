"""Check that the demo's ports are free before `make demo` installs and starts anything.

    python scripts/check_ports.py WEB_PORT SMTP_PORT

Prints one French line per port already taken (with a command that avoids it) and exits 1;
prints nothing and exits 0 when both are free. Standard library only: it runs before the
virtualenv exists."""

from __future__ import annotations

import socket
import sys

HOST = "127.0.0.1"


def port_is_free(port: int, host: str = HOST) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # as runserver and the SMTP sink do: a port left in TIME_WAIT by a stopped demo is free
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def problems(web_port: int, smtp_port: int) -> list[str]:
    other = web_port + 10
    lines = []
    if not port_is_free(web_port):
        lines.append(
            f"Le port {web_port} est déjà utilisé : lancez par exemple `make demo PORT={other}`."
        )
    if smtp_port != web_port and not port_is_free(smtp_port):
        lines.append(
            f"Le port {smtp_port} (serveur SMTP de la démo) est déjà utilisé : lancez par "
            f"exemple `make demo PORT={other}` ou `make demo SMTP_PORT={smtp_port + 10}`."
        )
    return lines


def main(argv: list[str]) -> int:
    try:
        web_port, smtp_port = (int(value) for value in argv)
    except ValueError:
        print("Usage : python scripts/check_ports.py PORT_WEB PORT_SMTP (deux nombres).")
        return 2
    found = problems(web_port, smtp_port)
    for line in found:
        print(line)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
