"""The health endpoint: the database, the oldest message waiting for delivery, the outbox
workers' and the task workers' heartbeats — counts and ages only, public, never cached."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import DatabaseError
from django.test import override_settings
from django.utils import timezone

from accesmt.notifications.health import heartbeat_beat
from accesmt.notifications.models import Channel, WorkerHeartbeat

from .factories import OutboxMessageFactory

pytestmark = pytest.mark.django_db


def test_no_worker_ever_seen_is_degraded_but_the_web_answers(client):
    response = client.get("/healthz")
    body = response.json()
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    assert body["status"] == "degraded"
    assert body["database"]["ok"] is True
    nobody = {"alive": 0, "last_heartbeat_age_seconds": None, "ok": False}
    assert body["workers"] == {**nobody, "max_silence_seconds": 120}
    assert body["task_workers"] == {**nobody, "max_silence_seconds": 600}
    assert body["outbox"] == {"oldest_undelivered_age_seconds": None, "ok": True}


def test_a_worker_pass_makes_it_ok_and_is_reported_with_its_age(client, smtp_server):
    # the test settings' ImmediateBackend runs the heartbeat task inside the pass
    call_command("run_worker", "--once", stdout=StringIO())
    assert WorkerHeartbeat.objects.filter(kind="outbox").count() == 1
    assert WorkerHeartbeat.objects.filter(kind="tasks").count() == 1
    body = client.get("/healthz").json()
    assert body["status"] == "ok"
    assert body["workers"]["alive"] == 1 and body["workers"]["last_heartbeat_age_seconds"] <= 5
    assert body["task_workers"]["alive"] == 1
    assert body["task_workers"]["last_heartbeat_age_seconds"] <= 5


@pytest.mark.django_db(transaction=True)
def test_the_task_workers_heartbeat_is_written_by_a_task_worker_not_by_the_scheduler(
    client, smtp_server, job_registry
):
    """With the database backend, run_worker only enqueues the heartbeat task: until a task
    worker (db_worker) runs it, /healthz says the task workers are silent."""
    from accesmt.notifications.health import tasks_heartbeat
    from tests.notifications.test_tasks import DATABASE_TASKS, run_database_worker

    job_registry.register("notifications.tasks_heartbeat", tasks_heartbeat, every_seconds=60)
    with override_settings(TASKS=DATABASE_TASKS):
        call_command("run_worker", "--once", stdout=StringIO())
        body = client.get("/healthz").json()
        assert body["status"] == "degraded"
        assert body["workers"]["ok"] is True and body["task_workers"]["ok"] is False
        assert body["task_workers"]["last_heartbeat_age_seconds"] is None

        run_database_worker()

    body = client.get("/healthz").json()
    assert body["status"] == "ok"
    assert body["task_workers"]["alive"] == 1 and body["task_workers"]["ok"] is True
    assert body["task_workers"]["last_heartbeat_age_seconds"] <= 5
    # one line per kind, though the scheduler and the task worker share this test's process
    assert sorted(WorkerHeartbeat.objects.values_list("kind", flat=True)) == ["outbox", "tasks"]


def test_a_silent_task_worker_alone_makes_it_degraded(client, settings):
    now = timezone.now()
    heartbeat_beat("outbox", name="host-a:1")
    heartbeat_beat("tasks", name="host-b:7", now=now - timedelta(minutes=11))
    body = client.get("/healthz").json()
    assert body["status"] == "degraded"
    assert body["workers"]["ok"] is True
    assert body["task_workers"]["alive"] == 0 and body["task_workers"]["ok"] is False
    assert 655 <= body["task_workers"]["last_heartbeat_age_seconds"] <= 670
    settings.HEALTH_TASK_WORKER_MAX_SILENCE_SECONDS = 900
    assert client.get("/healthz").json()["status"] == "ok"


def test_a_silent_worker_and_an_old_message_make_it_degraded(client, settings):
    now = timezone.now()
    heartbeat_beat("outbox", name="web-1:42", now=now - timedelta(minutes=10))
    OutboxMessageFactory(created_at=now - timedelta(minutes=30))
    OutboxMessageFactory(channel=Channel.LETTER, created_at=now - timedelta(days=3))  # to print
    body = client.get("/healthz").json()
    assert body["status"] == "degraded"
    assert body["workers"]["alive"] == 0
    assert 595 <= body["workers"]["last_heartbeat_age_seconds"] <= 610
    assert 1795 <= body["outbox"]["oldest_undelivered_age_seconds"] <= 1810  # not the letter
    assert body["outbox"]["ok"] is False
    settings.HEALTH_OUTBOX_MAX_AGE_SECONDS = 3600
    heartbeat_beat("outbox", name="web-1:42")
    heartbeat_beat("tasks", name="web-1:43")
    assert client.get("/healthz").json()["status"] == "ok"


def test_a_heartbeat_silent_for_a_day_is_forgotten():
    now = timezone.now()
    heartbeat_beat("outbox", name="old:1", now=now - timedelta(days=2))
    heartbeat_beat("outbox", name="new:2", now=now)
    assert list(WorkerHeartbeat.objects.values_list("name", flat=True)) == ["new:2"]


def test_a_database_that_does_not_answer_is_a_503(client, monkeypatch):
    from accesmt.notifications import views_health as views

    def broken():
        raise DatabaseError("connection refused")

    monkeypatch.setattr(views.connection, "cursor", broken)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "down", "database": {"ok": False}}
