"""The coordinator's allocation pages: launch, review (no names, audited), discard, scoping."""

import re

import pytest
from django.urls import reverse

from accesmt.accounts.models import AuditLog
from accesmt.matching.models import AllocationRun, AllocationStatus
from accesmt.matching.services import allocation_run_create
from accesmt.notifications.models import Operation
from tests.accounts.factories import MembershipFactory, UserFactory
from tests.intake.factories import HouseholdMemberFactory
from tests.worlds import NOW, gp_at, two_cpts, waiting_request

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    w = two_cpts()
    gp = gp_at(w.cpts, w.here, north=1, capacity=3)  # the priority household of 2 and one more
    gp.practitioner.first_name, gp.practitioner.last_name = "Inès", "LAMBERT"
    gp.practitioner.save()
    gp_at(w.other, w.there, capacity=2)
    w.priority = waiting_request(w.cpts, w.here, days=3, priority=True)
    HouseholdMemberFactory(
        request=w.priority, first_name="Zoé", last_name="Secretnom", birth_date=NOW.date()
    )
    w.old = waiting_request(w.cpts, w.here, days=120)
    w.recent = waiting_request(w.cpts, w.here, days=1)
    w.coordinator = MembershipFactory(cpts=w.cpts, role="coordinator").user
    return w


def runs_url(cpts):
    return reverse("matching:runs", kwargs={"cpts_slug": cpts.slug})


def run_url(cpts, run, **query):
    url = reverse("matching:run", kwargs={"cpts_slug": cpts.slug, "pk": run.pk})
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def test_a_coordinator_launches_and_reviews_a_run(client, world):
    w = world
    client.force_login(w.coordinator)
    assert client.get(runs_url(w.cpts)).status_code == 200

    response = client.post(runs_url(w.cpts), {"method": "exact"})

    # the run is an operation (a background task, run at once by the test settings' backend):
    # the page follows it, then links to the run
    run = AllocationRun.objects.get()
    operation = Operation.objects.get()
    progress_url = reverse(
        "notifications:operation", kwargs={"cpts_slug": w.cpts.slug, "pk": operation.pk}
    )
    assert response.status_code == 302 and response["Location"] == progress_url
    progress = client.get(progress_url).content.decode()
    assert f'href="{run_url(w.cpts, run)}"' in progress and "Terminée" in progress
    assert "2 foyers sur 3 avec un médecin proposé" in progress
    assert 'http-equiv="refresh"' not in progress  # finished: no more refreshing
    assert run.cpts == w.cpts and run.created_by == w.coordinator and run.assigned == 2
    # places are persons: the priority household of two and the oldest person fill the 3 places
    assert (run.persons, run.assigned_persons, run.places) == (4, 3, 3)
    page = client.get(run_url(w.cpts, run)).content.decode()
    figures = " ".join(page.split())
    assert "2 sur 3 en attente (3 personnes sur 4)" in figures
    assert "1 (3 places ce mois-ci, une par personne)" in figures
    references = re.findall(r'data-line="\d+">.*?(MT-[0-9A-Z]{4}-[0-9A-Z]{4})', page, re.S)
    assert references == [w.priority.reference, w.old.reference]  # priority, then longest wait
    assert "Inès LAMBERT" in page and "prioritaire" in page
    assert "moins de 6 ans" in page and "18 à 59 ans" in page  # age bands, not birth dates
    assert "Secretnom" not in page and "Zoé" not in page  # no names of people
    assert "17 semaines" in page and "km" in page
    audit = AuditLog.objects.filter(object_type="matching.allocationrun", object_id=str(run.pk))
    assert audit.filter(actor=w.coordinator, action="read", cpts=w.cpts).count() == 1
    listed = AuditLog.objects.filter(object_type="intake.request", action="read")
    assert sorted(listed.values_list("object_id", flat=True)) == sorted(
        [str(w.priority.pk), str(w.old.pk)]
    )  # one read line per household shown

    unassigned = client.get(run_url(w.cpts, run, lignes="sans")).content.decode()
    assert w.recent.reference in unassigned and w.old.reference not in unassigned
    assert "ont plus de place" in unassigned


def test_a_run_of_another_cpts_is_not_found_under_this_one(client, world):
    w = world
    theirs = allocation_run_create(cpts=w.other, by=None, now=NOW)
    client.force_login(w.coordinator)
    assert client.get(run_url(w.cpts, theirs)).status_code == 404
    discard = reverse("matching:run_discard", kwargs={"cpts_slug": w.cpts.slug, "pk": theirs.pk})
    assert client.post(discard).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == AllocationStatus.DRAFT
    assert f"n° {theirs.pk}" not in client.get(runs_url(w.cpts)).content.decode()


@pytest.mark.parametrize("role", ["observer", "gp", "referrer", "cpam_mediator"])
def test_other_roles_cannot_reach_the_pages(client, world, role):
    w = world
    run = allocation_run_create(cpts=w.cpts, by=None, now=NOW)
    client.force_login(MembershipFactory(cpts=w.cpts, role=role).user)
    assert client.get(runs_url(w.cpts)).status_code == 404
    assert client.get(run_url(w.cpts, run)).status_code == 404
    assert client.post(runs_url(w.cpts), {"method": "exact"}).status_code == 404
    assert AllocationRun.objects.count() == 1


def test_a_platform_run_is_for_platform_admins_and_shows_one_cpts_at_a_time(client, world):
    w = world
    admin = UserFactory(platform_admin=True)
    client.force_login(admin)
    response = client.post(runs_url(w.cpts), {"method": "exact", "scope": "all"})
    run = AllocationRun.objects.get()
    assert response.status_code == 302 and run.cpts is None
    assert run.households == 3  # B's queue is empty; every active CPTS was read
    page = client.get(run_url(w.cpts, run)).content.decode()
    assert w.priority.reference in page and "toutes les CPTS" in page

    client.force_login(w.coordinator)
    assert client.get(run_url(w.cpts, run)).status_code == 404
    assert client.post(runs_url(w.cpts), {"method": "exact", "scope": "all"}).status_code == 302
    assert AllocationRun.objects.filter(cpts=w.cpts).count() == 1  # not a platform run


def test_a_draft_run_can_be_discarded_once(client, world):
    w = world
    run = allocation_run_create(cpts=w.cpts, by=None, now=NOW)
    client.force_login(w.coordinator)
    url = reverse("matching:run_discard", kwargs={"cpts_slug": w.cpts.slug, "pk": run.pk})
    assert client.post(url).status_code == 302
    run.refresh_from_db()
    assert run.status == AllocationStatus.DISCARDED
    response = client.post(url, follow=True)
    assert "Seule une répartition à relire peut être écartée." in response.content.decode()
