"""Long work started from a page, run as a background task with a progress page.

An app registers each kind of operation once, in its AppConfig.ready():

    from accesmt.notifications import operations
    operations.register_kind("matching.allocation_run", label="Calcul de la répartition",
                             handler=run_allocation, busy="Une répartition est déjà en cours…")

`handler(operation, progress)` does the work; it reports how far it has gone with
`progress(done=…, total=…, step="…")` (written at most twice a second, outside its own
transactions so the page sees it) and returns an `Outcome` (a French summary, the link to the
result). An expected failure is raised as `OperationFailed("message en français")`; any other
exception ends the operation "failed" with a generic French message (its type only is logged,
never its text, which may hold personal data).

`operation_start(kind=…, cpts=…, by=…, params={…})` writes the Operation row and enqueues the
task `operation_run(operation_id)` through Django's Tasks API (django-tasks): with the database
backend the task row is written in the same transaction as the Operation (both or neither), with
Redis it is enqueued once the transaction commits. A second start of the same kind for the same
CPTS while one is queued or running is refused (`OperationRefused`, a unique constraint on the
active rows), unless that one has not moved for OPERATION_STALE_SECONDS (its worker died): it is
then marked failed and the new one starts. See docs/decisions/0030-background-tasks.md.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_tasks import task

from accesmt.common.pending_files import pending_keep, pending_path, pending_purge

from .models import ACTIVE_OPERATION_STATUSES, Operation, OperationStatus

logger = logging.getLogger(__name__)

PROGRESS_MIN_SECONDS = 0.5
UNEXPECTED_ERROR = (
    "L'opération s'est arrêtée sur une erreur inattendue. Rien n'a été perdu de ce qui était "
    "déjà enregistré ; relancez-la, et si l'erreur revient, signalez-la à l'équipe technique."
)
STALE_ERROR = (
    "L'opération n'avançait plus (aucun programme de traitement ne s'en occupait) : elle a été "
    "arrêtée pour en permettre une nouvelle."
)


class OperationRefused(Exception):
    """The operation cannot start (message in French); `active` is the one already running."""

    def __init__(self, message: str, active: Operation | None = None):
        super().__init__(message)
        self.active = active


class OperationFailed(Exception):
    """An expected failure of a handler, with its message in French for the progress page."""


@dataclass(frozen=True)
class Outcome:
    summary: str = ""
    result_url: str = ""


@dataclass(frozen=True)
class Kind:
    name: str
    label: str
    handler: Callable[[Operation, Progress], Outcome]
    busy: str


_kinds: dict[str, Kind] = {}


def register_kind(
    name: str, *, label: str, handler: Callable[[Operation, Progress], Outcome], busy: str
) -> Kind:
    """Register (or replace) a kind of operation; `busy` is the French refusal of a second
    start while one runs."""
    kind = Kind(name=name, label=label, handler=handler, busy=busy)
    _kinds[name] = kind
    return kind


def kind_label(name: str) -> str:
    kind = _kinds.get(name)
    return kind.label if kind else name


class Progress:
    """`progress(done=…, total=…, step=…)`: records how far the operation has gone. The row is
    written when the step changes, at the end, or at most every PROGRESS_MIN_SECONDS."""

    def __init__(self, operation: Operation, *, min_seconds: float = PROGRESS_MIN_SECONDS):
        self.operation = operation
        self.min_seconds = min_seconds
        self._last_write = 0.0

    def __call__(
        self, *, done: int | None = None, total: int | None = None, step: str | None = None
    ) -> None:
        op = self.operation
        step_changed = step is not None and step != op.step
        if total is not None:
            op.total = max(0, int(total))
        if done is not None:
            op.done = max(0, int(done))
        op.done = min(op.done, op.total)
        if step is not None:
            op.step = step[:200]
        now = time.monotonic()
        finished = op.total and op.done == op.total
        if step_changed or finished or now - self._last_write >= self.min_seconds:
            self._last_write = now
            Operation.objects.filter(pk=op.pk).update(
                done=op.done, total=op.total, step=op.step, updated_at=timezone.now()
            )


def _expire_stale(kind: str, cpts) -> None:
    now = timezone.now()
    limit = now - timedelta(seconds=settings.OPERATION_STALE_SECONDS)
    Operation.objects.filter(
        kind=kind, cpts=cpts, status__in=ACTIVE_OPERATION_STATUSES, updated_at__lt=limit
    ).update(status=OperationStatus.FAILED, error=STALE_ERROR, finished_at=now, updated_at=now)


def enqueue_mode(a_task) -> str:
    """How to enqueue `a_task` so that it exists if and only if the caller's transaction commits
    (the guarantee of the outbox): "database" — enqueue inside that transaction (the task row
    commits or not with it); "immediate" — the backend runs the task at enqueue (tests): enqueue
    after the transaction; "on_commit" — an external queue (Redis): enqueue once committed."""
    from django_tasks.backends.immediate import ImmediateBackend
    from django_tasks_db import DatabaseBackend

    backend = a_task.get_backend()
    if isinstance(backend, DatabaseBackend):
        return "database"
    if isinstance(backend, ImmediateBackend):
        return "immediate"
    return "on_commit"


def _enqueue(operation: Operation) -> None:
    result = operation_run.enqueue(operation.pk)
    Operation.objects.filter(pk=operation.pk).update(task_id=str(result.id)[:64])


def operation_start(
    *, kind: str, cpts, by=None, params: dict | None = None, step: str = ""
) -> Operation:
    """Write the operation and enqueue its task; refuse (OperationRefused) when one of the same
    kind is already queued or running for this CPTS."""
    if kind not in _kinds:
        raise ValueError(f"unknown operation kind {kind!r}")
    _expire_stale(kind, cpts)
    mode = enqueue_mode(operation_run)
    try:
        with transaction.atomic():
            operation = Operation.objects.create(
                kind=kind,
                cpts=cpts,
                created_by=by,
                params=params or {},
                step=step or "En attente d'un programme de traitement",
            )
            if mode == "database":  # the task row commits (or not) with the operation
                _enqueue(operation)
    except IntegrityError:
        raise OperationRefused(_kinds[kind].busy, operation_active(kind=kind, cpts=cpts)) from None
    if mode == "immediate":
        _enqueue(operation)  # runs now (tests, or a deployment without worker)
    elif mode == "on_commit":  # an external queue (Redis): once the row is visible to workers
        transaction.on_commit(lambda: _enqueue(operation))
    operation.refresh_from_db()
    return operation


def operation_active(*, kind: str, cpts) -> Operation | None:
    """The operation of this kind queued or running for this CPTS, if any."""
    return (
        Operation.objects.filter(kind=kind, cpts=cpts, status__in=ACTIVE_OPERATION_STATUSES)
        .order_by("-pk")
        .first()
    )


def _finish(operation_id: int, **fields) -> None:
    now = timezone.now()
    Operation.objects.filter(pk=operation_id, status=OperationStatus.RUNNING).update(
        finished_at=now, updated_at=now, **fields
    )


def _where(exc: BaseException) -> str:
    """Where an exception was raised (file:line of its innermost frame), never its message."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    if tb is None:
        return "?"
    return f"{tb.tb_frame.f_code.co_filename.rsplit('site-packages/', 1)[-1]}:{tb.tb_lineno}"


