"""The demo's transfer plan in progress (issue 11): the GP leaving in five months, about 900
patients in 400 households imported into a plan, receivers nearby, the allocation over the
months, the past months done through the orientation services, the months ahead waiting."""

import time

import pytest
from django.core.management import call_command
from django.utils import timezone

from accesmt.demo.departures import LEAVING_IN_MONTHS
from accesmt.intake.models import Channel, HouseholdMember, Request, Status
from accesmt.notifications.models import OutboxMessage
from accesmt.notifications.models import Status as OutboxStatus
from accesmt.orientation.models import Origin, Placement, Solicitation, SolicitationStatus
from accesmt.orientation.transfers.models import TransferPlan, TransferPlanStatus
from accesmt.orientation.transfers.services import plan_month_rows
from accesmt.reporting.periods import add_months


@pytest.mark.django_db
def test_load_demo_has_a_transfer_plan_in_progress(client):
    started = time.monotonic()
    call_command("load_demo", households=40, history=8)
    print(f"load_demo: {time.monotonic() - started:.1f} s")
    plan = TransferPlan.objects.get()
    today = timezone.localdate()
    assert plan.status == TransferPlanStatus.OPEN
    assert plan.departure_date == add_months(today, LEAVING_IN_MONTHS)
    declaration = plan.practitioner.declarations.latest("declared_at")
    assert declaration.planned_departure_date == plan.departure_date

    requests = Request.objects.filter(transfer_household__plan=plan)
    assert requests.count() == 400
    persons = HouseholdMember.objects.filter(request__in=requests).count()
    assert 800 <= persons <= 1000
    assert set(requests.values_list("channel", flat=True)) == {Channel.TRANSFER}
    # seniority of the whole plan: waiting since its opening, about three months ago
    assert set(requests.values_list("waiting_since", flat=True)) == {plan.created_at}
    assert (today - timezone.localdate(plan.created_at)).days > 60
    assert plan.receivers.count() >= 10

    rows = {r.month: r for r in plan_month_rows(plan)}
    current = today.replace(day=1)
    past = [m for m in rows if m is not None and m < current]
    ahead = [m for m in rows if m is not None and m > current]
    assert len(past) >= 2 and len(ahead) >= 2
    for month in past:  # done: asked, most placed, nobody still being asked
        assert rows[month].placed >= rows[month].planned * 0.7
        assert rows[month].asked == 0
    for month in ahead:  # ahead: nobody asked yet
        assert rows[month].placed == rows[month].asked == 0 and rows[month].planned > 0
    assert rows[current].asked > 0
    assert sum(r.refused for r in rows.values()) > 0

    # placed through the services, at past dates, with the planned GP
    placements = Placement.objects.filter(request__in=requests).select_related("request")
    assert placements.count() == sum(rows[m].placed for m in past + [current])
    planned = dict(plan.households.values_list("request_id", "practitioner_id"))
    with_planned = [p for p in placements if p.practitioner_id == planned[p.request_id]]
    assert len(with_planned) >= placements.count() * 0.8  # the others after a refusal
    assert all(p.at.date() < today for p in placements)
    asked = Solicitation.objects.filter(request__in=requests)
    assert asked.filter(origin=Origin.TRANSFER).count() >= placements.count()
    assert asked.filter(status=SolicitationStatus.PENDING).exists()
    # held out of the queue while the plan runs
    assert requests.filter(status=Status.WAITING, held_for_transfer=True).count() > 100

    # nothing of that past left pending in the outbox
    yesterday = timezone.now() - timezone.timedelta(days=1)
    pending = OutboxMessage.objects.filter(status=OutboxStatus.PENDING)
    assert not pending.filter(created_at__lt=yesterday).exists()
