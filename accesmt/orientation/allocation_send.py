"""Sending a stored allocation run (matching app) through the orientation flow.

`allocation_run_send(run=…, by=…, line_ids=None, cpts=None)` asks the proposed GP of each selected
line through `accesmt.orientation.services.solicitations_send` (origin "allocation"): a line whose
request is no longer waiting is skipped and reported, a line is never sent twice. It lives here,
one floor above matching, so that matching imports nothing from orientation (see
docs/decisions/0011-layering.md)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from accesmt.intake.models import Request, Status
from accesmt.matching.models import AllocationLine, AllocationRun, AllocationStatus, LineOutcome
from accesmt.matching.services import AllocationRefused
from accesmt.orientation.services import solicitations_send_many
from accesmt.territory.models import CPTS

from .models import Origin

BATCH_SIZE = 500  # lines per transaction

if TYPE_CHECKING:
    from accesmt.accounts.models import User


@dataclass
class SendReport:
    sent: list[str] = field(default_factory=list)  # references
    skipped: list[str] = field(default_factory=list)  # request no longer waiting
    failed: list[str] = field(default_factory=list)
    already_sent: int = 0


def allocation_run_send(
    *,
    run: AllocationRun,
    by: User | None,
    line_ids=None,
    cpts: CPTS | None = None,
    progress: Callable[..., None] | None = None,
) -> SendReport:
    """Ask the proposed GP of each selected assigned line (all of them when `line_ids` is None;
    only the lines of `cpts` when given), as `orientation.services.solicitations_send` would
    (origin "allocation": an e-mail without name nor health data, the request moves to
    "proposing"), `BATCH_SIZE` lines per transaction (`solicitations_send_many`: a constant
    number of queries per batch). In each batch the lines and their requests are locked: a line
    already handled is never sent again, a request that is no longer waiting is skipped, a GP
    the orientation flow refuses (gone, out of the CPTS, already asked) is reported; the others
    go on. The lines' outcomes, the solicitations, their messages and the requests' moves are
    written together. `progress(done=…, total=…, step=…)` is told the lines handled so far
    (between two batches' transactions)."""
    if run.status == AllocationStatus.DISCARDED:
        raise AllocationRefused("Cette répartition a été écartée : elle ne peut plus être envoyée.")
    lines = run.lines.assigned()
    if cpts is not None:
        lines = lines.filter(cpts=cpts)
    if line_ids is not None:
        lines = lines.filter(pk__in=list(line_ids))
    report = SendReport()
    line_ids = list(
        lines.order_by("-is_priority", "-waiting_days", "pk").values_list("pk", flat=True)
    )
    step = "Envoi des demandes aux médecins proposés"
    if progress:
        progress(done=0, total=len(line_ids), step=step)
    for start in range(0, len(line_ids), BATCH_SIZE):
        if progress:
            progress(done=start)
        _send_batch(line_ids[start : start + BATCH_SIZE], by=by, report=report)
    if report.sent or report.skipped or report.failed:
        run.status = AllocationStatus.SENT
        run.sent_at = run.sent_at or timezone.now()
        run.sent_by = run.sent_by or by
        run.save(update_fields=["status", "sent_at", "sent_by"])
    return report


def _send_batch(line_ids: list[int], *, by: User | None, report: SendReport) -> None:
    now = timezone.now()
    with transaction.atomic():
        lines = list(
            AllocationLine.objects.select_for_update().filter(pk__in=line_ids).order_by("pk")
        )
        fresh = [line for line in lines if not line.outcome]
        report.already_sent += len(lines) - len(fresh)
        requests = (
            Request.objects.select_for_update(of=("self",))
            .select_related("cpts", "commune")
            .order_by("pk")
            .in_bulk([line.request_id for line in fresh])
        )
        waiting = [line for line in fresh if requests[line.request_id].status == Status.WAITING]
        created = solicitations_send_many(
            asks=[(requests[line.request_id], line.practitioner_id) for line in waiting],
            by=by,
            origin=Origin.ALLOCATION,
            now=now,
        )
        outcomes: dict[str, list[int]] = {}
        asked = {line.pk for line in waiting}
        for line in fresh:
            reference = requests[line.request_id].reference
            if line.pk not in asked:
                outcome, kept = LineOutcome.SKIPPED, report.skipped
            elif line.request_id in created:
                outcome, kept = LineOutcome.SENT, report.sent
            else:  # refused, or this GP was already asked about this request
                outcome, kept = LineOutcome.FAILED, report.failed
            outcomes.setdefault(outcome, []).append(line.pk)
            kept.append(reference)
        for outcome, pks in outcomes.items():
            AllocationLine.objects.filter(pk__in=pks).update(outcome=outcome, outcome_at=now)
