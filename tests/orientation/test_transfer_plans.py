"""Transfer plan of a departing GP over HTTP: open the plan, add receivers (within their declared
capacity), import the practice's file (preview, then confirm; nothing partial), the requests held
out of the queue, the allocation over months on the plan page, asking a month's receivers
(solicitation origin "transfer"), the consent letter, and the release at the departure date."""

import datetime
import io
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from accesmt.intake.models import Channel, HouseholdMember, Request, Status
from accesmt.notifications.models import Operation
from accesmt.orientation.models import (
    Origin,
    Solicitation,
    TransferHousehold,
    TransferPlan,
    TransferPlanStatus,
)
from accesmt.orientation.transfers.services import transfer_plans_release_due
from tests.accounts.factories import MembershipFactory
from tests.intake.conftest import territory  # noqa: F401  (fixture)
from tests.worlds import gp_at, point_at

pytestmark = pytest.mark.django_db

HEADER = (
    "foyer;nom;prénom;date de naissance;sexe;adresse;code postal;commune;téléphone;e-mail;ALD;"
    "visites à domicile"
)
LINES = (
    "F1;Martin;Jeanne;17/05/1948;F;12 rue des Lilas;62800;Liévin;06 12 34 56 78;;oui;non",
    "F1;Martin;Paul;02/03/1946;M;12 rue des Lilas;62800;Liévin;;;non;oui",
    "F2;Durand;Léa;01/01/1990;F;3 rue Basse;62800;Liévin;;lea@exemple.fr;non;non",
    "F3;Petit;Marc;05/06/1985;M;4 place Haute;62143;Angres;06 11 22 33 44;;non;non",
)
BAD = "F4;Roux;Anne;31/02/1960;F;2 rue Neuve;62800;Liévin;06 55 44 33 22;;non;peut-être"


def _csv(*lines):
    return ("\r\n".join((HEADER, *lines)) + "\r\n").encode("cp1252")


@pytest.fixture(autouse=True)
def _pending_dir(settings, tmp_path):
    settings.CPAM_PENDING_DIR = tmp_path / "pending"


@pytest.fixture
def world(territory):  # noqa: F811
    cpts = territory["lievin"]
    lievin = territory["communes"]["Liévin"]
    angres = territory["communes"]["Angres"]
    for commune in (lievin, angres):
        commune.latitude, commune.longitude = point_at(0, 0)  # where gp_at puts the GPs
        commune.save()
    departing = gp_at(cpts, lievin, capacity=0).practitioner
    receivers = [
        gp_at(
            cpts, lievin, north=km, capacity=4, home_visit_radius_km=10, accepts_home_visits=True
        ).practitioner
        for km in (1, 3)
    ]
    coordinator = MembershipFactory(cpts=cpts, role="coordinator").user
    return cpts, departing, receivers, coordinator


def _url(name, cpts, **kwargs):
    return reverse(f"orientation:{name}", kwargs={"cpts_slug": cpts.slug, **kwargs})


def _upload(client, cpts, plan, data):
    upload = io.BytesIO(data)
    upload.name = "patients.csv"
    return client.post(_url("transfer_import", cpts, pk=plan.pk), {"file": upload})


def _token(response):
    return response.content.decode().split('name="confirm" value="')[1].split('"')[0]


def _open_plan(cpts, departing):
    from accesmt.orientation.transfers.services import transfer_plan_create

    return transfer_plan_create(
        cpts=cpts,
        by=None,
        practitioner=departing,
        departure_date=timezone.localdate() + datetime.timedelta(days=120),
        avoid_summer=False,
    )


def test_a_second_import_while_one_runs_is_refused_and_a_closed_plan_fails_in_french(
    client, world, settings
):
    cpts, departing, _receivers, coordinator = world
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    plan = _open_plan(cpts, departing)
    client.force_login(coordinator)
    confirm = {"confirm": _token(_upload(client, cpts, plan, _csv(*LINES)))}
    response = client.post(
        _url("transfer_import", cpts, pk=plan.pk), confirm | {"consent_attested": "on"}
    )
    operation = Operation.objects.get()
    progress_url = response["Location"]
    assert progress_url == reverse(
        "notifications:operation", kwargs={"cpts_slug": cpts.slug, "pk": operation.pk}
    )
    confirm = {
        "confirm": _token(_upload(client, cpts, plan, _csv(*LINES))),
        "consent_attested": "on",
    }
    response = client.post(_url("transfer_import", cpts, pk=plan.pk), confirm, follow=True)
    assert response.redirect_chain[0][0] == progress_url
    assert "Un import de plan de transfert est déjà en cours" in response.content.decode()
    assert Operation.objects.count() == 1
    # the plan was closed before a worker took the import: nothing written, a French message
    TransferPlan.objects.filter(pk=plan.pk).update(status="released", released_at=timezone.now())
    from accesmt.notifications.operations import operation_run

    assert operation_run.call(operation.pk) == "failed"
    page = client.get(progress_url).content.decode()
    assert "Ce plan de transfert n&#x27;est plus ouvert" in page
    assert not Request.objects.exists()


