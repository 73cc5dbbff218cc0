"""Periodic jobs run by the worker (`manage.py run_worker`) besides delivering the outbox.

Another app registers a job once, in its AppConfig.ready():

    from accesmt.notifications import jobs
    jobs.register("orientation.remind_gps", remind_gps, every_seconds=3600)

`func(now=...)` receives the run's time as its only (keyword) argument, must be idempotent (it may
run late, or again after a crash), may return a count to log, and must not log personal data.
The next run time of each job lives in the database (PeriodicJob), so with several workers a job
runs once per period, not once per worker.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    name: str
    func: Callable[..., object]
    every_seconds: int


_registry: dict[str, Job] = {}


def register(name: str, func: Callable[..., object], every_seconds: int) -> Job:
    """Register (or replace) a periodic job under a unique name."""
    if every_seconds <= 0:
        raise ValueError("every_seconds must be positive")
    job = Job(name=name, func=func, every_seconds=int(every_seconds))
    _registry[name] = job
    return job


def unregister(name: str) -> None:
    _registry.pop(name, None)


def registered() -> dict[str, Job]:
    return dict(_registry)


def _claim(job: Job, now: datetime) -> bool:
    from .models import PeriodicJob

    try:
        with transaction.atomic():
            PeriodicJob.objects.get_or_create(name=job.name, defaults={"next_run_at": now})
    except IntegrityError:  # another worker created it first
        pass
    claimed = PeriodicJob.objects.filter(name=job.name, next_run_at__lte=now).update(
        next_run_at=now + timedelta(seconds=job.every_seconds), last_started_at=now
    )
    return claimed == 1


def run_due_jobs(*, now: datetime | None = None) -> dict[str, str]:
    """Run every registered job whose time has come; return {name: outcome}."""
    from .models import PeriodicJob

    now = now or timezone.now()
    outcomes: dict[str, str] = {}
    for job in list(_registry.values()):
        if not _claim(job, now):
            continue
        try:
            result = job.func(now=now)
        except Exception as exc:  # noqa: BLE001 - one job's failure must not stop the worker
            outcome = f"erreur {type(exc).__name__}"[:120]
            logger.error("tâche %s : %s", job.name, outcome)
        else:
            outcome = f"ok {result}" if isinstance(result, int) else "ok"
            logger.info("tâche %s : %s", job.name, outcome)
        PeriodicJob.objects.filter(name=job.name).update(
            last_finished_at=timezone.now(), last_outcome=outcome
        )
        outcomes[job.name] = outcome
    return outcomes
