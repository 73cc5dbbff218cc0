"""The allocation run as a background operation (accesmt.notifications.operations): the page
starts it, a worker computes it, the coordinator follows it on its progress page and lands on
the run to review. One run at a time per CPTS."""

from __future__ import annotations

from django.urls import reverse

from accesmt.notifications.models import Operation
from accesmt.notifications.operations import Outcome, Progress, register_kind

from .models import AllocationMethod
from .services import allocation_run_create

ALLOCATION_RUN = "matching.allocation_run"


def allocation_run_operation(operation: Operation, progress: Progress) -> Outcome:
    params = operation.params
    method = params.get("method", AllocationMethod.EXACT)
    run = allocation_run_create(
        cpts=None if params.get("scope") == "all" else operation.cpts,
        by=operation.created_by,
        method=method if method in AllocationMethod.values else AllocationMethod.EXACT,
        progress=progress,
    )
    s = "s" if run.assigned > 1 else ""
    return Outcome(
        summary=(
            f"Répartition calculée : {run.assigned} foyer{s} sur {run.households} avec un "
            "médecin proposé. Relisez-la avant de l'envoyer."
        ),
        result_url=reverse("matching:run", kwargs={"cpts_slug": operation.cpts.slug, "pk": run.pk}),
    )


def register() -> None:
    register_kind(
        ALLOCATION_RUN,
        label="Calcul de la répartition",
        handler=allocation_run_operation,
        busy=(
            "Une répartition est déjà en cours de calcul pour cette CPTS : attendez qu'elle se "
            "termine avant d'en lancer une autre."
        ),
    )
