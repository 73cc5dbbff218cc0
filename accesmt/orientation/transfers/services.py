"""Writes of the transfer plans (docs/decisions/0017-transfer-plans.md): open a plan, set the
receiving GPs, compute the allocation over months, ask the receivers of a month through the
ordinary solicitation flow, and release what remains into the queue at the departure date."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone

from accesmt.accounts.actors import actor_or_none
from accesmt.directory.models import AvailabilityDeclaration, PracticeSite, Practitioner
from accesmt.intake.models import SOLVED_REASONS, Request, Status
from accesmt.matching.candidates import rank_candidates
from accesmt.matching.selectors import (
    candidate_index,
    household_batch,
    household_needs,
    max_distance_by_cpts,
)
from accesmt.territory.distances import haversine_km

from ..models import Origin, Solicitation, SolicitationStatus
from ..services import OrientationError, solicitations_send
from .models import TransferHousehold, TransferPlan, TransferPlanStatus, TransferReceiver
from .solver import allocate_over_months, plan_months, receivers_index


def transfer_plan_create(
    *, cpts, practitioner: Practitioner, departure_date: datetime.date, avoid_summer: bool, by=None
) -> TransferPlan:
    if departure_date <= timezone.localdate():
        raise ValidationError({"departure_date": "La date de départ doit être dans le futur."})
    if not Practitioner.objects.in_cpts(cpts).filter(pk=practitioner.pk).exists():
        raise ValidationError({"practitioner": "Ce médecin n'exerce pas sur le territoire."})
    plan = TransferPlan(
        cpts=cpts,
        practitioner=practitioner,
        departure_date=departure_date,
        avoid_summer=avoid_summer,
        created_by=actor_or_none(by),
    )
    plan.full_clean(exclude=["cpts", "practitioner", "created_by"])
    with transaction.atomic():
        plan.save()
        TransferReceiver.objects.bulk_create(
            TransferReceiver(plan=plan, practitioner_id=gp, monthly_capacity=places)
            for gp, places in nearby_transfer_receivers(plan).items()
        )
    return plan


def nearby_transfer_receivers(plan: TransferPlan, now=None) -> dict[int, int]:
    """The plan's default receivers: {GP: transfer places a month} for the GPs of the CPTS whose
    current declaration accepts new patients with transfer places, and who have a present site
    within the CPTS's distance limit (matching settings) of a site of the departing GP."""
    departing = list(
        PracticeSite.objects.present()
        .filter(practitioner_id=plan.practitioner_id, latitude__isnull=False)
        .values_list("latitude", "longitude")
    )
    if not departing:
        return {}
    places = dict(
        AvailabilityDeclaration.objects.filter(cpts=plan.cpts)
        .accepting(now)
        .filter(transfer_capacity__gte=1)
        .exclude(practitioner_id=plan.practitioner_id)
        .values_list("practitioner_id", "transfer_capacity")
    )
    limit = max_distance_by_cpts([plan.cpts_id])[plan.cpts_id]
    near: dict[int, int] = {}
    for gp, lat, lon in (
        PracticeSite.objects.present()
        .in_cpts(plan.cpts)
        .filter(practitioner_id__in=list(places), latitude__isnull=False)
        .values_list("practitioner_id", "latitude", "longitude")
    ):
        if any(haversine_km(lat, lon, dlat, dlon) <= limit for dlat, dlon in departing):
            near[gp] = places[gp]
    return near


def declared_capacity(plan: TransferPlan, practitioner_id: int) -> tuple[int | None, int | None]:
    """(monthly capacity, transfer places) of the GP's latest declaration in the CPTS."""
    declaration = (
        AvailabilityDeclaration.objects.filter(cpts=plan.cpts, practitioner_id=practitioner_id)
        .latest_per_practitioner()
        .first()
    )
    if declaration is None:
        return None, None
    return declaration.monthly_capacity, declaration.transfer_capacity


def transfer_receiver_set(
    *, plan: TransferPlan, practitioner: Practitioner, monthly_capacity: int
) -> TransferReceiver:
    """Add a receiving GP (or change their capacity for transfers): a subset of the monthly
    capacity of their latest declaration in the CPTS."""
    if practitioner.pk == plan.practitioner_id:
        raise ValidationError({"practitioner": "Le médecin partant ne peut pas recevoir."})
    if not Practitioner.objects.in_cpts(plan.cpts).filter(pk=practitioner.pk).exists():
        raise ValidationError({"practitioner": "Ce médecin n'exerce pas sur le territoire."})
    capacity, transfers = declared_capacity(plan, practitioner.pk)
    if capacity is None:
        raise ValidationError(
            {"practitioner": "Ce médecin n'a pas déclaré de disponibilité dans la CPTS."}
        )
    if transfers and monthly_capacity > transfers:
        raise ValidationError(
            {
                "monthly_capacity": f"Au plus {transfers} par mois : les places pour des "
                "transferts que le médecin a déclarées."
            }
        )
    if monthly_capacity > capacity:
        raise ValidationError(
            {
                "monthly_capacity": f"Au plus {capacity} par mois : une partie de la capacité "
                "mensuelle déclarée par le médecin."
            }
        )
    receiver, _ = TransferReceiver.objects.update_or_create(
        plan=plan, practitioner=practitioner, defaults={"monthly_capacity": monthly_capacity}
    )
    return receiver


