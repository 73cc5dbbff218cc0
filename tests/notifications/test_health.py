"""The health endpoint: the database, the oldest message waiting for delivery, the workers'
heartbeat — counts and ages only, public, never cached."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import DatabaseError
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
    assert body["workers"] == {"alive": 0, "last_heartbeat_age_seconds": None, "ok": False}
    assert body["outbox"] == {"oldest_undelivered_age_seconds": None, "ok": True}


def test_a_worker_pass_makes_it_ok_and_is_reported_with_its_age(client, smtp_server):
    call_command("run_worker", "--once", stdout=StringIO())
    assert WorkerHeartbeat.objects.filter(kind="outbox").count() == 1
    body = client.get("/healthz").json()
    assert body["status"] == "ok"
    assert body["workers"]["alive"] == 1 and body["workers"]["last_heartbeat_age_seconds"] <= 5


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