@task()
def operation_run(operation_id: int) -> str:
    """The task: claim the queued operation (a task delivered twice runs it once), run its
    handler, record the outcome. Returns the final status."""
    now = timezone.now()
    claimed = Operation.objects.filter(pk=operation_id, status=OperationStatus.QUEUED).update(
        status=OperationStatus.RUNNING, started_at=now, updated_at=now, step="Démarrage"
    )
    if not claimed:
        logger.warning("opération n° %s : déjà prise ou arrêtée, ignorée", operation_id)
        return "skipped"
    operation = Operation.objects.get(pk=operation_id)
    kind = _kinds.get(operation.kind)
    if kind is None:
        _finish(operation_id, status=OperationStatus.FAILED, error=UNEXPECTED_ERROR)
        logger.error("opération n° %s : nature inconnue %s", operation_id, operation.kind)
        return OperationStatus.FAILED
    try:
        outcome = kind.handler(operation, Progress(operation))
    except OperationFailed as exc:
        _finish(operation_id, status=OperationStatus.FAILED, error=str(exc)[:500])
        logger.info("opération %s n° %s : refusée", kind.name, operation_id)
        return OperationStatus.FAILED
    except Exception as exc:  # noqa: BLE001 - reported on the page; the task itself ends
        _finish(operation_id, status=OperationStatus.FAILED, error=UNEXPECTED_ERROR)
        logger.error(
            "opération %s n° %s : erreur %s à %s",
            kind.name,
            operation_id,
            type(exc).__name__,
            _where(exc),
        )
        return OperationStatus.FAILED
    operation.refresh_from_db(fields=["total"])
    _finish(
        operation_id,
        status=OperationStatus.DONE,
        done=operation.total,
        summary=outcome.summary,
        result_url=outcome.result_url[:300],
        step="Terminé",
    )
    logger.info("opération %s n° %s : terminée", kind.name, operation_id)
    return OperationStatus.DONE


# --- the file an operation produced (an export) ------------------------------------------------


def _files_dir() -> Path:
    return Path(settings.OPERATION_FILES_DIR)


def operation_file_keep(
    operation: Operation, data: bytes, *, filename: str, content_type: str
) -> None:
    """Keep the file the operation produced (an export) in OPERATION_FILES_DIR under a random
    name recorded in its params, for at most common.pending_files.MAX_AGE_SECONDS (a day); the
    progress page then links to its download. `filename` is the name offered to the browser: it
    must hold no personal data."""
    token = pending_keep(_files_dir(), data=data)
    params = {**operation.params, "file": {"token": token, "name": filename, "type": content_type}}
    Operation.objects.filter(pk=operation.pk).update(params=params)
    operation.params = params


def operation_file(operation: Operation) -> tuple[Path, str, str] | None:
    """(path, name offered, content type) of the operation's file, or None when it has none or
    it is gone (older than a day: then deleted)."""
    file = operation.params.get("file") if operation.is_done else None
    if not file:
        return None
    path = pending_path(_files_dir(), file.get("token", ""))
    return (path, file["name"], file["type"]) if path is not None else None


def operation_files_purge(*, now) -> int:
    """Periodic job: delete the operations' files older than a day. Returns the count."""
    return pending_purge(_files_dir(), now=now.timestamp())


def task_results_prune(*, now) -> int:
    """Periodic job: delete the database backend's finished task rows older than
    NOTIFICATIONS_RETENTION_DAYS (the Operation rows keep what users see). Returns the count."""
    from django_tasks_db.models import DBTaskResult

    limit = now - timedelta(days=settings.NOTIFICATIONS_RETENTION_DAYS)
    deleted, _ = DBTaskResult.objects.filter(
        status__in=["SUCCESSFUL", "FAILED"], finished_at__lt=limit
    ).delete()
    return deleted
