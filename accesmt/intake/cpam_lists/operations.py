"""The confirmed import of a CPAM list as a background operation
(accesmt.notifications.operations): « Confirmer l'import » starts it, a worker reads and checks
the waiting file again and writes the list in one transaction, the progress page links to the
list. The waiting file (common.pending_files) is deleted once the operation has read it, whatever
the outcome. One list import at a time per CPTS."""

from __future__ import annotations

import datetime
from pathlib import Path

from django.conf import settings
from django.urls import reverse

from accesmt.common.pending_files import pending_delete, pending_path
from accesmt.notifications.models import Operation
from accesmt.notifications.operations import (
    OperationFailed,
    Outcome,
    Progress,
    register_kind,
)

from . import CpamListFormatError, cpam_list_apply, cpam_list_preview

CPAM_LIST_IMPORT = "intake.cpam_list_import"
FILE_GONE = "Le fichier envoyé n'est plus disponible : envoyez-le à nouveau."


def pending_dir() -> Path:
    return Path(settings.CPAM_PENDING_DIR)


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n <= 1 else many}"


def cpam_list_import_operation(operation: Operation, progress: Progress) -> Outcome:
    params, cpts = operation.params, operation.cpts
    token = params.get("token", "")
    path = pending_path(pending_dir(), token)
    if path is None:
        raise OperationFailed(FILE_GONE)
    try:
        data = path.read_bytes()
    finally:
        pending_delete(pending_dir(), token)
    progress(done=0, total=2, step="Lecture et contrôle du fichier")
    try:
        checked = cpam_list_preview(data, cpts=cpts, campaign_name=params["campaign_name"])
    except CpamListFormatError as error:
        raise OperationFailed(f"Import refusé : {error}") from None
    report = checked.report
    progress(
        done=1, step=f"Enregistrement de {_count(report.accepted_count, 'personne', 'personnes')}"
    )
    cpam_list = cpam_list_apply(
        checked,
        cpts=cpts,
        campaign_name=params["campaign_name"],
        list_date=datetime.date.fromisoformat(params["list_date"]),
        opt_out_days=int(params["opt_out_days"]),
        source="upload",
        by=operation.created_by,
    )
    return Outcome(
        summary=(
            "Liste importée : "
            f"{_count(report.accepted_count, 'personne informée', 'personnes informées')}, "
            f"{_count(report.duplicate_count, 'doublon', 'doublons')} et "
            f"{_count(report.refused_count, 'ligne refusée', 'lignes refusées')} (non importés)."
        ),
        result_url=reverse(
            "intake_staff:cpam_list_detail", kwargs={"cpts_slug": cpts.slug, "pk": cpam_list.pk}
        ),
    )


def register() -> None:
    register_kind(
        CPAM_LIST_IMPORT,
        label="Import d'une liste CPAM",
        handler=cpam_list_import_operation,
        busy=(
            "Une liste CPAM est déjà en cours d'import pour cette CPTS : attendez qu'elle soit "
            "enregistrée avant d'en importer une autre."
        ),
    )
