"""Writes of the matching app: stored queue-wide allocation runs and their bulk sending.

- `allocation_run_create(cpts=…, by=…, method="exact")` reads the waiting list (of one CPTS, or of
  every active CPTS of the platform when `cpts` is None) and the GPs, solves each CPTS separately
  (a household is only ever matched with GPs of its own CPTS, whose declarations, capacities and
  distance limit belong to that CPTS), and writes the proposal back as one `AllocationRun` and one
  `AllocationLine` per household. The run records how long reading, solving and writing took.
- `allocation_run_discard(run=…, by=…)` sets a draft run aside.

Sending a run asks GPs through the orientation flow, so it lives one floor up, in
`accesmt.orientation.allocation_send` (matching imports nothing from orientation).

Capacity left and load this month (taken and solicited this month, per practitioner) are counted
by the orientation app: they come in as the `month_counts` argument, or else from the provider
orientation registers at start-up (`month_counts_register`). See
docs/decisions/0007-matching-and-allocation.md and 0011-layering.md.
"""

from __future__ import annotations

import datetime
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from django.db import connection, transaction
from django.utils import timezone

from accesmt.territory.models import CPTS

from .allocation import (
    HouseholdBatch,
    Proposal,
    allocate,
    allocate_greedy,
)
from .models import (
    AllocationLine,
    AllocationMethod,
    AllocationRun,
    AllocationStatus,
)
from .selectors import candidate_indexes, household_batch, waiting_requests

if TYPE_CHECKING:
    from accesmt.accounts.models import User

WRITE_BATCH_SIZE = 5_000
COPY_CHUNK_ROWS = 20_000
SOLVERS = {AllocationMethod.EXACT: allocate, AllocationMethod.GREEDY: allocate_greedy}
LINE_COLUMNS = (
    "run_id",
    "cpts_id",
    "request_id",
    "practitioner_id",
    "site_id",
    "distance_km",
    "weight",
    "is_priority",
    "waiting_days",
    "unassigned_code",
    "reason",
    "outcome",
)


class AllocationRefused(Exception):
    """The run cannot be sent or discarded in its present state (message in French)."""


MonthCounts = Callable[..., tuple[dict[int, int], dict[int, int]]]
_month_counts_provider: MonthCounts | None = None


def month_counts_register(provider: MonthCounts) -> None:
    """Register `provider(cpts_ids, now=…) -> (taken, solicited)` this month, per practitioner
    id; the orientation app registers its own at start-up (matching cannot import it)."""
    global _month_counts_provider
    _month_counts_provider = provider


def _no_month_counts(cpts_ids, *, now=None) -> tuple[dict[int, int], dict[int, int]]:
    return {}, {}


@dataclass
class _Solved:
    proposals: list[Proposal] = field(default_factory=list)
    gps: int = 0
    places: int = 0
    read_seconds: float = 0.0


Progress = Callable[..., None]


def _no_progress(**kwargs) -> None:
    pass


# Share of the work (in %) reached at the end of each stage of a run, for its progress page.
READ_DONE, INDEX_DONE, SOLVE_DONE = 10, 25, 85


def _solve_per_cpts(
    batch: HouseholdBatch,
    cpts_by_id: dict,
    method: str,
    now,
    month_counts: MonthCounts,
    progress: Progress = _no_progress,
) -> _Solved:
    """One candidate index and one allocation per CPTS (the natural decomposition: no household
    may be offered a GP of another CPTS). Returns the proposals and the open offer."""
    solver = SOLVERS[method]
    solved = _Solved()
    started = time.perf_counter()
    taken, asked = month_counts(list(cpts_by_id), now=now)
    solved.read_seconds += time.perf_counter() - started
    order = np.argsort(batch.cpts_id, kind="stable")
    ids, starts = np.unique(batch.cpts_id[order], return_index=True)
    groups = dict(zip(ids.tolist(), np.split(order, starts[1:]) if len(order) else [], strict=True))
    if len(cpts_by_id) == 1:  # one CPTS: its offer is reported even when its queue is empty
        groups.setdefault(next(iter(cpts_by_id)), np.zeros(0, dtype=np.int64))
    started = time.perf_counter()
    indexes = candidate_indexes(
        [cpts_by_id[cid] for cid in groups],
        now=now,
        taken_this_month=taken,
        solicitations_this_month=asked,
    )
    solved.read_seconds += time.perf_counter() - started
    progress(done=INDEX_DONE, step="Calcul de la répartition")
    households_done, households = 0, max(1, len(batch))
    for number, (cpts_id, rows) in enumerate(groups.items(), start=1):
        if len(groups) > 1:
            progress(step=f"Calcul de la répartition (CPTS {number} sur {len(groups)})")
        index = indexes.pop(cpts_id)  # each index is freed once its CPTS is solved
        open_rows = index.open_rows
        if len(open_rows):
            pids, first = np.unique(index.practitioner_id[open_rows], return_index=True)
            solved.gps += len(pids)
            solved.places += int(index.remaining_capacity[open_rows][first].sum())
        solved.proposals.append(solver(index, batch.subset(rows)))
        households_done += len(rows)
        progress(
            done=INDEX_DONE + (SOLVE_DONE - INDEX_DONE) * households_done // households,
        )
    return solved


