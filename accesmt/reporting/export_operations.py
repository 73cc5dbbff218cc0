"""The exports of requests whose size grows with the queue (the queue with its filters, the
requests of a period) as background operations (accesmt.notifications.operations): the export
page starts one, a worker reads the requests and writes the CSV / XLSX into a file kept a day at
most, the progress page links to « Télécharger le fichier » (notifications.views_operations:
the coordination of the same CPTS only, each download audited). Every exported request is
audited ("export", in the name of who asked for it) when the file is written, as the
synchronous export did. One export at a time per CPTS. The checked rows of a queue page (50 at
most) stay a synchronous download (views_exports)."""

from __future__ import annotations

from django.utils import timezone

from accesmt.accounts.models import AuditAction
from accesmt.accounts.services import audit_record_many
from accesmt.intake.queue import QueueFilters
from accesmt.notifications.models import Operation
from accesmt.notifications.operations import (
    OperationFailed,
    Outcome,
    Progress,
    operation_file_keep,
    register_kind,
)

from .exports import persons
from .exports.tables import CSV_TYPE, XLSX_TYPE, rows_csv, rows_xlsx
from .models import ReportingSettings
from .periods import PeriodError, period_from_query

PERSON_EXPORT = "reporting.person_export"
TYPES = {"csv": CSV_TYPE, "xlsx": XLSX_TYPE}


def person_export_operation(operation: Operation, progress: Progress) -> Outcome:
    params, cpts, user = operation.params, operation.cpts, operation.created_by
    fmt = params.get("format")
    if user is None or fmt not in TYPES:
        raise OperationFailed("Cet export ne peut plus être fait : relancez-le depuis sa page.")
    progress(step="Lecture des demandes")
    if params.get("export") == "periode":
        contract_start = ReportingSettings.for_cpts(cpts).aci_contract_start
        try:
            period = period_from_query(params.get("period", {}), contract_start=contract_start)
        except PeriodError:
            raise OperationFailed(
                "Période invalide : choisissez-la de nouveau sur la page d'export."
            ) from None
        requests = persons.period_export(cpts=cpts, user=user, period=period)
        name = f"demandes-{cpts.slug}-{period.slug}.{fmt}"
    else:
        filters = QueueFilters.from_query(params.get("filters", {}))
        requests = persons.queue_export(cpts=cpts, user=user, filters=filters)
        name = f"demandes-{cpts.slug}.{fmt}"
    total = len(requests)
    progress(done=0, total=total, step="Préparation des lignes")
    today = timezone.localdate()
    rows = []
    for request in requests:
        rows.append(persons.row_of(request, today))
        progress(done=len(rows))
    progress(step="Écriture du fichier")
    if fmt == "csv":
        content = rows_csv(persons.COLUMNS, rows)
    else:
        content = rows_xlsx(persons.COLUMNS, rows, title="Demandes", note=persons.WARNING)
    audit_record_many(actor=user, action=AuditAction.EXPORT, objects=requests, cpts=cpts)
    operation_file_keep(operation, content, filename=name, content_type=TYPES[fmt])
    s = "s" if total > 1 else ""
    return Outcome(summary=f"{total} demande{s} exportée{s}. {persons.WARNING}")


def register() -> None:
    register_kind(
        PERSON_EXPORT,
        label="Export des demandes",
        handler=person_export_operation,
        busy=(
            "Un export des demandes est déjà en cours pour cette CPTS : attendez qu'il se "
            "termine avant d'en lancer un autre."
        ),
    )
