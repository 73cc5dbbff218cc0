"""What the health endpoint (`/healthz`) reports about the background side: the age of the
oldest message the workers still have to deliver, and the workers' last heartbeat
(`heartbeat_beat`, written by `run_worker` at every pass). Counts and ages only."""

from __future__ import annotations

import os
import socket
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Min
from django.utils import timezone

from .models import Channel, OutboxMessage, Status, WorkerHeartbeat

FORGET_AFTER = timedelta(days=1)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:120]


def heartbeat_beat(kind: str, *, name: str = "", now: datetime | None = None) -> None:
    now = now or timezone.now()
    updated = WorkerHeartbeat.objects.filter(name=name or worker_name()).update(
        last_seen_at=now, kind=kind
    )
    if not updated:
        WorkerHeartbeat.objects.get_or_create(
            name=name or worker_name(),
            defaults={"kind": kind, "started_at": now, "last_seen_at": now},
        )
        WorkerHeartbeat.objects.filter(last_seen_at__lt=now - FORGET_AFTER).delete()


def heartbeat_forget(*, name: str = "") -> None:
    """A worker stopping cleanly removes its line."""
    WorkerHeartbeat.objects.filter(name=name or worker_name()).delete()


def background_health(now: datetime | None = None) -> dict:
    """{"outbox": {...}, "workers": {...}, "ok": bool}: ok when the oldest message waiting for
    delivery is younger than HEALTH_OUTBOX_MAX_AGE_SECONDS and a worker was seen within
    HEALTH_WORKER_MAX_SILENCE_SECONDS."""
    now = now or timezone.now()
    oldest = (
        OutboxMessage.objects.filter(status__in=[Status.PENDING, Status.SENDING])
        .exclude(channel=Channel.LETTER)  # letters wait for a person to print them
        .aggregate(oldest=Min("created_at"))["oldest"]
    )
    beats = list(
        WorkerHeartbeat.objects.filter(last_seen_at__gte=now - FORGET_AFTER).values_list(
            "kind", "last_seen_at"
        )
    )
    outbox_age = int((now - oldest).total_seconds()) if oldest else None
    silence = min((int((now - seen).total_seconds()) for _, seen in beats), default=None)
    max_silence = settings.HEALTH_WORKER_MAX_SILENCE_SECONDS
    alive = sum(1 for _, seen in beats if (now - seen).total_seconds() <= max_silence)
    outbox_ok = outbox_age is None or outbox_age <= settings.HEALTH_OUTBOX_MAX_AGE_SECONDS
    return {
        "ok": outbox_ok and alive > 0,
        "outbox": {"oldest_undelivered_age_seconds": outbox_age, "ok": outbox_ok},
        "workers": {
            "alive": alive,
            "last_heartbeat_age_seconds": silence,
            "ok": alive > 0,
        },
    }
