"""hypothesis over the public registration form (/<cpts>/inscription/), through HTTP with CSRF
checks on: whatever is posted, the answer is never a 5xx, and either the acknowledgment with
exactly one whole request stored (request, every member, its transition, its message in the
outbox), or the page again with French errors and nothing written anywhere."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from hypothesis import given

from accesmt.intake.models import IntakeSettings, Request
from accesmt.notifications.models import OutboxMessage

from .conftest import CASES, FUZZ_SETTINGS, table_counts, written
from .forms_strategies import post_data, submissions

pytestmark = pytest.mark.django_db

ENGLISH = ("This field", "Enter a", "Ensure this", "Null characters", "ManagementForm", "Select a")


@pytest.fixture
def public_client(territory):
    # A shared connection (a help desk) may store many households: the limit is not tested here.
    IntakeSettings.objects.create(cpts=territory["lievin"], submissions_per_hour=32_000)
    client = Client(enforce_csrf_checks=True)
    page = client.get(reverse("intake:register", kwargs={"cpts_slug": "lievin"}))
    assert page.status_code == 200
    return client, client.cookies["csrftoken"].value


def check_answer(response, before: dict, data: dict, ack_url: str) -> str:
    """The property of one submission; returns "stored", "replayed" or "refused"."""
    delta = written(before)
    if response.status_code >= 500:
        CASES["server_errors"] += 1
    assert response.status_code in (200, 302, 429), response.status_code
    if response.status_code == 302:
        assert response["Location"] == ack_url
        if not delta:
            return "replayed"  # a double submit: the request already stored
        request = Request.objects.order_by("-pk").first()
        members = request.members.count()
        expected = {
            "intake.Request": 1,
            "intake.HouseholdMember": members,
            "intake.RequestTransition": 1,
            "intake.IntakeAttempt": 1,
        }
        whole = members >= 1 and {k: delta.get(k) for k in expected} == expected
        whole = whole and OutboxMessage.objects.filter(related_id=str(request.pk)).exists()
        if not whole:
            CASES["partial_writes"] += 1
        assert whole, delta
        return "stored"
    if delta:
        CASES["partial_writes"] += 1
    assert not delta, f"{response.status_code} but wrote {delta}"
    page = response.content.decode()
    assert not any(english in page for english in ENGLISH), page
    retyped = "add_member" in data or "remove_member" in data
    honeypot = (
        str(data.get("website", "")).strip() if not isinstance(data.get("website"), list) else True
    )
    if not (retyped or honeypot):
        assert 'class="error-summary"' in page
    return "refused"


def test_public_form(public_client, territory):
    client, token = public_client
    url = reverse("intake:register", kwargs={"cpts_slug": "lievin"})
    ack_url = reverse("intake:acknowledgment", kwargs={"cpts_slug": "lievin"})
    outcomes = []

    @FUZZ_SETTINGS
    @given(submission=submissions())
    def run(submission):
        data, twice = submission
        data = {**post_data(data), "csrfmiddlewaretoken": token}
        for _ in range(2 if twice else 1):
            CASES["cases"] += 1
            CASES["target:public form"] += 1
            before = table_counts()
            response = client.post(url, data)
            outcomes.append(check_answer(response, before, data, ack_url))
        if twice:  # the second send never stores a second request
            assert outcomes[-1] != "stored"

    run()
    if len(outcomes) >= 20:  # the generator is not degenerate: some households get stored
        assert "stored" in outcomes and "refused" in outcomes, outcomes
