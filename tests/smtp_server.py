"""A real SMTP server on 127.0.0.1 for tests that send mail (pytest plugin, loaded from
tests/conftest.py with `pytest_plugins = ["tests.smtp_server"]`).

    def test_something(smtp_server):
        ...                      # settings.EMAIL_HOST / EMAIL_PORT point at the server
        run the worker / deliver_due(...)
        [message] = smtp_server.messages          # email.message.EmailMessage objects
        assert message["Subject"] == "…"
        smtp_server.stop()       # outage: connections are refused
        smtp_server.start()      # back, on the SAME port

`smtp_server.envelopes` holds (mail_from, rcpt_tos) pairs; `smtp_server.refuse_next(n, code)`
makes the next n RCPT commands fail with an SMTP code (e.g. 550 for "no such mailbox").
"""

from __future__ import annotations

import logging
import socket
import threading
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _Handler:
    def __init__(self, server: LocalSMTPServer):
        self.server = server

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        with self.server._lock:
            if self.server._refusals:
                code = self.server._refusals.pop(0)
                return f"{code} 5.1.1 Mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        data = envelope.original_content or envelope.content
        if isinstance(data, str):
            data = data.encode()
        message = message_from_bytes(data, policy=policy.default)
        with self.server._lock:
            self.server.messages.append(message)
            self.server.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"


class LocalSMTPServer:
    def __init__(self, port: int | None = None):
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self._refusals: list[int] = []
        self._lock = threading.Lock()
        self._controller: Controller | None = None

    @property
    def running(self) -> bool:
        return self._controller is not None

    def start(self) -> LocalSMTPServer:
        if self._controller is None:
            # A Controller cannot be restarted (its loop is closed on stop): make a new one
            # on the same port. decode_data=False keeps the raw bytes (8-bit UTF-8 bodies).
            controller = Controller(_Handler(self), hostname=self.host, port=self.port)
            controller.start()
            self._controller = controller
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def refuse_next(self, count: int = 1, code: int = 550) -> None:
        with self._lock:
            self._refusals.extend([code] * count)

    def clear(self) -> None:
        with self._lock:
            self.messages.clear()
            self.envelopes.clear()


@pytest.fixture
def smtp_server(settings):
    # aiosmtpd logs every SMTP command (addresses included) at INFO/DEBUG: that is the test
    # server's log, not the application's, so it is kept out of caplog.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    server = LocalSMTPServer().start()
    settings.EMAIL_HOST = server.host
    settings.EMAIL_PORT = server.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5
    try:
        yield server
    finally:
        server.stop()
