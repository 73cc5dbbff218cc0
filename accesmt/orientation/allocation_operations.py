"""The send of an allocation run as a background operation (accesmt.notifications.operations):
the page starts it, a worker asks the GPs in batches of lines, the coordinator follows it on its
progress page and goes back to the run. One send at a time per CPTS."""

from __future__ import annotations

from django.urls import reverse

from accesmt.matching.models import AllocationRun
from accesmt.matching.services import AllocationRefused
from accesmt.notifications.models import Operation
from accesmt.notifications.operations import (
    OperationFailed,
    Outcome,
    Progress,
    register_kind,
)

from .allocation_send import allocation_run_send

ALLOCATION_SEND = "orientation.allocation_send"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n > 1 else ''}"


def allocation_send_operation(operation: Operation, progress: Progress) -> Outcome:
    params = operation.params
    run = AllocationRun.objects.filter(pk=params.get("run")).first()
    if run is None:
        raise OperationFailed("Cette répartition n'existe plus : rien n'a été envoyé.")
    try:
        report = allocation_run_send(
            run=run,
            by=operation.created_by,
            line_ids=params.get("lines"),
            cpts=operation.cpts,
            progress=progress,
        )
    except AllocationRefused as exc:
        raise OperationFailed(str(exc)) from None
    n = len(report.sent)
    lines = [f"{_plural(n, 'demande')} envoyée{'s' if n > 1 else ''} aux médecins proposés."]
    if report.skipped:
        lines.append(
            "Ignorées car elles ne sont plus en attente : " + ", ".join(report.skipped) + "."
        )
    if report.failed:
        lines.append(
            "Non envoyées, le suivi de la demande l'a refusé (ouvrez-les pour voir pourquoi) : "
            + ", ".join(report.failed)
            + "."
        )
    if report.already_sent:
        lines.append(f"{_plural(report.already_sent, 'ligne')} déjà envoyée(s) auparavant.")
    return Outcome(
        summary="\n".join(lines),
        result_url=reverse("matching:run", kwargs={"cpts_slug": operation.cpts.slug, "pk": run.pk}),
    )


def register() -> None:
    register_kind(
        ALLOCATION_SEND,
        label="Envoi d'une répartition",
        handler=allocation_send_operation,
        busy=(
            "Un envoi de répartition est déjà en cours pour cette CPTS : attendez qu'il se "
            "termine avant d'en lancer un autre."
        ),
    )
