"""The confirmed import of a transfer plan's households as a background operation
(accesmt.notifications.operations): « Confirmer l'import » starts it, a worker checks the waiting
file again and writes every household in one transaction, the progress page links to the plan.
The waiting file (common.pending_files) is deleted once the operation has read it. One transfer
import at a time per CPTS."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.urls import reverse

from accesmt.common.pending_files import pending_delete, pending_path
from accesmt.notifications.models import Operation
from accesmt.notifications.operations import OperationFailed, Outcome, Progress, register_kind

from .importer import TransferFormatError, transfer_import_confirm
from .models import TransferPlan

TRANSFER_IMPORT = "orientation.transfer_import"


def pending_dir() -> Path:
    return Path(settings.CPAM_PENDING_DIR) / "transfers"


def transfer_import_operation(operation: Operation, progress: Progress) -> Outcome:
    params, cpts = operation.params, operation.cpts
    token = params.get("token", "")
    path = pending_path(pending_dir(), token)
    if path is None:
        raise OperationFailed("Le fichier n'est plus disponible : envoyez-le à nouveau.")
    try:
        data = path.read_bytes()
    finally:
        pending_delete(pending_dir(), token)
    plan = TransferPlan.objects.filter(cpts=cpts, pk=params.get("plan")).first()
    if plan is None or not plan.is_open:
        raise OperationFailed("Ce plan de transfert n'est plus ouvert : rien n'a été importé.")
    progress(done=0, total=1, step="Contrôle du fichier et enregistrement des foyers")
    try:
        preview = transfer_import_confirm(
            data, plan=plan, consent_attested=True, by=operation.created_by
        )
    except (ValueError, TransferFormatError) as error:
        raise OperationFailed(f"Import refusé : {error}") from None
    return Outcome(
        summary=(
            f"Import terminé : {len(preview.households)} foyer(s), "
            f"{preview.person_count} personne(s)."
        ),
        result_url=reverse(
            "orientation:transfer_plan", kwargs={"cpts_slug": cpts.slug, "pk": plan.pk}
        ),
    )


def register() -> None:
    register_kind(
        TRANSFER_IMPORT,
        label="Import d'un plan de transfert",
        handler=transfer_import_operation,
        busy=(
            "Un import de plan de transfert est déjà en cours pour cette CPTS : attendez qu'il "
            "se termine avant d'en lancer un autre."
        ),
    )