def transfer_receiver_remove(*, plan: TransferPlan, practitioner_id: int) -> bool:
    """Remove a receiving GP. The households the last allocation gave them and not yet asked
    lose their GP and month (compute the allocation again); those already asked keep theirs."""
    with transaction.atomic():
        deleted, _ = plan.receivers.filter(practitioner_id=practitioner_id).delete()
        plan.households.filter(
            practitioner_id=practitioner_id,
            request__status=Status.WAITING,
            request__held_for_transfer=True,
        ).update(practitioner=None, month=None, distance_km=None)
    return bool(deleted)


def plan_month_list(plan: TransferPlan, today: datetime.date | None = None):
    return plan_months(
        today or timezone.localdate(), plan.departure_date, avoid_summer=plan.avoid_summer
    )


@dataclass
class AllocationOutcome:
    proposed: int
    unplaced: int
    months: int
    seconds: float


def transfer_plan_allocate(*, plan: TransferPlan, now=None) -> AllocationOutcome:
    """Spread the households still waiting (not yet asked) over the receivers and the months
    left; households already being oriented or placed keep their month and count against the
    capacity of their GP-month."""
    now = now or timezone.now()
    months = plan_month_list(plan, timezone.localdate(now))
    capacity = dict(plan.receivers.values_list("practitioner_id", "monthly_capacity"))
    if not months or not capacity:
        raise ValidationError(
            "Aucun mois avant le départ ou aucun médecin receveur : rien à répartir."
        )
    rank = {m: i for i, m in enumerate(months)}
    households = plan.households.select_related("request")
    free = households.filter(request__status=Status.WAITING, request__held_for_transfer=True)
    used: dict[tuple[int, int], int] = {}
    for row in (
        households.exclude(pk__in=free.values("pk"))
        .filter(month__in=months)
        .values("practitioner_id", "month")
        .annotate(n=Count("request__members"))
    ):
        key = (row["practitioner_id"], rank[row["month"]])
        used[key] = used.get(key, 0) + row["n"]
    batch = household_batch(Request.objects.filter(pk__in=free.values("request_id")), now=now)
    index = candidate_index(plan.cpts, now=now)
    result = allocate_over_months(index, batch, capacity=capacity, months=len(months), used=used)
    by_request = {
        int(h): (int(p), months[int(m)], float(km))
        for h, p, m, km in zip(
            result.household_id,
            result.practitioner_id,
            result.month_rank,
            result.distance_km,
            strict=True,
        )
    }
    with transaction.atomic():
        rows = list(free.select_for_update(of=("self",)))
        for row in rows:
            gp, month, km = by_request.get(row.request_id, (None, None, None))
            row.practitioner_id, row.month, row.distance_km = gp, month, km
        TransferHousehold.objects.bulk_update(
            rows, ["practitioner", "month", "distance_km"], batch_size=500
        )
    return AllocationOutcome(
        proposed=len(by_request),
        unplaced=len(rows) - len(by_request),
        months=len(months),
        seconds=result.stats.get("total_s", 0.0),
    )


def transfer_month_send(*, plan: TransferPlan, month: datetime.date, by=None):
    """Ask each receiving GP about the households the plan gives them this month, through the
    ordinary signed-link solicitation (anonymised; accept or decline). Returns (sent, skipped)."""
    sent, skipped = [], []
    rows = plan.households.filter(
        month=month, request__status=Status.WAITING, practitioner__isnull=False
    ).select_related("request")
    already = Solicitation.objects.filter(
        request=OuterRef("request"), practitioner=OuterRef("practitioner")
    )
    for row in rows.annotate(already_asked=Exists(already)):
        if row.already_asked:  # declined or no answer, and no other receiver had room
            skipped.append(row.request.reference)
            continue
        try:
            solicitations_send(
                request=row.request,
                practitioner_ids=[row.practitioner_id],
                by=by,
                origin=Origin.TRANSFER,
            )
            sent.append(row.request.reference)
        except OrientationError:
            skipped.append(row.request.reference)
    return sent, skipped


ASKED_NOT_TAKEN = (SolicitationStatus.DECLINED, SolicitationStatus.EXPIRED)


def _asked_not_taken():
    """A household whose GP (the plan's) declined or did not answer: it no longer uses that
    GP's places."""
    return Exists(
        Solicitation.objects.filter(
            request=OuterRef("request"),
            practitioner=OuterRef("practitioner"),
            status__in=ASKED_NOT_TAKEN,
        )
    )


