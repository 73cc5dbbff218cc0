"""The queue's search (name, reference, phone, NIR), kept out of every URL, and its sortable
columns."""

import datetime

import pytest
from django.db.models import F
from django.urls import reverse

from accesmt.intake.models import Status
from accesmt.intake.queue import QueueSearch
from tests.intake.factories import HouseholdMemberFactory

from .conftest import make_request
from .test_queue import QUEUE_QUERIES, _fill, queue_url, references_in

pytestmark = pytest.mark.django_db

NIR_BODY = "1800562498123"
NIR = NIR_BODY + f"{97 - int(NIR_BODY) % 97:02d}"


def _search(client, cpts, text, **query):
    """Post the search box; return the page the redirect leads to, and every URL involved."""
    response = client.post(queue_url(cpts), {"q": text, **query})
    assert response.status_code == 302, response.content.decode()[:500]
    page = client.get(response.url)
    assert page.status_code == 200
    return page, [response.url]


def _assert_nowhere_in_urls(text, urls, page):
    """`text` is in no URL: neither the redirect nor any link or form action of the page."""
    body = page.content.decode()
    hrefs = [part.split('"')[0] for part in body.split('href="')[1:]]
    actions = [part.split('"')[0] for part in body.split('action="')[1:]]
    for url in [*urls, *hrefs, *actions]:
        assert text not in url, url


@pytest.fixture
def household(cpts):
    request = make_request(cpts, last_name="Lefèvre-Dubœuf", phone="+33698765432")
    member = request.members.get()
    member.first_name, member.nir = "Élodie", NIR
    member.save()
    return request


@pytest.fixture
def others(cpts):
    return [make_request(cpts, days_waiting=3 + index) for index in range(3)]


def test_search_by_name_without_accent_nor_case(coordinator_client, cpts, household, others):
    page, urls = _search(coordinator_client, cpts, "lefevre")
    assert references_in(page) == [household.reference]
    assert "1 demande trouvée" in page.content.decode()
    _assert_nowhere_in_urls("lefevre", urls, page)
    # "nom prénom" narrows on the same key, a prefix of the last name is enough
    assert references_in(_search(coordinator_client, cpts, "LEFEVRE dubŒuf élo")[0]) == [
        household.reference
    ]
    assert references_in(_search(coordinator_client, cpts, "Lef")[0]) == [household.reference]
    assert references_in(_search(coordinator_client, cpts, "Dubœuf")[0]) == []


def test_search_by_reference_case_insensitive(coordinator_client, cpts, household, others):
    page, _urls = _search(coordinator_client, cpts, f"  {others[1].reference.lower()} ")
    assert references_in(page) == [others[1].reference]


def test_search_by_phone_in_any_french_form(coordinator_client, cpts, household, others):
    for typed in ("06 98 76 54 32", "0698765432", "+33 6 98 76 54 32", "06.98.76.54.32"):
        page, urls = _search(coordinator_client, cpts, typed)
        assert references_in(page) == [household.reference], typed
        for text in (typed, "0698765432", "698765432", "+33698765432"):
            _assert_nowhere_in_urls(text, urls, page)


def test_search_by_nir_with_spaces_or_without_its_key(coordinator_client, cpts, household, others):
    spaced = f"{NIR[0]} {NIR[1:3]} {NIR[3:5]} {NIR[5:7]} {NIR[7:10]} {NIR[10:13]} {NIR[13:]}"
    for typed in (spaced, NIR, NIR_BODY):
        page, urls = _search(coordinator_client, cpts, typed)
        assert references_in(page) == [household.reference], typed
        _assert_nowhere_in_urls(NIR_BODY, urls, page)
        _assert_nowhere_in_urls(NIR[:5], urls, page)


def test_the_search_stays_in_the_session_not_the_url(coordinator_client, cpts, household, others):
    page, urls = _search(coordinator_client, cpts, "lefevre", commune="", tri="commune")
    assert urls[0].endswith("recherche=1") and "tri=commune" in urls[0]
    # the pagination and sort links keep the search by its marker only
    assert 'href="?status=open&amp;recherche=1&amp;tri=reference"' in page.content.decode()
    # without the marker, the whole queue
    assert len(references_in(coordinator_client.get(queue_url(cpts)))) == 4
    # « Effacer la recherche » forgets it
    cleared = coordinator_client.post(queue_url(cpts), {"q": "lefevre", "effacer": "1"})
    assert cleared.status_code == 302 and "recherche" not in cleared.url
    assert len(references_in(coordinator_client.get(queue_url(cpts, recherche=1)))) == 4


def test_search_combines_with_filters(coordinator_client, cpts, household):
    make_request(cpts, last_name="Lefebvre", status=Status.WAITING)
    page, _urls = _search(coordinator_client, cpts, "lef")
    assert len(references_in(page)) == 2
    assert "2 demandes trouvées" in page.content.decode()
    waiting = coordinator_client.get(queue_url(cpts, status=Status.WAITING, recherche=1))
    assert len(references_in(waiting)) == 1
    # the facet counts follow the search too
    assert "en attente d&#x27;un médecin (1)" in waiting.content.decode()


def test_search_of_another_cpts_person_finds_nothing(coordinator_client, cpts, territory):
    elsewhere = make_request(territory["lens"], last_name="Ailleurs", phone="+33611111111")
    for typed in ("ailleurs", "06 11 11 11 11", elsewhere.reference):
        assert references_in(_search(coordinator_client, cpts, typed)[0]) == []


@pytest.mark.parametrize("typed", ["", "a", "12", "06 12", "@@@"])
def test_an_unreadable_search_is_said_next_to_the_field(coordinator_client, cpts, household, typed):
    response = coordinator_client.post(queue_url(cpts), {"q": typed})
    assert response.status_code == 400
    body = response.content.decode()
    assert 'id="queue-q-error"' in body and "au moins 2 lettres du nom" in body
    assert 'aria-invalid="true"' in body


