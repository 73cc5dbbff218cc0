"""Closed requests are anonymised after the retention period the privacy notice announces."""

import datetime

import pytest
from django.utils import timezone

from accesmt.intake.models import Request, Status
from accesmt.intake.retention import requests_anonymise_closed

from .factories import HouseholdMemberFactory, RequestFactory

pytestmark = pytest.mark.django_db
NOW = timezone.now()


def _request(*, closed_days_ago=None, **fields):
    if closed_days_ago is not None:
        fields |= {
            "status": Status.CLOSED,
            "closed_reason": "mt_found",
            "closed_at": NOW - datetime.timedelta(days=closed_days_ago),
        }
    request = RequestFactory(
        comment="Préfère le matin",
        former_gp_name="Dr Ancien",
        latitude=50.42,
        longitude=2.77,
        geocode_source="address",
        **fields,
    )
    HouseholdMemberFactory(
        request=request,
        first_name="Jeanne",
        last_name="Lefebvre",
        birth_date=datetime.date(1948, 6, 15),
        nir="248067511300144",
        conditions="diabète",
        has_ald=True,
    )
    return request


def test_closed_more_than_a_year_ago_is_anonymised(settings):
    settings.CLOSED_REQUEST_RETENTION_DAYS = 365
    old = _request(closed_days_ago=400)
    recent = _request(closed_days_ago=300)
    waiting = _request(status=Status.WAITING)
    assert requests_anonymise_closed(now=NOW) == 1
    old.refresh_from_db()
    assert (old.address, old.phone, old.email, old.comment, old.former_gp_name) == ("",) * 5
    assert (old.latitude, old.longitude, old.geocode_source) == (None, None, "none")
    assert old.anonymised_at == NOW
    member = old.members.get()
    assert (member.first_name, member.last_name, member.nir, member.conditions) == ("",) * 4
    assert member.birth_date is None
    # Alone among the anonymised people of the CPTS, she would be singled out by anything kept
    # for statistics (k-anonymity, coarsening.py): all of it is withheld.
    assert (member.birth_year, member.has_ald, member.has_disability) == (None, None, None)
    assert (old.commune_id, old.postcode, old.coverage) == (None, "", "")
    # What stays: CPTS, status, reason, history.
    assert (old.status, old.closed_reason) == (Status.CLOSED, "mt_found")
    for untouched in (recent, waiting):
        assert untouched.members.get().last_name == "Lefebvre"
        assert Request.objects.get(pk=untouched.pk).email
    assert requests_anonymise_closed(now=NOW) == 0  # idempotent


def test_transition_notes_of_anonymised_requests_are_blanked(settings):
    from accesmt.intake.models import RequestTransition

    settings.CLOSED_REQUEST_RETENTION_DAYS = 365
    old = _request(closed_days_ago=400)
    recent = _request(closed_days_ago=300)
    for request in (old, recent):
        RequestTransition.objects.create(
            request=request,
            from_status=Status.WAITING,
            to_status=Status.CLOSED,
            reason="mt_found",
            note="Mme Lefebvre a appelé, vu Dr Martin",
        )
    requests_anonymise_closed(now=NOW)
    old_line = RequestTransition.objects.get(request=old, to_status=Status.CLOSED)
    assert old_line.note == ""
    assert (old_line.from_status, old_line.reason) == (Status.WAITING, "mt_found")  # history stays
    recent_line = RequestTransition.objects.get(request=recent, to_status=Status.CLOSED)
    assert recent_line.note == "Mme Lefebvre a appelé, vu Dr Martin"


def test_call_and_note_texts_of_anonymised_requests_are_blanked(settings):
    from accesmt.intake.calls import contact_note_record
    from accesmt.intake.models import ContactNote

    settings.CLOSED_REQUEST_RETENTION_DAYS = 365
    old = _request(status=Status.WAITING)
    recent = _request(status=Status.WAITING)
    for request in (old, recent):
        contact_note_record(
            request=request, kind="call", outcome="reached", text="Mme Lefebvre, diabétique"
        )
        contact_note_record(request=request, kind="note", text="Sa fille : 06 11 22 33 44")
    Request.objects.filter(pk=old.pk).update(
        status=Status.CLOSED, closed_reason="mt_found", closed_at=NOW - datetime.timedelta(400)
    )
    Request.objects.filter(pk=recent.pk).update(
        status=Status.CLOSED, closed_reason="mt_found", closed_at=NOW - datetime.timedelta(300)
    )
    assert requests_anonymise_closed(now=NOW) == 1
    old_lines = ContactNote.objects.filter(request=old).order_by("pk")
    assert [(n.kind, n.outcome, n.text) for n in old_lines] == [
        ("call", "reached", ""),  # who, when and the outcome stay; the text goes
        ("note", "", ""),
    ]
    assert set(ContactNote.objects.filter(request=recent).values_list("text", flat=True)) == {
        "Mme Lefebvre, diabétique",
        "Sa fille : 06 11 22 33 44",
    }


def test_the_job_also_blanks_solicitation_notes_and_the_usual_gp_typed(settings):
    """Issue 14: orientation's notes go with the rest, through the hook it registers."""
    from accesmt.orientation.models import Solicitation
    from tests.reporting.helpers import asked

    settings.CLOSED_REQUEST_RETENTION_DAYS = 365
    old = _request(closed_days_ago=400, usual_gp_name="Dr Habituel, Liévin")
    kept = _request(closed_days_ago=10)
    for request in (old, kept):
        solicitation = asked(request, request.created_at)
        Solicitation.objects.filter(pk=solicitation.pk).update(note="Pour Jeanne Lefebvre")
    requests_anonymise_closed(now=NOW)
    assert old.solicitations.get().note == ""
    assert Request.objects.get(pk=old.pk).usual_gp_name == ""
    assert kept.solicitations.get().note == "Pour Jeanne Lefebvre"


def test_each_cpts_keeps_closed_requests_for_its_own_number_of_months(settings):
    from accesmt.intake.models import IntakeSettings
    from accesmt.intake.retention import months_before

    settings.CLOSED_REQUEST_RETENTION_DAYS = 365  # 12 months for a CPTS that has not chosen
    short = _request(closed_days_ago=100)  # its CPTS keeps 3 months: anonymised
    IntakeSettings.objects.create(cpts=short.cpts, closed_retention_months=3)
    long_kept = _request(closed_days_ago=500)  # its CPTS keeps 24 months: kept
    IntakeSettings.objects.create(cpts=long_kept.cpts, closed_retention_months=24)
    default_cpts = _request(closed_days_ago=380)  # default 12 months: anonymised
    assert requests_anonymise_closed(now=NOW) == 2
    assert Request.objects.get(pk=short.pk).anonymised_at == NOW
    assert Request.objects.get(pk=default_cpts.pk).anonymised_at == NOW
    assert Request.objects.get(pk=long_kept.pk).anonymised_at is None
    march_31 = datetime.datetime(2026, 3, 31, 12, tzinfo=datetime.UTC)
    assert months_before(march_31, 1) == datetime.datetime(2026, 2, 28, 12, tzinfo=datetime.UTC)
    assert months_before(march_31, 15).date() == datetime.date(2024, 12, 31)
