"""`manage.py smtp_sink [--port 1025] [--dir var/mails]`: a local SMTP server for development and
the demo. Every message received is written as an .eml file; one line (the subject) is printed.
Stops on Ctrl-C or SIGTERM."""

from __future__ import annotations

import logging
import signal
import threading
from email import message_from_bytes, policy
from pathlib import Path

from aiosmtpd.controller import Controller
from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone


class MailDirHandler:
    def __init__(self, directory: Path, write):
        self.directory = directory
        self.write = write
        self.count = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        with self.lock:
            self.count += 1
            number = self.count
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
        path = self.directory / f"{stamp}-{number:05d}.eml"
        data = envelope.original_content or envelope.content
        if isinstance(data, str):
            data = data.encode()
        path.write_bytes(data)
        subject = message_from_bytes(data, policy=policy.default).get("Subject", "")
        self.write(f"[smtp_sink] {path.name} : {subject}")
        return "250 Message accepted for delivery"


class Command(BaseCommand):
    help = "Serveur SMTP local : enregistre chaque e-mail reçu dans var/mails/ (fichiers .eml)."

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.stop = threading.Event()
        self.ready = threading.Event()

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=1025)
        parser.add_argument("--dir", default=str(settings.BASE_DIR / "var" / "mails"))

    def handle(self, *args, host="127.0.0.1", port=1025, dir=None, **options):  # noqa: A002
        logging.getLogger("mail.log").setLevel(logging.WARNING)  # it logs every address at INFO
        directory = Path(dir)
        directory.mkdir(parents=True, exist_ok=True)
        handler = MailDirHandler(directory, lambda line: self.stdout.write(line))
        controller = Controller(handler, hostname=host, port=port)
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGTERM, signal.SIGINT):
                signal.signal(sig, lambda signum, frame: self.stop.set())
        controller.start()
        self.stdout.write(f"SMTP local sur {host}:{port}, e-mails enregistrés dans {directory}")
        self.ready.set()
        try:
            self.stop.wait()
        finally:
            controller.stop()
        self.stdout.write("SMTP local arrêté.")