def _line_columns(run_id: int, proposals: list[Proposal]) -> dict[str, list]:
    """The lines of a run as columns (`LINE_COLUMNS`): assigned households, then the others."""
    columns: dict[str, list] = {name: [] for name in LINE_COLUMNS}
    for p in proposals:
        hh = p.households
        for rows, assigned in ((p.assigned_rows, True), (p.unassigned_rows, False)):
            n = len(rows)
            columns["run_id"] += [run_id] * n
            columns["cpts_id"] += hh.cpts_id[rows].tolist()
            columns["request_id"] += hh.household_id[rows].tolist()
            columns["weight"] += hh.weight[rows].tolist()
            columns["is_priority"] += hh.is_priority[rows].tolist()
            columns["waiting_days"] += np.maximum(hh.waiting_days[rows], 0).tolist()
            columns["outcome"] += [""] * n
            if assigned:
                columns["practitioner_id"] += p.practitioner_id.tolist()
                columns["site_id"] += p.index.site_id[p.site_row].tolist()
                columns["distance_km"] += np.round(p.distance_km, 3).tolist()
                columns["unassigned_code"] += [""] * n
                columns["reason"] += p.assignment_reasons()
            else:
                columns["practitioner_id"] += [None] * n
                columns["site_id"] += [None] * n
                columns["distance_km"] += [None] * n
                columns["unassigned_code"] += p.unassigned_code.tolist()
                columns["reason"] += p.unassigned_reasons()
    columns["reason"] = [reason[:250] for reason in columns["reason"]]
    return columns


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_COPY_SPECIAL = re.compile(r"[\\\t\n\r]")


def _copy_column(values: list) -> list[str]:
    """One column in COPY's text format: NULL as \\N, booleans t/f, text escaped."""
    sample = next((v for v in values if v is not None), None)
    if isinstance(sample, bool):
        return ["\\N" if v is None else ("t" if v else "f") for v in values]
    if isinstance(sample, str):
        return [
            "\\N" if v is None else v.translate(_COPY_ESCAPES) if _COPY_SPECIAL.search(v) else v
            for v in values
        ]
    return ["\\N" if v is None else str(v) for v in values]


def _copy_lines(columns: dict[str, list]) -> None:
    """PostgreSQL: COPY … FROM STDIN (psycopg 3) in its text format, built column by column
    (psycopg's per-row `write_row` costs more than the database's own work)."""
    table = AllocationLine._meta.db_table
    text = [_copy_column(columns[name]) for name in LINE_COLUMNS]
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(
            f"COPY {table} ({', '.join(LINE_COLUMNS)}) FROM STDIN"  # noqa: S608 (constants)
        ) as copy,
    ):
        rows = list(map("\t".join, zip(*text, strict=True)))
        for start in range(0, len(rows), COPY_CHUNK_ROWS):
            copy.write("\n".join(rows[start : start + COPY_CHUNK_ROWS]) + "\n")


def _bulk_create_lines(columns: dict[str, list]) -> None:
    AllocationLine.objects.bulk_create(
        (
            AllocationLine(**dict(zip(LINE_COLUMNS, row, strict=True)))
            for row in zip(*(columns[name] for name in LINE_COLUMNS), strict=True)
        ),
        batch_size=WRITE_BATCH_SIZE,
    )


