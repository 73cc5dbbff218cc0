"""Transfer plans' receivers (issue 11): by default the GPs near the departing GP who declared
transfer places; the coordinator adjusts them within the declaration or removes them; a receiver
who declines a household hands it to another receiver of the plan with room that month or the
next, never to a GP of the whole queue; with none, it stays in the plan, "left" for the month."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from accesmt.intake.models import Channel, Status
from accesmt.orientation.models import (
    Origin,
    Solicitation,
    SolicitationStatus,
    TransferHousehold,
    TransferPlan,
)
from accesmt.orientation.services import solicitation_token
from accesmt.orientation.transfers.services import plan_month_list
from tests.accounts.factories import MembershipFactory
from tests.worlds import gp_at, two_cpts, waiting_request

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    w = two_cpts()
    departing = gp_at(w.cpts, w.here, capacity=0, transfer_capacity=0).practitioner
    # a GP of the queue nearer than any receiver, who declared no transfer places
    queue_gp = gp_at(w.cpts, w.here, north=0.5, capacity=5).practitioner
    gp1 = gp_at(w.cpts, w.here, north=1, capacity=4, transfer_capacity=1).practitioner
    gp2 = gp_at(w.cpts, w.here, north=3, capacity=4, transfer_capacity=1).practitioner
    far = gp_at(w.cpts, w.here, north=80, capacity=4, transfer_capacity=3).practitioner
    coordinator = MembershipFactory(cpts=w.cpts, role="coordinator").user
    return w, departing, queue_gp, gp1, gp2, far, coordinator


def _plan_url(plan):
    return reverse("orientation:transfer_plan", kwargs={"cpts_slug": plan.cpts.slug, "pk": plan.pk})


def _open_plan(client, w, departing):
    departure = timezone.localdate() + datetime.timedelta(days=120)
    response = client.post(
        reverse("orientation:transfer_plans", kwargs={"cpts_slug": w.cpts.slug}),
        {
            "practitioner": departing.pk,
            "departure_date": departure.strftime("%d/%m/%Y"),
            "avoid_summer": "",
        },
    )
    assert response.status_code == 302
    return TransferPlan.objects.get()


def test_receivers_default_to_nearby_gps_with_transfer_places(client, world):
    w, departing, queue_gp, gp1, gp2, far, coordinator = world
    client.force_login(coordinator)
    plan = _open_plan(client, w, departing)
    assert dict(plan.receivers.values_list("practitioner_id", "monthly_capacity")) == {
        gp1.pk: 1,
        gp2.pk: 1,
    }  # not the GP without transfer places, not the one 80 km away, not the departing GP

    # adjusting stays within the declared transfer places (1), not the monthly capacity (4)
    response = client.post(
        _plan_url(plan), {"action": "receiver", "practitioner": gp1.pk, "monthly_capacity": "2"}
    )
    assert response.status_code == 400
    assert "Au plus 1 par mois : les places pour des transferts" in response.content.decode()
    # a GP who declared no transfer places may still be added, within their monthly capacity
    response = client.post(
        _plan_url(plan),
        {"action": "receiver", "practitioner": queue_gp.pk, "monthly_capacity": "3"},
    )
    assert response.status_code == 302
    assert plan.receivers.get(practitioner=queue_gp).monthly_capacity == 3

    # removing a receiver frees the households it was given and not yet asked
    request = waiting_request(w.cpts, w.here, held_for_transfer=True, channel=Channel.TRANSFER)
    month = plan_month_list(plan)[0]
    TransferHousehold.objects.create(
        plan=plan, request=request, household_key="F1", practitioner=queue_gp, month=month
    )
    response = client.post(
        _plan_url(plan), {"action": "remove_receiver", "practitioner": queue_gp.pk}
    )
    assert response.status_code == 302
    assert not plan.receivers.filter(practitioner=queue_gp).exists()
    row = TransferHousehold.objects.get()
    assert (row.practitioner_id, row.month) == (None, None)


def _decline(client, solicitation):
    client.logout()
    url = reverse("orientation:answer", kwargs={"token": solicitation_token(solicitation)})
    response = client.post(url, {"choice": "decline", "decline_reason": "full"})
    assert response.status_code in (200, 302)
    solicitation.refresh_from_db()
    assert solicitation.status == SolicitationStatus.DECLINED


def test_a_declined_household_goes_to_another_receiver_then_stays_in_the_plan(client, world):
    w, departing, queue_gp, gp1, gp2, _far, coordinator = world
    client.force_login(coordinator)
    plan = _open_plan(client, w, departing)
    first, second = plan_month_list(plan)[:2]
    households = {}
    for key, gp in (("H1", gp1), ("H3", gp2)):
        request = waiting_request(w.cpts, w.here, held_for_transfer=True, channel=Channel.TRANSFER)
        households[key] = TransferHousehold.objects.create(
            plan=plan, request=request, household_key=key, practitioner=gp, month=first
        )
    client.post(_plan_url(plan), {"action": "send", "month": first.isoformat()})
    h1 = households["H1"].request
    asked = Solicitation.objects.get(request=h1)
    assert (asked.practitioner, asked.origin) == (gp1, Origin.TRANSFER)

    # gp1 declines: gp2's only place this month is H3's, so gp2 is asked for the next month;
    # the nearer GP of the queue, who is no receiver, is not asked
    _decline(client, asked)
    h1.refresh_from_db()
    assert h1.status == Status.PROPOSING and h1.held_for_transfer
    nxt = Solicitation.objects.get(request=h1, status=SolicitationStatus.PENDING)
    assert (nxt.practitioner, nxt.origin) == (gp2, Origin.TRANSFER)
    assert not Solicitation.objects.filter(practitioner=queue_gp).exists()
    row = TransferHousehold.objects.get(pk=households["H1"].pk)
    assert (row.practitioner_id, row.month) == (gp2.pk, second)

    # gp2 declines too: no other receiver; the household waits in the plan, not in the queue
    _decline(client, nxt)
    h1.refresh_from_db()
    assert h1.status == Status.WAITING and h1.held_for_transfer
    assert Solicitation.objects.filter(request=h1).count() == 2
    client.force_login(coordinator)
    page = client.get(_plan_url(plan)).content.decode()
    month_row = page.split(f'data-month="{second.isoformat()}"')[1].split("</tr>")[0]
    assert 'data-no-receiver="1"' in month_row
    assert "sans autre médecin receveur disponible" in month_row
    queue = client.get(reverse("intake_staff:queue", kwargs={"cpts_slug": w.cpts.slug}))
    assert h1.reference not in queue.content.decode()
    # asking that month again does not ask the GP who declined
    client.post(_plan_url(plan), {"action": "send", "month": second.isoformat()})
    assert Solicitation.objects.filter(request=h1).count() == 2
