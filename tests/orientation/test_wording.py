"""Wording (issue #8, 7): feminine status labels, one set of age bands, one way to write dates,
no space before a comma."""

import datetime
import html
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from accesmt.common.formats import long_date
from accesmt.directory.models import AvailabilityDeclaration
from accesmt.matching.services import allocation_run_create
from accesmt.notifications.models import OutboxMessage
from accesmt.orientation.services import solicitation_token
from accesmt.orientation.still_needed import still_needed_run
from tests.intake.factories import HouseholdMemberFactory

pytestmark = pytest.mark.django_db


def text(response) -> str:
    return html.unescape(response.content.decode())


def _household_line(page: str) -> str:
    found = re.search(r"<dt>Foyer</dt>\s*<dd>(.*?)</dd>", page, re.S)
    return " ".join(found[1].split())


def test_gp_page_and_allocation_review_describe_the_same_household_alike(client, o):
    today = timezone.localdate()
    HouseholdMemberFactory(
        request=o.request, birth_date=today.replace(year=today.year - 65), is_contact_person=False
    )
    expected = "moins de 6 ans, 18 à 59 ans, 60 à 69 ans"
    # A household of 3 takes 3 places: give the nearest GP room for all of it.
    AvailabilityDeclaration.objects.filter(practitioner=o.gps[0]).update(monthly_capacity=3)
    run = allocation_run_create(cpts=o.cpts, by=o.coordinator)
    [s] = o.ask(o.gps[0])
    gp_page = text(
        client.get(reverse("orientation:answer", kwargs={"token": solicitation_token(s)}))
    )
    assert _household_line(gp_page) == f"3 personnes : {expected}"  # no " ," either

    client.force_login(o.coordinator)
    run_url = reverse("matching:run", kwargs={"cpts_slug": o.cpts.slug, "pk": run.pk})
    review = text(client.get(run_url))
    assert o.request.reference in review and expected in review
    assert "18 à 69 ans" not in review


def test_gp_answer_reads_acceptee_with_the_long_date_and_no_space_before_the_comma(client, o):
    [s] = o.ask(o.gps[0])
    url = reverse("orientation:answer", kwargs={"token": solicitation_token(s)})
    client.post(url, {"choice": "accept"})
    page = text(client.get(url))
    assert (
        f"Votre réponse : <strong>acceptée</strong>, le {long_date(timezone.localdate())}." in page
    )


def test_gp_answer_reads_refusee_with_its_reason(client, o):
    [s] = o.ask(o.gps[0])
    url = reverse("orientation:answer", kwargs={"token": solicitation_token(s)})
    client.post(url, {"choice": "decline", "decline_reason": "too_far"})
    page = " ".join(text(client.get(url)).split())
    assert re.search(r"<strong>refusée</strong> \([^)]+\), le \d", page)


def test_dates_read_the_same_on_the_coordinator_page_and_in_the_gp_email(client, o):
    [s] = o.ask(o.gps[0])
    client.force_login(o.coordinator)
    page = text(
        client.get(
            reverse(
                "orientation:request",
                kwargs={"cpts_slug": o.cpts.slug, "reference": o.request.reference},
            )
        )
    )
    asked = long_date(s.asked_at)
    due = long_date(s.answer_due_at, with_time=True)
    assert f"le {asked}" in page and f"avant le {due}" in page
    body = OutboxMessage.objects.get(channel="email", recipient=o.gps[0].email).body
    assert f"avant le {due}," in body
    assert re.search(r"\d{1,2}(er)? [a-zéû]+ \d{4} à \d{1,2} h \d{2}", due)


def test_still_needed_list_writes_short_dates_with_two_digit_days(client, o):
    o.request.waiting_since = datetime.datetime(2026, 3, 6, 10, 0, tzinfo=datetime.UTC)
    o.request.save(update_fields=["waiting_since"])
    still_needed_run(now=timezone.now())
    client.force_login(o.coordinator)
    page = text(client.get(reverse("orientation:still_needed", kwargs={"cpts_slug": o.cpts.slug})))
    assert "06/03/2026" in page and " 6/03/2026" not in page