def _executemany_lines(columns: dict[str, list]) -> None:
    """Other databases (SQLite in development): one prepared INSERT run over every line."""
    table = connection.ops.quote_name(AllocationLine._meta.db_table)
    names = ", ".join(connection.ops.quote_name(name) for name in LINE_COLUMNS)
    marks = ", ".join(["%s"] * len(LINE_COLUMNS))
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {table} ({names}) VALUES ({marks})",  # noqa: S608 (constants)
            list(zip(*(columns[name] for name in LINE_COLUMNS), strict=True)),
        )


WRITERS = {
    "copy": _copy_lines,
    "executemany": _executemany_lines,
    "bulk_create": _bulk_create_lines,
}


def write_lines(columns: dict[str, list], *, writer: str = "auto") -> None:
    """Insert the lines (`LINE_COLUMNS` → values): "auto" is COPY on PostgreSQL and one
    executemany elsewhere; "bulk_create" (the ORM) is kept to compare."""
    if not columns["run_id"]:
        return
    if writer == "auto":
        writer = "copy" if connection.vendor == "postgresql" else "executemany"
    WRITERS[writer](columns)


def allocation_run_create(
    *,
    cpts: CPTS | None,
    by: User | None,
    method: str = AllocationMethod.EXACT,
    now: datetime.datetime | None = None,
    writer: str = "auto",
    month_counts: MonthCounts | None = None,
    progress: Progress | None = None,
) -> AllocationRun:
    """Allocate the waiting list of `cpts` (of every active CPTS when None) and store the
    proposal as a draft run. Nothing is sent: the coordinator reviews, then sends.
    `month_counts(cpts_ids, now=…)` gives the places taken and solicitations this month per
    practitioner (default: the registered provider, see `month_counts_register`).
    `progress(done=…, total=…, step=…)` is told how far the run has gone, in % (its progress
    page, accesmt.notifications.operations); it is never called inside the writing transaction."""
    month_counts = month_counts or _month_counts_provider or _no_month_counts
    progress = progress or _no_progress
    if method not in SOLVERS:
        raise ValueError(f"méthode inconnue : {method!r}")
    now = now or timezone.now()
    started = time.perf_counter()
    progress(done=0, total=100, step="Lecture de la file d'attente")
    if cpts is None:
        cpts_by_id = {c.pk: c for c in CPTS.objects.filter(is_active=True)}
        requests = waiting_requests().filter(cpts_id__in=list(cpts_by_id))
    else:
        cpts_by_id = {cpts.pk: cpts}
        requests = waiting_requests(cpts)
    batch = household_batch(requests, now=now)
    read_done = time.perf_counter()
    progress(done=READ_DONE, step="Lecture des médecins et de leurs places")
    solved = _solve_per_cpts(batch, cpts_by_id, method, now, month_counts, progress)
    solve_done = time.perf_counter()
    # the GPs are read CPTS by CPTS inside `_solve_per_cpts`: count that as reading
    read_s = (read_done - started) + solved.read_seconds
    solve_s = (solve_done - read_done) - solved.read_seconds

    assigned_priority = sum(
        int(p.households.is_priority[p.assigned_rows].sum()) for p in solved.proposals
    )
    distances = [p.distance_km for p in solved.proposals if len(p.distance_km)]
    all_km = np.concatenate(distances) if distances else np.zeros(0)
    progress(done=SOLVE_DONE, step="Enregistrement de la répartition")
    with transaction.atomic():
        run = AllocationRun.objects.create(
            cpts=cpts,
            created_by=by,
            created_at=now,
            method=method,
            households=len(batch),
            persons=int(batch.persons.sum()),
            priority_households=int(batch.is_priority.sum()),
            gps=solved.gps,
            places=solved.places,
            assigned=len(all_km),
            assigned_persons=sum(
                int(p.households.persons[p.assigned_rows].sum()) for p in solved.proposals
            ),
            priority_assigned=assigned_priority,
            mean_distance_km=float(all_km.mean()) if len(all_km) else None,
            objective=sum(p.objective for p in solved.proposals),
            read_seconds=read_s,
            solve_seconds=solve_s,
        )
        write_lines(_line_columns(run.pk, solved.proposals), writer=writer)
        run.write_seconds = time.perf_counter() - solve_done
        run.save(update_fields=["write_seconds"])
    return run


def allocation_run_discard(*, run: AllocationRun, by: User | None) -> AllocationRun:
    if run.status != AllocationStatus.DRAFT:
        raise AllocationRefused("Seule une répartition à relire peut être écartée.")
    run.status = AllocationStatus.DISCARDED
    run.save(update_fields=["status"])
    return run
