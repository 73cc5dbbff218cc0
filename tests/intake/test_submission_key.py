"""The submission key of the forms and the API's Idempotency-Key: a re-send of the same
household answers the stored request, another household is never merged into it."""

import html
import json
import threading
import uuid

import pytest
from django.db import IntegrityError, connection
from django.test import Client
from django.urls import reverse

from accesmt.api.services import api_key_create
from accesmt.intake.models import Channel, Request
from accesmt.intake.services import SubmissionKeyReused, request_create, request_replayed
from tests.accounts.factories import MembershipFactory

from .test_channels import pro_data
from .test_public import form_data, url

OTHER_HOUSEHOLD = {
    "phone": "07 98 76 54 32",
    "membres-0-first_name": "Karim",
    "membres-0-last_name": "Benali",
    "membres-0-birth_date": "1985-06-01",
}


def text(response) -> str:
    return html.unescape(response.content.decode())


@pytest.mark.django_db
def test_second_household_with_the_first_ones_key_gets_its_own_request(client, territory):
    first = form_data()
    assert client.post(url(territory["lievin"]), first).status_code == 302
    mine = Request.objects.get()
    # The same page re-sent on a shared tablet (Back button) by another household.
    tablet = Client()
    second = form_data(submission_key=first["submission_key"], **OTHER_HOUSEHOLD)
    response = tablet.post(url(territory["lievin"]), second, follow=True)
    theirs = Request.objects.exclude(pk=mine.pk).get()
    assert theirs.members.get().last_name == "Benali" and theirs.phone == "+33798765432"
    page = text(response)
    assert theirs.reference in page and mine.reference not in page
    # Their own double click keeps a single request, with their acknowledgment.
    again = tablet.post(url(territory["lievin"]), second, follow=True)
    assert Request.objects.count() == 2
    assert theirs.reference in text(again) and mine.reference not in text(again)
    # The first household's untouched.
    assert mine.members.get().last_name == "Lefebvre" and mine.phone == "+33612345678"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "role", "extra"),
    [
        ("intake:refer", "referrer", {"attestation": "on"}),
        ("intake:phone_entry", "coordinator", {"oral_consent": "on"}),
    ],
)
def test_staff_forms_never_merge_another_household(client, territory, name, role, extra):
    cpts = territory["lievin"]
    client.force_login(MembershipFactory(cpts=cpts, role=role).user)
    entry = reverse(name, kwargs={"cpts_slug": cpts.slug})
    first = pro_data(**extra)
    assert client.post(entry, first).status_code == 302
    assert client.post(entry, first).status_code == 302  # re-sent: still one request
    assert Request.objects.count() == 1
    second = pro_data(submission_key=first["submission_key"], **extra, **OTHER_HOUSEHOLD)
    assert client.post(entry, second).status_code == 302
    assert Request.objects.count() == 2
    names = sorted(Request.objects.values_list("members__last_name", flat=True))
    assert names == ["Benali", "Lefebvre"]


@pytest.mark.django_db
def test_request_create_compares_the_content_sent_with_a_key(territory):
    cpts = territory["lievin"]
    commune = territory["communes"]["Liévin"]
    household = {
        "address": "1 rue Basly",
        "postcode": "62800",
        "commune": commune,
        "phone": "+33612345678",
        "reason": "mt_retired",
    }
    members = [{"first_name": "Rémi", "last_name": "Caron", "birth_date": "1960-01-02"}]
    key = uuid.uuid4()

    def create(**changes):
        return request_create(
            cpts=cpts,
            channel=Channel.ONLINE,
            household={**household, **changes},
            members=members,
            submission_key=key,
        )

    first = create()
    assert first.created and first.request.submission_fingerprint
    again = create(comment="envoyé deux fois")
    assert not again.created and again.request == first.request
    with pytest.raises(SubmissionKeyReused) as reused:
        create(phone="+33798765432")
    assert reused.value.fresh_key not in (None, key)
    assert Request.objects.count() == 1
    # A request stored before the fingerprint existed is compared on its fields.
    Request.objects.update(submission_fingerprint="")
    fingerprint = first.request.submission_fingerprint
    assert request_replayed(cpts=cpts, submission_key=key, fingerprint=fingerprint) == first.request


