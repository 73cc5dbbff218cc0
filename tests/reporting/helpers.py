"""Data builders and page readers shared by the reporting tests."""

import datetime

from django.urls import reverse
from django.utils import timezone

from accesmt.orientation.models import Placement, Solicitation
from tests.accounts.factories import MembershipFactory
from tests.directory.factories import PractitionerFactory
from tests.intake.factories import HouseholdMemberFactory, RequestFactory

ZONE = timezone.get_current_timezone()


def at(year, month, day, hour=10):
    return datetime.datetime(year, month, day, hour, tzinfo=ZONE)


def household(cpts, when, persons=1, **fields):
    request = RequestFactory(cpts=cpts, created_at=when, **fields)
    for _ in range(persons):
        HouseholdMemberFactory(request=request)
    return request


def closed(cpts, when, closed_at, reason="mt_found", persons=1, **fields):
    """A household registered `when`, closed `closed_at` for `reason`."""
    return household(
        cpts,
        when,
        persons,
        status="closed",
        closed_reason=reason,
        closed_at=closed_at,
        **fields,
    )


def asked(request, when, practitioner=None):
    """A GP asked about `request` at `when`."""
    return Solicitation.objects.create(
        cpts=request.cpts,
        request=request,
        practitioner=practitioner or PractitionerFactory(),
        origin="coordinator",
        asked_at=when,
        answer_due_at=when + datetime.timedelta(days=3),
    )


def placed(request, practitioner, when=None):
    return Placement.objects.create(
        cpts=request.cpts,
        request=request,
        practitioner=practitioner,
        members=request.members.count(),
        recorded_by="coordinator",
        at=when or request.closed_at,
    )


def page(client, cpts, role, section="demande", **query):
    membership = MembershipFactory(cpts=cpts, role=role)
    client.force_login(membership.user)
    return client.get(
        reverse(
            "reporting:indicators_section", kwargs={"cpts_slug": cpts.slug, "section_slug": section}
        ),
        query,
    )


def rows_of(response, code):
    for result in response.context["results"]:
        if result["indicator"].code == code:
            return result["rows"]
    raise AssertionError(code)


def table(response, code):
    return {row[0]: row[1:] for row in rows_of(response, code)}