def transfer_next_receiver(request: Request, *, now=None) -> Solicitation | None:
    """A receiving GP declined (or did not answer) a household of an open plan: ask another
    receiver of the same plan who has room left in the household's month, or else in the next
    month of the plan, with the queue's rules (profiles, home-visit zone, distance limit); the
    nearest first. Returns None when there is none (the household stays in the plan, "left" for
    its month) or when the request is not held for an open plan — the ordinary flow goes on.

    Called by the flow's `_next_candidate`, inside its transaction, on a locked request."""
    if not request.held_for_transfer:
        return None
    row = (
        TransferHousehold.objects.select_related("plan")
        .filter(request=request, plan__status=TransferPlanStatus.OPEN)
        .first()
    )
    if row is None:
        return None
    now = now or timezone.now()
    plan = row.plan
    months = plan_month_list(plan, timezone.localdate(now))
    if row.month is not None:
        months = [m for m in months if m >= row.month] or months
    capacity = dict(plan.receivers.values_list("practitioner_id", "monthly_capacity"))
    asked = set(request.solicitations.values_list("practitioner_id", flat=True))
    for gp in asked:
        capacity.pop(gp, None)
    if not months or not capacity:
        return None
    needs = household_needs(request, today=timezone.localdate(now))
    index = candidate_index(plan.cpts, now=now)
    limit = max_distance_by_cpts([plan.cpts_id])[plan.cpts_id]
    for month in months[:2]:
        used = dict(
            plan.households.filter(month=month, practitioner_id__in=list(capacity))
            .exclude(pk=row.pk)
            .exclude(_asked_not_taken())
            .values("practitioner_id")
            .annotate(n=Count("request__members"))
            .values_list("practitioner_id", "n")
        )
        room = {gp: places - used.get(gp, 0) for gp, places in capacity.items()}
        room = {gp: left for gp, left in room.items() if left >= max(needs.persons, 1)}
        if not room:
            continue
        ranked = rank_candidates(
            receivers_index(index, room), needs, max_distance_km=limit, limit=None
        )
        if not ranked:
            continue
        best = min(ranked, key=lambda c: (c.distance_km, c.practitioner_id))
        [created] = solicitations_send(
            request=request,
            practitioner_ids=[best.practitioner_id],
            origin=Origin.TRANSFER,
            now=now,
        )
        TransferHousehold.objects.filter(pk=row.pk).update(
            practitioner_id=best.practitioner_id,
            month=month,
            distance_km=round(best.distance_km, 2),
        )
        return created
    return None


def transfer_plans_release_due(now=None) -> int:
    """The job: at the departure date, what remains of a plan goes into the CPTS queue with its
    seniority (`waiting_since` is the plan's creation). Returns the requests released."""
    now = now or timezone.now()
    released = 0
    due = TransferPlan.objects.filter(
        status=TransferPlanStatus.OPEN, departure_date__lte=timezone.localdate(now)
    )
    for plan in due:
        with transaction.atomic():
            released += Request.objects.filter(
                transfer_household__plan=plan, held_for_transfer=True
            ).update(held_for_transfer=False)
            TransferPlan.objects.filter(pk=plan.pk).update(
                status=TransferPlanStatus.RELEASED, released_at=now
            )
    return released


@dataclass
class MonthRow:
    month: datetime.date | None
    planned: int
    placed: int
    asked: int
    refused: int
    left: int
    no_receiver: int = 0  # of `left`: declined, and no other receiver had room this month


def plan_month_rows(plan: TransferPlan) -> list[MonthRow]:
    """Per month of the plan: households planned, placed (a médecin traitant found), asked
    (being oriented), refused (a receiving GP declined), left (not placed), and of those left
    the ones no other receiver could take after a refusal. Two queries."""
    declined = Solicitation.objects.filter(
        request=OuterRef("request"), origin=Origin.TRANSFER, status=SolicitationStatus.DECLINED
    )
    refused = dict(
        plan.households.filter(Exists(declined))
        .values("month")
        .annotate(n=Count("pk"))
        .values_list("month", "n")
    )
    rows = (
        plan.households.values("month")
        .annotate(
            planned=Count("pk"),
            placed=Count(
                "pk",
                filter=Q(request__status=Status.CLOSED, request__closed_reason__in=SOLVED_REASONS),
            ),
            asked=Count(
                "pk", filter=Q(request__status__in=(Status.PROPOSING, Status.AWAITING_CHOICE))
            ),
            no_receiver=Count("pk", filter=Q(_asked_not_taken(), request__status=Status.WAITING)),
        )
        .order_by("month")
    )
    return [
        MonthRow(
            month=r["month"],
            planned=r["planned"],
            placed=r["placed"],
            asked=r["asked"],
            refused=refused.get(r["month"], 0),
            left=r["planned"] - r["placed"],
            no_receiver=r["no_receiver"],
        )
        for r in rows
    ]
