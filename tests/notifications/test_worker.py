"""The worker command, the periodic jobs registry, the development SMTP sink."""

import logging
import os
import signal
import smtplib
import threading
from datetime import timedelta
from email import message_from_bytes, policy
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from accesmt.notifications import jobs
from accesmt.notifications.management.commands.smtp_sink import Command as SmtpSinkCommand
from accesmt.notifications.models import OutboxMessage, PeriodicJob, Status
from tests.smtp_server import free_port

from .factories import OutboxMessageFactory

pytestmark = pytest.mark.django_db


def test_run_worker_once_delivers_everything_due_and_runs_due_jobs(smtp_server, job_registry):
    OutboxMessageFactory.create_batch(5)
    OutboxMessageFactory(sms=True)
    not_yet = OutboxMessageFactory(next_attempt_at=timezone.now() + timedelta(hours=1))
    calls = []
    job_registry.register("test.count", lambda now: calls.append(1) or 7, every_seconds=60)
    out = StringIO()
    call_command("run_worker", "--once", "--batch", "2", stdout=out)  # 3 full batches, then 0
    assert len(smtp_server.messages) == 5
    assert OutboxMessage.objects.filter(status=Status.SENT).count() == 6
    assert OutboxMessage.objects.get(pk=not_yet.pk).status == Status.PENDING
    assert calls == [1]
    assert PeriodicJob.objects.get(name="test.count").last_outcome == "ok 7"
    assert "6 envoyé(s)" in out.getvalue()
    assert "1 tâche(s)" in out.getvalue()


def test_run_worker_stops_cleanly_on_sigterm(smtp_server, job_registry):
    OutboxMessageFactory()
    timer = threading.Timer(0.5, os.kill, args=(os.getpid(), signal.SIGTERM))
    timer.start()
    out = StringIO()
    try:
        call_command("run_worker", "--interval", "60", stdout=out)  # returns only once stopped
    finally:
        timer.cancel()
    assert "Worker arrêté : 1 envoyé(s)" in out.getvalue()
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # handler restored


def test_a_periodic_job_runs_once_per_period_whatever_the_number_of_workers(job_registry):
    calls = []
    job_registry.register("test.every_hour", lambda now: calls.append(now), every_seconds=3600)
    now = timezone.now()
    assert jobs.schedule_due_jobs(now=now) == {"test.every_hour": "ok"}
    assert jobs.schedule_due_jobs(now=now) == {}  # a second worker in the same minute
    assert jobs.schedule_due_jobs(now=now + timedelta(minutes=59)) == {}
    assert jobs.schedule_due_jobs(now=now + timedelta(minutes=61)) == {"test.every_hour": "ok"}
    assert calls == [now, now + timedelta(minutes=61)]  # each run gets its job's `now`


def test_a_failing_job_is_recorded_and_does_not_stop_the_others(job_registry, caplog):
    def broken(now):
        raise ValueError("détail qui pourrait contenir des données")

    job_registry.register("test.broken", broken, every_seconds=60)
    job_registry.register("test.fine", lambda now: 3, every_seconds=60)
    outcomes = jobs.schedule_due_jobs()
    assert outcomes == {"test.broken": "erreur ValueError", "test.fine": "ok 3"}
    assert PeriodicJob.objects.get(name="test.broken").last_outcome == "erreur ValueError"
    assert "détail" not in caplog.text


def test_register_refuses_a_period_that_is_not_positive(job_registry):
    with pytest.raises(ValueError):
        job_registry.register("test.never", lambda now: None, every_seconds=0)


def test_the_redaction_job_is_registered_by_the_app():
    assert "notifications.redact_old" in jobs.registered()


def test_smtp_sink_writes_each_mail_as_eml_and_prints_its_subject(tmp_path):
    port = free_port()
    out = StringIO()
    command = SmtpSinkCommand(stdout=out)
    thread = threading.Thread(
        target=call_command,
        args=(command,),
        kwargs={"port": port, "dir": str(tmp_path / "mails")},
        daemon=True,
    )
    thread.start()
    assert command.ready.wait(10)
    try:
        raw = (
            "From: a@exemple.fr\r\nTo: b@exemple.fr\r\n"
            "Subject: =?utf-8?q?Demande_re=C3=A7ue?=\r\n\r\nBonjour\r\n"
        )
        with smtplib.SMTP("127.0.0.1", port, timeout=5) as client:
            client.sendmail("a@exemple.fr", ["b@exemple.fr"], raw)
    finally:
        command.stop.set()
        thread.join(10)
    [eml] = (tmp_path / "mails").glob("*.eml")
    parsed = message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert parsed["Subject"] == "Demande reçue"
    output = out.getvalue()
    assert f"{eml.name} : Demande reçue" in output
    assert "b@exemple.fr" not in output


@pytest.mark.django_db(transaction=True)
def test_the_worker_survives_a_database_restart_and_delivers_afterwards(
    smtp_server, job_registry, monkeypatch, caplog
):
    """PostgreSQL restarted under a running worker (bench_registration_faults.py): the worker
    used to exit with "Base de données injoignable"; it now waits, reconnects and goes on."""
    from django.db import OperationalError

    from accesmt.notifications.management.commands import run_worker

    OutboxMessageFactory.create_batch(2)
    real_deliver_due = run_worker.deliver_due
    calls = []

    def deliver_due_across_a_restart(**kwargs):
        calls.append(1)
        if len(calls) <= 2:
            raise OperationalError("the database system is shutting down")
        stats = real_deliver_due(**kwargs)
        if not OutboxMessage.objects.exclude(status=Status.SENT).exists():
            os.kill(os.getpid(), signal.SIGTERM)
        return stats

    monkeypatch.setattr(run_worker, "deliver_due", deliver_due_across_a_restart)
    monkeypatch.setattr(run_worker, "DATABASE_RETRY_MAX_SECONDS", 0.05)
    out = StringIO()
    with caplog.at_level(logging.INFO, logger="accesmt.notifications.worker"):
        call_command("run_worker", "--interval", "0.05", stdout=out)
    assert len(smtp_server.messages) == 2
    assert OutboxMessage.objects.filter(status=Status.SENT).count() == 2
    assert caplog.text.count("base de données injoignable (OperationalError)") == 2
    assert "base de données de nouveau joignable" in caplog.text
    assert "Worker arrêté : 2 envoyé(s)" in out.getvalue()


def test_run_worker_once_still_reports_a_database_error(job_registry, monkeypatch):
    from django.db import OperationalError

    from accesmt.notifications.management.commands import run_worker

    def down(**kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(run_worker, "deliver_due", down)
    with pytest.raises(OperationalError):
        call_command("run_worker", "--once", stdout=StringIO())
