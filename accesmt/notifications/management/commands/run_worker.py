"""`manage.py run_worker [--once] [--interval 5] [--batch 100]`: deliver the outbox and enqueue
the registered periodic jobs that are due (the task workers run them, see jobs.py), until
SIGTERM/SIGINT (the current message finishes, the rest of the batch is handed back). Logs counts
only. A database that goes away (restart, fail-over, network) does not stop the worker: it says
so, waits (1 s, doubled up to a minute) and reconnects."""

from __future__ import annotations

import contextlib
import logging
import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import (
    DatabaseError,
    InterfaceError,
    OperationalError,
    close_old_connections,
    connection,
)

from accesmt.notifications.delivery import deliver_due
from accesmt.notifications.health import heartbeat_beat, heartbeat_forget
from accesmt.notifications.jobs import schedule_due_jobs

logger = logging.getLogger("accesmt.notifications.worker")

DATABASE_RETRY_MAX_SECONDS = 60.0


class Command(BaseCommand):
    help = "Envoie les e-mails et SMS en attente et met en file les tâches périodiques dues."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Un seul passage, puis s'arrête.")
        parser.add_argument(
            "--interval",
            type=float,
            default=getattr(settings, "NOTIFICATIONS_WORKER_INTERVAL", 5.0),
            help="Secondes d'attente entre deux passages (5 par défaut).",
        )
        parser.add_argument(
            "--batch", type=int, default=100, help="Messages pris par lot (100 par défaut)."
        )

    def handle(self, *args, once=False, interval=5.0, batch=100, **options):
        self.stop = threading.Event()
        previous = {}
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGTERM, signal.SIGINT):
                previous[sig] = signal.signal(sig, self._request_stop)
        try:
            totals = self._loop(once=once, interval=max(0.1, interval), batch=max(1, batch))
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        self.stdout.write(
            f"Worker arrêté : {totals['sent']} envoyé(s), {totals['retrying']} à réessayer, "
            f"{totals['failed']} abandonné(s), {totals['jobs']} tâche(s) périodique(s) lancée(s)."
        )

    def _request_stop(self, signum, frame):
        logger.info("worker : signal %s reçu, arrêt après le message en cours", signum)
        self.stop.set()

    def _loop(self, *, once: bool, interval: float, batch: int) -> dict[str, int]:
        totals = {"sent": 0, "retrying": 0, "failed": 0, "jobs": 0}
        logger.info("worker démarré (intervalle %.1f s, lot %d)", interval, batch)
        failures = 0
        while not self.stop.is_set():
            if not connection.in_atomic_block:  # (tests run the command inside a transaction)
                close_old_connections()  # drop a connection the database server has closed
            try:
                self._pass(totals, batch=batch)
            except (OperationalError, InterfaceError) as exc:
                if once or connection.in_atomic_block:
                    raise
                failures += 1
                pause = min(DATABASE_RETRY_MAX_SECONDS, 2.0 ** (failures - 1))
                logger.warning(
                    "worker : base de données injoignable (%s), nouvel essai dans %.0f s",
                    type(exc).__name__,
                    pause,
                )
                connection.close()  # a fresh connection at the next pass
                self.stop.wait(pause)
                continue
            if failures:
                logger.info("worker : base de données de nouveau joignable")
                failures = 0
            if once:
                break
            self.stop.wait(interval)
        if not once:  # a worker stopped by a signal: no longer counted as alive
            with contextlib.suppress(DatabaseError):
                heartbeat_forget("outbox")
        return totals

    def _pass(self, totals: dict[str, int], *, batch: int) -> None:
        heartbeat_beat("outbox")  # a sign of life for the health endpoint (/healthz)
        while not self.stop.is_set():  # drain: full batches mean more may be due
            stats = deliver_due(limit=batch, should_stop=self.stop.is_set)
            totals["sent"] += stats.sent
            totals["retrying"] += stats.retrying
            totals["failed"] += stats.failed
            if stats.claimed < batch:
                break
        if not self.stop.is_set():
            totals["jobs"] += len(schedule_due_jobs())
