"""What the health endpoint (`/healthz`) reports about the background side: the age of the
oldest message the workers still have to deliver, and the last heartbeat of each kind of worker:
"outbox" (`run_worker`, written at every pass) and "tasks" (the task workers, `db_worker` or
`rqworker`: they have no hook of ours, so the periodic job `notifications.tasks_heartbeat`,
enqueued every minute, writes it from whichever task worker runs it). Counts and ages only."""

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


def _line_name(kind: str) -> str:
    return f"{kind} {worker_name()}"[:120]  # one line per kind: a process may be both


def heartbeat_beat(kind: str, *, name: str = "", now: datetime | None = None) -> None:
    now = now or timezone.now()
    name = name or _line_name(kind)
    updated = WorkerHeartbeat.objects.filter(name=name).update(last_seen_at=now, kind=kind)
    if not updated:
        WorkerHeartbeat.objects.get_or_create(
            name=name, defaults={"kind": kind, "started_at": now, "last_seen_at": now}
        )
        WorkerHeartbeat.objects.filter(last_seen_at__lt=now - FORGET_AFTER).delete()


def heartbeat_forget(kind: str, *, name: str = "") -> None:
    """A worker stopping cleanly removes its line."""
    WorkerHeartbeat.objects.filter(name=name or _line_name(kind)).delete()


def tasks_heartbeat(*, now: datetime) -> None:
    """Periodic job (every minute): run by a task worker, it writes that worker's heartbeat with
    the time it actually runs (not `now`, the time its period was claimed: a queue that does not
    move shows as a silence)."""
    heartbeat_beat("tasks")


def _workers(beats: list[tuple[str, datetime]], kind: str, now: datetime, max_silence: int):
    ages = [int((now - seen).total_seconds()) for k, seen in beats if k == kind]
    alive = sum(1 for age in ages if age <= max_silence)
    return {
        "alive": alive,
        "last_heartbeat_age_seconds": min(ages, default=None),
        "max_silence_seconds": max_silence,
        "ok": alive > 0,
    }


def background_health(now: datetime | None = None) -> dict:
    """{"outbox": {...}, "workers": {...}, "task_workers": {...}, "ok": bool}: ok when the oldest
    message waiting for delivery is younger than HEALTH_OUTBOX_MAX_AGE_SECONDS, an outbox worker
    (`run_worker`) was seen within HEALTH_WORKER_MAX_SILENCE_SECONDS and a task worker within
    HEALTH_TASK_WORKER_MAX_SILENCE_SECONDS."""
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
    outbox_ok = outbox_age is None or outbox_age <= settings.HEALTH_OUTBOX_MAX_AGE_SECONDS
    workers = _workers(beats, "outbox", now, settings.HEALTH_WORKER_MAX_SILENCE_SECONDS)
    task_workers = _workers(beats, "tasks", now, settings.HEALTH_TASK_WORKER_MAX_SILENCE_SECONDS)
    return {
        "ok": outbox_ok and workers["ok"] and task_workers["ok"],
        "outbox": {"oldest_undelivered_age_seconds": outbox_age, "ok": outbox_ok},
        "workers": workers,
        "task_workers": task_workers,
    }
