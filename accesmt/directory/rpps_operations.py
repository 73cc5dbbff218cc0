"""The RPPS upload from the admin as a background operation of the whole platform
(accesmt.notifications.operations, an Operation without CPTS): the admin page keeps the uploaded
file in RPPS_PENDING_DIR (common.pending_files) and starts the operation; a worker reads the file
(0–80 %, by bytes read) and writes the directory (80–100 %, one transaction); the admin follows
it on its page (admin.PractitionerAdmin.operation_view). One RPPS import at a time.

When the import would mark too many GPs absent (RppsAbsencesNeedConfirmation, nothing written),
the operation ends "done" with the question as its summary and `params["question"]`; the file
stays waiting and the import page asks for the confirmation, which starts a second operation
with `confirm_absences`. Otherwise the file is deleted once read, whatever the outcome."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.urls import reverse

from accesmt.common.pending_files import pending_delete, pending_path
from accesmt.notifications.models import Operation
from accesmt.notifications.operations import OperationFailed, Outcome, Progress, register_kind

from .rpps import RppsAbsencesNeedConfirmation, RppsFormatError, rpps_import

RPPS_IMPORT = "directory.rpps_import"
READ_SHARE = 80  # the read phase's share of the progress bar, in %
FILE_GONE = "Le fichier envoyé n'est plus disponible : envoyez-le à nouveau."
BUSY = (
    "Un import de l'annuaire national est déjà en cours : attendez qu'il se termine avant "
    "d'envoyer un autre fichier."
)


def pending_dir() -> Path:
    return Path(settings.RPPS_PENDING_DIR)


def rpps_import_operation(operation: Operation, progress: Progress) -> Outcome:
    params = operation.params
    token = params.get("token", "")
    path = pending_path(pending_dir(), token)
    if path is None:
        raise OperationFailed(FILE_GONE)

    def on_read(lines: int, position: int, total: int) -> None:
        if position >= total:  # the reader's last call: the write phase starts
            progress(done=READ_SHARE, total=100, step="Enregistrement dans l'annuaire")
        else:
            progress(done=READ_SHARE * position // max(total, 1), total=100)

    progress(done=0, total=100, step="Lecture du fichier")
    keep_file = False
    try:
        report = rpps_import(
            path,
            departements=params.get("departements", []),
            accept_partial=bool(params.get("accept_partial")),
            dry_run=bool(params.get("dry_run")),
            confirm_absences=bool(params.get("confirm_absences")),
            progress=on_read,
        )
    except RppsFormatError as exc:
        raise OperationFailed(f"Import refusé : {exc}"[:500]) from None
    except RppsAbsencesNeedConfirmation as exc:
        keep_file = True  # the confirmation imports it without a new upload
        Operation.objects.filter(pk=operation.pk).update(params={**params, "question": True})
        return Outcome(
            summary="\n".join(exc.lines()),
            result_url=reverse("admin:directory_practitioner_import"),
        )
    finally:
        if not keep_file:
            pending_delete(pending_dir(), token)
    lines = report.summary_lines() + [str(error) for error in report.errors]
    if params.get("dry_run"):
        lines.insert(0, "Essai à blanc : rien n'a été enregistré.")
    elif params.get("confirm_absences"):
        lines.insert(0, "Import terminé : absences confirmées.")
    return Outcome(summary="\n".join(lines))


def register() -> None:
    register_kind(
        RPPS_IMPORT,
        label="Import de l'annuaire national (RPPS)",
        handler=rpps_import_operation,
        busy=BUSY,
    )
