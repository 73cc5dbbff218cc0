"""Periodic jobs: scheduled by `manage.py run_worker`, run as tasks by the task workers.

Another app registers a job once, in its AppConfig.ready():

    from accesmt.notifications import jobs
    jobs.register("orientation.remind_gps", remind_gps, every_seconds=3600)

`func(now=...)` receives the time its period was claimed as its only (keyword) argument, must be
idempotent (it may run late, or again after a crash), may return a count to log, and must not log
personal data.

At each pass of `run_worker`, `schedule_due_jobs` claims every job whose time has come with one
conditional UPDATE of its PeriodicJob row (the next run time lives in the database, so with
several schedulers a job is claimed once per period, not once per scheduler) and enqueues the
task `periodic_job_run(name, claimed_at)` through Django's Tasks API: with the database backend
the task row is written in the claim's transaction (both or neither), with Redis once the claim
is committed, with the ImmediateBackend (tests) the job runs at once. A task worker (`db_worker`,
`rqworker`) runs it; the task starts the job only if its period is still the one queued (a task
delivered twice, or overtaken by the next period, does nothing). A failing job is logged (its
exception type only) and runs again at its next period. See docs/decisions/0030.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django_tasks import TaskResultStatus, task

from .operations import enqueue_mode

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


# PeriodicJob.last_outcome while a period is claimed and not finished.
QUEUED = "en file d'attente"
RUNNING = "en cours"


def _claim(job: Job, now: datetime) -> bool:
    from .models import PeriodicJob

    try:
        with transaction.atomic():
            PeriodicJob.objects.get_or_create(name=job.name, defaults={"next_run_at": now})
    except IntegrityError:  # another scheduler created it first
        pass
    claimed = PeriodicJob.objects.filter(name=job.name, next_run_at__lte=now).update(
        next_run_at=now + timedelta(seconds=job.every_seconds),
        last_started_at=now,
        last_outcome=QUEUED,
    )
    return claimed == 1


def _enqueue_after_commit(name: str, stamp: str) -> None:
    try:
        periodic_job_run.enqueue(name, stamp)
    except Exception as exc:  # noqa: BLE001 - the queue is down: the next period will try again
        logger.error("tâche %s : mise en file impossible (%s)", name, type(exc).__name__)


def schedule_due_jobs(*, now: datetime | None = None) -> dict[str, str]:
    """Claim every registered job whose time has come and enqueue its task; return
    {name: outcome}: the job's outcome when the backend ran it at once (ImmediateBackend),
    QUEUED otherwise."""
    now = now or timezone.now()
    stamp = now.isoformat()
    mode = enqueue_mode(periodic_job_run)
    outcomes: dict[str, str] = {}
    for job in list(_registry.values()):
        with transaction.atomic():
            if not _claim(job, now):
                continue
            if mode == "database":  # the task row commits (or not) with the claim
                periodic_job_run.enqueue(job.name, stamp)
        if mode == "immediate":
            result = periodic_job_run.enqueue(job.name, stamp)
            outcomes[job.name] = (
                result.return_value if result.status == TaskResultStatus.SUCCESSFUL else "erreur"
            )
        else:
            if mode == "on_commit":
                transaction.on_commit(lambda name=job.name: _enqueue_after_commit(name, stamp))
            outcomes[job.name] = QUEUED
    return outcomes


@task()
def periodic_job_run(name: str, claimed_at: str) -> str:
    """The task: run the job `name` for the period claimed at `claimed_at` (ISO 8601), unless that
    period already started (a task delivered twice) or a later one was claimed since. Returns the
    outcome ("ok", "ok <count>", "erreur <type>") or "ignorée"."""
    from .models import PeriodicJob

    job = _registry.get(name)
    if job is None:
        logger.error("tâche %s : inconnue de ce processus", name)
        return "inconnue"
    now = datetime.fromisoformat(claimed_at)
    started = PeriodicJob.objects.filter(
        name=name, last_started_at=now, last_outcome=QUEUED
    ).update(last_outcome=RUNNING)
    if not started:
        logger.info("tâche %s : période déjà traitée ou remplacée, ignorée", name)
        return "ignorée"
    try:
        result = job.func(now=now)
    except Exception as exc:  # noqa: BLE001 - logged by type; the next period runs it again
        outcome = f"erreur {type(exc).__name__}"[:120]
        logger.error("tâche %s : %s", name, outcome)
    else:
        outcome = f"ok {result}" if isinstance(result, int) else "ok"
        logger.info("tâche %s : %s", name, outcome)
    PeriodicJob.objects.filter(name=name, last_started_at=now).update(
        last_finished_at=timezone.now(), last_outcome=outcome
    )
    return outcome