def test_parse_tells_the_kinds_apart():
    assert QueueSearch.parse("mt-7k4p-q2xz") == QueueSearch("reference", "MT-7K4P-Q2XZ")
    assert QueueSearch.parse("06 12 34 56 78") == QueueSearch("phone", "+33612345678")
    assert QueueSearch.parse(NIR_BODY) == QueueSearch("nir", NIR_BODY)
    assert QueueSearch.parse("1 80 05 2A 498 123 45").kind == "nir"
    assert QueueSearch.parse("Le Gall") == QueueSearch("name", "legall")


def _waiting_days(page, requests):
    by_reference = {r.reference: r for r in requests}
    return [by_reference[ref] for ref in references_in(page)]


def test_sortable_columns_with_aria_sort(coordinator_client, cpts, territory):
    angres, lievin = territory["communes"]["Angres"], territory["communes"]["Liévin"]
    old = make_request(cpts, days_waiting=30, status=Status.WAITING, commune=lievin)
    recent = make_request(cpts, days_waiting=2, commune=angres)
    senior = make_request(
        cpts, days_waiting=5, birth_date=datetime.date(1940, 1, 1), commune=lievin
    )
    everyone = [old, recent, senior]

    default = coordinator_client.get(queue_url(cpts))
    assert references_in(default) == [senior.reference, old.reference, recent.reference]
    assert 'aria-sort="ascending"' in default.content.decode()

    waiting = coordinator_client.get(queue_url(cpts, tri="waiting"))
    assert _waiting_days(waiting, everyone) == [old, senior, recent]
    assert _waiting_days(coordinator_client.get(queue_url(cpts, tri="-waiting")), everyone) == [
        recent,
        senior,
        old,
    ]
    refs = sorted(r.reference for r in everyone)
    assert references_in(coordinator_client.get(queue_url(cpts, tri="reference"))) == refs
    assert references_in(coordinator_client.get(queue_url(cpts, tri="-reference"))) == refs[::-1]
    assert references_in(coordinator_client.get(queue_url(cpts, tri="commune")))[0] == (
        recent.reference
    )
    # the life-cycle order: new before waiting
    by_status = references_in(coordinator_client.get(queue_url(cpts, tri="-status")))
    assert by_status[0] == old.reference
    body = coordinator_client.get(queue_url(cpts, tri="-waiting")).content.decode()
    assert body.count("aria-sort=") == 1 and 'aria-sort="descending"' in body
    assert 'href="?status=open&amp;tri=waiting"' in body  # clicking again reverses


@pytest.mark.parametrize("bad", ["password", "-", "--waiting", "commune__name", "waiting;drop"])
def test_an_unknown_sort_gives_the_default_order(coordinator_client, cpts, bad):
    plain = make_request(cpts, days_waiting=40)
    senior = make_request(cpts, days_waiting=1, birth_date=datetime.date(1940, 1, 1))
    response = coordinator_client.get(queue_url(cpts, tri=bad))
    assert response.status_code == 200
    assert references_in(response) == [senior.reference, plain.reference]


@pytest.mark.parametrize("rows", [5, 50])
@pytest.mark.parametrize("sort", ["commune", "-status"])
def test_search_and_sort_keep_the_number_of_queries(
    coordinator_client, cpts, rows, sort, django_assert_num_queries
):
    from tests.accounts.factories import MembershipFactory

    _fill(cpts, rows, MembershipFactory(cpts=cpts, role="referrer").user)
    for request in cpts.requests.all():
        HouseholdMemberFactory(request=request, last_name="Martin", position=9)
    coordinator_client.post(queue_url(cpts), {"q": "martin"})
    with django_assert_num_queries(QUEUE_QUERIES):
        response = coordinator_client.get(queue_url(cpts, recherche=1, tri=sort))
    assert len(references_in(response)) == rows


def test_queue_links_carry_no_personal_data(coordinator_client, cpts, household):
    body = coordinator_client.get(queue_url(cpts)).content.decode()
    assert reverse("intake_staff:queue_verify", kwargs={"cpts_slug": cpts.slug}) in body
    assert 'tabindex="0"' in body and 'role="region"' in body


def test_the_migration_files_every_member_under_its_request_s_cpts(cpts, territory, household):
    """Migration 0020 copies each request's CPTS onto its members (a single UPDATE … FROM on
    PostgreSQL, a subquery elsewhere): a member left under the wrong CPTS is not found by a
    search by name in its own CPTS; after the fill-in it is, and not from the other CPTS."""
    import importlib
    from types import SimpleNamespace

    from django.apps import apps
    from django.db import connection

    from accesmt.intake.models import HouseholdMember

    migration = importlib.import_module("accesmt.intake.migrations.0020_member_cpts")
    elsewhere = make_request(territory["lens"], last_name="Lefèvre-Ailleurs")
    HouseholdMember.objects.update(cpts=territory["lens"])  # every member misfiled
    search = QueueSearch.parse("lefevre")
    assert not _found(cpts, search)
    editor = SimpleNamespace(connection=connection, execute=connection.cursor().execute)
    migration.fill_in(apps, editor)  # what RunPython calls (a schema editor's two attributes)
    assert _found(cpts, search) == [household.pk]
    assert _found(territory["lens"], search) == [elsewhere.pk]
    assert not HouseholdMember.objects.exclude(cpts_id=F("request__cpts_id")).exists()


def _found(cpts, search):
    from accesmt.intake.models import Request

    requests = Request.objects.filter(cpts=cpts).filter(search.q(cpts))
    return list(requests.values_list("pk", flat=True))