@pytest.mark.django_db
def test_api_key_replayed_with_other_contacts_is_refused(client, territory):
    _, raw = api_key_create(cpts=territory["lievin"], name="Site")
    body = {
        "address": "3 rue Jean Jaurès",
        "postcode": "62800",
        "commune_name": "Liévin",
        "phone": "06 11 22 33 44",
        "reason": "mt_retired",
        "consent_processing": True,
        "consent_sharing": True,
        "members": [{"first_name": "Jeanne", "last_name": "Dubois", "birth_date": "1947-02-11"}],
    }
    headers = {"HTTP_AUTHORIZATION": f"Bearer {raw}", "HTTP_IDEMPOTENCY_KEY": "k-1"}

    def post(data):
        return client.post(
            "/api/v1/requests", json.dumps(data), content_type="application/json", **headers
        )

    assert post(body).status_code == 201
    assert post({**body, "phone": "07 98 76 54 32"}).status_code == 409
    assert Request.objects.get().phone == "+33611223344"


# --- the same submission at the same instant (PostgreSQL: SQLite serialises writers) ---------


def _at_the_same_instant(send, rounds: int) -> list[list[int]]:
    """`send(round, client)` fired by two threads at once, `rounds` times; their status codes."""
    codes = []
    for round_ in range(rounds):
        barrier = threading.Barrier(2)
        pair = []

        def fire(round_=round_, barrier=barrier, pair=pair):
            try:
                sender = Client(raise_request_exception=False)
                barrier.wait()
                pair.append(send(round_, sender).status_code)
            finally:
                connection.close()

        threads = [threading.Thread(target=fire) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        codes.append(sorted(pair))
    return codes


@pytest.mark.django_db(transaction=True)
def test_identical_submissions_at_the_same_instant_store_one_request(territory):
    if connection.vendor != "postgresql":
        pytest.skip("real concurrency needs PostgreSQL (SQLite serialises writers)")
    rounds = 12
    forms = [form_data(**{"membres-0-last_name": f"Form{i}"}) for i in range(rounds)]

    def send_form(round_, sender):
        address = f"198.51.100.{round_ + 1}"
        return sender.post(url(territory["lievin"]), forms[round_], REMOTE_ADDR=address)

    assert _at_the_same_instant(send_form, rounds) == [[302, 302]] * rounds
    assert Request.objects.filter(channel=Channel.ONLINE).count() == rounds

    _, raw = api_key_create(cpts=territory["lievin"], name="Site")

    def send_api(round_, sender):
        body = {
            "address": "3 rue Jean Jaurès",
            "postcode": "62800",
            "commune_name": "Liévin",
            "phone": "06 11 22 33 44",
            "reason": "mt_retired",
            "consent_processing": True,
            "consent_sharing": True,
            "members": [
                {"first_name": "Api", "last_name": f"N{round_}", "birth_date": "1950-01-01"}
            ],
        }
        return sender.post(
            "/api/v1/requests",
            json.dumps(body),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {raw}",
            HTTP_IDEMPOTENCY_KEY=f"commande-{round_}",
        )

    assert _at_the_same_instant(send_api, rounds) == [[200, 201]] * rounds
    assert Request.objects.filter(channel=Channel.API).count() == rounds


@pytest.mark.django_db(transaction=True)
def test_an_invariant_broken_by_the_caller_is_refused_by_the_database(territory):
    """request_create leaves Meta.constraints to the database (no query per constraint): a
    referral without its attesting referrer is still refused, and nothing is stored."""
    household = {
        "address": "1 rue Basly",
        "postcode": "62800",
        "commune": territory["communes"]["Liévin"],
        "phone": "+33612345678",
        "reason": "mt_retired",
    }
    members = [{"first_name": "Rémi", "last_name": "Caron", "birth_date": "1960-01-02"}]
    with pytest.raises(IntegrityError, match="intake_request_referral_has_attesting_referrer"):
        request_create(
            cpts=territory["lievin"],
            channel=Channel.REFERRAL,
            household=household,
            members=members,
            submission_key=uuid.uuid4(),
        )
    assert not Request.objects.exists()
