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
from accesmt.orientation.services import OrientationError, solicitations_send
from accesmt.territory.models import CPTS

from .models import Origin

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
    only the lines of `cpts` when given) through `orientation.services.solicitations_send`
    (origin "allocation": an e-mail without name nor health data, the request moves to
    "proposing"). Each line is handled in its own transaction with the line locked: a line
    already handled is never sent again, a request that is no longer waiting is skipped, a
    refusal of the orientation flow is reported; the others go on. `progress(done=…, total=…,
    step=…)` is told the lines handled so far (between two lines' transactions)."""
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
    for done, line_id in enumerate(line_ids):
        if progress:
            progress(done=done)
        with transaction.atomic():
            line = AllocationLine.objects.select_for_update().filter(pk=line_id).first()
            if line is None:
                continue
            if line.outcome:
                report.already_sent += 1
                continue
            request = Request.objects.select_for_update(of=("self",)).get(pk=line.request_id)
            line.outcome_at = timezone.now()
            if request.status != Status.WAITING:
                line.outcome = LineOutcome.SKIPPED
                report.skipped.append(request.reference)
            else:
                try:
                    with transaction.atomic():
                        created = solicitations_send(
                            request=request,
                            practitioner_ids=[line.practitioner_id],
                            by=by,
                            origin=Origin.ALLOCATION,
                        )
                except OrientationError:
                    created = None
                if not created:  # refused, or this GP was already asked about this request
                    line.outcome = LineOutcome.FAILED
                    report.failed.append(request.reference)
                else:
                    line.outcome = LineOutcome.SENT
                    report.sent.append(request.reference)
            line.save(update_fields=["outcome", "outcome_at"])
    if report.sent or report.skipped or report.failed:
        run.status = AllocationStatus.SENT
        run.sent_at = run.sent_at or timezone.now()
        run.sent_by = run.sent_by or by
        run.save(update_fields=["status", "sent_at", "sent_by"])
    return report