def test_plan_from_creation_to_release(client, world):
    cpts, departing, (gp1, gp2), coordinator = world
    client.force_login(coordinator)
    departure = timezone.localdate() + datetime.timedelta(days=120)

    # bad input: a date in the past, shown next to the field
    response = client.post(
        _url("transfer_plans", cpts),
        {"practitioner": departing.pk, "departure_date": "01/01/2020", "avoid_summer": "on"},
    )
    assert response.status_code == 400
    assert "La date de départ doit être dans le futur." in response.content.decode()
    response = client.post(
        _url("transfer_plans", cpts),
        {
            "practitioner": departing.pk,
            "departure_date": departure.strftime("%d/%m/%Y"),
            "avoid_summer": "",
        },
    )
    plan = TransferPlan.objects.get()
    assert response["Location"] == _url("transfer_plan", cpts, pk=plan.pk)

    # receivers: a subset of their declared capacity (4)
    response = client.post(
        response["Location"],
        {"action": "receiver", "practitioner": gp1.pk, "monthly_capacity": "5"},
    )
    assert response.status_code == 400
    assert "Au plus 4 par mois" in response.content.decode()
    for gp, places in ((gp1, "2"), (gp2, "1")):
        client.post(
            _url("transfer_plan", cpts, pk=plan.pk),
            {"action": "receiver", "practitioner": gp.pk, "monthly_capacity": places},
        )
    assert plan.receivers.count() == 2

    # a file with a refused line: preview only, nothing can be confirmed
    response = _upload(client, cpts, plan, _csv(*LINES, BAD))
    page = response.content.decode()
    assert 'data-count="refused">1<' in page, re.sub(r"\s+", " ", page)[-3000:]
    assert 'name="confirm"' not in page
    assert Request.objects.count() == 0

    # the corrected file: 3 households, 4 persons; the consent box is required
    response = _upload(client, cpts, plan, _csv(*LINES))
    assert 'data-count="households">3<' in response.content.decode()
    token = _token(response)
    response = client.post(_url("transfer_import", cpts, pk=plan.pk), {"confirm": token})
    assert response.status_code == 400
    assert Request.objects.count() == 0
    response = client.post(
        _url("transfer_import", cpts, pk=plan.pk), {"confirm": token, "consent_attested": "on"}
    )
    # a background operation (run at once by the test backend): its page links to the plan
    operation = Operation.objects.get(kind="orientation.transfer_import")
    assert response["Location"] == reverse(
        "notifications:operation", kwargs={"cpts_slug": cpts.slug, "pk": operation.pk}
    )
    progress = client.get(response["Location"]).content.decode()
    assert "Import terminé : 3 foyer(s), 4 personne(s)." in progress
    assert f'href="{_url("transfer_plan", cpts, pk=plan.pk)}"' in progress
    requests = Request.objects.filter(transfer_household__plan=plan)
    assert requests.count() == 3
    assert all(r.channel == Channel.TRANSFER and r.held_for_transfer for r in requests)
    assert {r.waiting_since for r in requests} == {plan.created_at}
    assert requests.get(transfer_household__household_key="F1").members.count() == 2
    # the persons are filed under the receiving CPTS (its searches by name look there)
    members = HouseholdMember.objects.filter(request__in=requests)
    assert set(members.values_list("cpts_id", flat=True)) == {cpts.pk}

    # held out of the coordinator's queue while the plan runs
    queue = client.get(reverse("intake_staff:queue", kwargs={"cpts_slug": cpts.slug}))
    for r in requests:
        assert r.reference not in queue.content.decode()

    # allocation over months: every household gets a GP and a month, fragile first
    response = client.post(_url("transfer_plan", cpts, pk=plan.pk), {"action": "allocate"})
    assert response.status_code == 302
    rows = {h.household_key: h for h in TransferHousehold.objects.filter(plan=plan)}
    assert all(h.practitioner_id in (gp1.pk, gp2.pk) for h in rows.values()), [
        (k, h.practitioner_id, h.month) for k, h in rows.items()
    ]
    first_month = min(h.month for h in rows.values())
    assert rows["F1"].month == first_month  # 70+, ALD, home visits
    assert rows["F1"].practitioner_id == gp1.pk  # two persons: the GP with two places a month
    assert sorted([rows["F2"].month, rows["F3"].month])[1] > first_month  # one place left
    page = client.get(_url("transfer_plan", cpts, pk=plan.pk)).content.decode()
    assert f'data-month="{first_month.isoformat()}"' in page

    # asking the first month's receivers through the ordinary solicitation flow
    client.post(
        _url("transfer_plan", cpts, pk=plan.pk),
        {"action": "send", "month": first_month.isoformat()},
    )
    asked = Solicitation.objects.filter(origin=Origin.TRANSFER)
    assert asked.exists()
    assert all(s.request.status == Status.PROPOSING for s in asked)

    # the consent letter
    letter = client.get(_url("transfer_letter", cpts, pk=plan.pk))
    assert letter["Content-Type"] == "application/pdf" and letter.content.startswith(b"%PDF")

    # at the departure date what remains goes into the queue with its seniority
    later = timezone.now() + datetime.timedelta(days=121)
    assert transfer_plans_release_due(now=later) == 3
    plan.refresh_from_db()
    assert plan.status == TransferPlanStatus.RELEASED
    assert not Request.objects.filter(held_for_transfer=True).exists()
    queue = client.get(reverse("intake_staff:queue", kwargs={"cpts_slug": cpts.slug}))
    waiting = requests.filter(status=Status.WAITING).first()
    assert waiting.reference in queue.content.decode()


def test_another_cpts_coordinator_gets_404(client, world, territory):  # noqa: F811
    cpts, departing, _gps, coordinator = world
    plan = TransferPlan.objects.create(
        cpts=cpts, practitioner=departing, departure_date=datetime.date(2030, 1, 1)
    )
    other = MembershipFactory(cpts=territory["lens"], role="coordinator").user
    client.force_login(other)
    response = client.get(
        reverse("orientation:transfer_plan", kwargs={"cpts_slug": cpts.slug, "pk": plan.pk})
    )
    assert response.status_code in (403, 404)
