"""Calls, notes and call-backs on the request page, the call-back list, and the confirmation
of destructive actions (issue 13, point 4)."""

import datetime
import html
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import get_resolver, reverse
from django.utils import timezone
from freezegun import freeze_time

from accesmt.accounts.models import AuditLog
from accesmt.common.formats import long_date
from accesmt.intake.calls import contact_note_record
from accesmt.intake.models import ContactNote, Request, Status
from tests.accounts.factories import MembershipFactory

from .conftest import make_request

pytestmark = pytest.mark.django_db
# The dates below are read when the module is collected; a suite running across midnight
# (Paris) would then test with yesterday's date. Each test runs at noon of that day, the clock
# ticking (`_noon_of_today`).
TODAY = timezone.localdate()
DAY = datetime.timedelta(days=1)


@pytest.fixture(autouse=True)
def _noon_of_today():
    noon = datetime.datetime.combine(
        TODAY, datetime.time(12), tzinfo=timezone.get_current_timezone()
    )
    assert get_resolver().url_patterns  # the API schemas built first, with the real date class
    with freeze_time(noon, tick=True):
        yield


def url(name, request, **kwargs):
    return reverse(
        f"intake_staff:{name}",
        kwargs={"cpts_slug": request.cpts.slug, "reference": request.reference, **kwargs},
    )


def list_url(cpts):
    return reverse("intake_staff:call_backs", kwargs={"cpts_slug": cpts.slug})


def text(response) -> str:
    return html.unescape(response.content.decode())


def call(client, request, outcome="no_answer", text="", call_back_on=None, **kwargs):
    data = {"appel-outcome": outcome, "appel-text": text}
    if call_back_on is not None:
        data["appel-call_back_on"] = str(call_back_on)
    return client.post(url("call_add", request), data, **kwargs)


@pytest.mark.parametrize(
    "outcome,label",
    [
        ("reached", "joint·e"),
        ("no_answer", "pas de réponse"),
        ("message_left", "message laissé"),
        ("wrong_number", "mauvais numéro"),
    ],
)
def test_a_call_is_logged_with_its_outcome_and_shown_in_the_timeline(
    coordinator_client, cpts, coordinator, outcome, label
):
    coordinator.first_name, coordinator.last_name = "Camille", "Durand"
    coordinator.save()
    request = make_request(cpts)
    response = call(coordinator_client, request, outcome, "Rappeler après 17 h", TODAY + 3 * DAY)
    assert response.status_code == 302
    assert response["Location"] == url("request_detail", request) + "#historique"
    note = ContactNote.objects.get()
    assert (note.request, note.cpts, note.by, note.kind, note.outcome) == (
        request,
        cpts,
        coordinator,
        "call",
        outcome,
    )
    assert (note.text, note.call_back_on, note.call_back_done) == (
        "Rappeler après 17 h",
        TODAY + 3 * DAY,
        False,
    )
    # Writing a note is a write on the patient file.
    assert AuditLog.objects.filter(
        actor=coordinator, action="update", object_type="intake.request", object_id=str(request.pk)
    ).exists()
    page = text(coordinator_client.get(response["Location"]))
    assert f"Appel noté pour {request.reference}." in page
    timeline = page[page.index("data-timeline") :]
    assert f"Appel : {label}" in timeline and "Rappeler après 17 h" in timeline
    assert "Camille Durand" in timeline
    assert long_date(note.at, with_time=True) in timeline  # « 3 décembre 2026 à 14 h 05 »
    assert f"Rappeler le {long_date(TODAY + 3 * DAY)}" in timeline
    warning = "Le dernier appel indique un mauvais numéro : vérifiez le téléphone."
    assert (warning in page) == (outcome == "wrong_number")


def test_the_wrong_number_warning_follows_the_last_call(coordinator_client, cpts):
    request = make_request(cpts)
    call(coordinator_client, request, "wrong_number")
    page = text(coordinator_client.get(url("request_detail", request)))
    contact = page[page.index("Contact et adresse") : page.index("E-mail")]
    assert "mauvais numéro : vérifiez le téléphone" in contact  # next to the phone
    call(coordinator_client, request, "reached")
    page = text(coordinator_client.get(url("request_detail", request)))
    assert "vérifiez le téléphone" not in page


def test_the_timeline_merges_calls_notes_and_changes_newest_first(coordinator_client, cpts):
    request = make_request(cpts)
    coordinator_client.post(url("request_status", request), {"action": "verify"})
    call(coordinator_client, request, "message_left")
    response = coordinator_client.post(url("note_add", request), {"note-text": "Fille aidante"})
    assert response.status_code == 302
    page = text(coordinator_client.get(url("request_detail", request)))
    timeline = page[page.index("data-timeline") :]
    positions = [
        timeline.index(marker)
        for marker in ("Fille aidante", "Appel : message laissé", "nouvelle → en attente")
    ]
    assert positions == sorted(positions)
    assert ContactNote.objects.get(kind="note").outcome == ""


@pytest.mark.parametrize(
    "call_back_on,message",
    [
        (TODAY - DAY, "La date de rappel est passée"),
        (TODAY + 366 * DAY, "La date de rappel doit être dans l'année qui vient."),
        ("31/02/2027", "Indiquez une date valide"),
    ],
)
def test_a_bad_call_back_date_is_refused_next_to_the_field(
    coordinator_client, cpts, call_back_on, message
):
    request = make_request(cpts)
    response = call(coordinator_client, request, "reached", "Note", call_back_on)
    assert response.status_code == 400
    page = text(response)
    error = page[page.index('id="id_appel-call_back_on-error"') :]
    assert message in error[: error.index("</div>")]
    assert 'aria-invalid="true"' in page
    assert '<details class="card contact-form" open>' in page  # the form stays open
    assert not ContactNote.objects.exists()


def test_a_call_needs_an_outcome_and_a_note_needs_a_text(coordinator_client, cpts):
    request = make_request(cpts)
    response = call(coordinator_client, request, outcome="")
    assert response.status_code == 400
    assert "Choisissez le résultat de l'appel." in text(response)
    response = coordinator_client.post(url("note_add", request), {"note-text": "   "})
    assert response.status_code == 400
    assert "Écrivez la note." in text(response)
    response = coordinator_client.post(url("note_add", request), {"note-text": "x" * 1001})
    assert "1000 caractères au plus." in text(response)
    assert not ContactNote.objects.exists()


def test_today_and_one_year_ahead_are_accepted(coordinator_client, cpts):
    request = make_request(cpts)
    assert call(coordinator_client, request, call_back_on=TODAY).status_code == 302
    assert call(coordinator_client, request, call_back_on=TODAY + 365 * DAY).status_code == 302


def test_a_later_call_or_rappel_fait_settles_the_call_back(coordinator_client, cpts):
    request = make_request(cpts)
    call(coordinator_client, request, "no_answer", call_back_on=TODAY + DAY)
    first = ContactNote.objects.get()
    coordinator_client.post(url("note_add", request), {"note-text": "Une note ne rappelle pas"})
    first.refresh_from_db()
    assert not first.call_back_done
    call(coordinator_client, request, "no_answer", call_back_on=TODAY + 2 * DAY)
    first.refresh_from_db()
    assert first.call_back_done
    second = ContactNote.objects.filter(kind="call").latest("pk")
    assert not second.call_back_done
    response = coordinator_client.post(url("call_back_done", request, pk=second.pk))
    assert response["Location"].endswith("#historique")
    second.refresh_from_db()
    assert second.call_back_done
    page = text(coordinator_client.get(url("request_detail", request)))
    assert f"rappel du {long_date(TODAY + 2 * DAY)} fait" in page


def test_a_closed_request_takes_no_call(coordinator_client, cpts):
    request = make_request(cpts)
    Request.objects.filter(pk=request.pk).update(
        status=Status.CLOSED, closed_reason="mt_found", closed_at=timezone.now()
    )
    assert "Noter un appel" not in text(coordinator_client.get(url("request_detail", request)))
    response = call(coordinator_client, request, follow=True)
    assert "Cette demande est clôturée : aucun appel ni note" in text(response)
    assert not ContactNote.objects.exists()


@pytest.mark.parametrize("role", ["gp", "referrer", "cpam_mediator"])
def test_other_roles_cannot_post_notes(client, cpts, role):
    request = make_request(cpts)
    client.force_login(MembershipFactory(cpts=cpts, role=role).user)
    assert call(client, request).status_code == 404
    assert client.post(url("note_add", request), {"note-text": "x"}).status_code == 404
    assert client.get(list_url(cpts)).status_code == 404
    assert not ContactNote.objects.exists()


def test_a_coordinator_of_another_cpts_cannot_post_notes(client, territory, cpts):
    request = make_request(cpts)
    other = territory["lens"]
    client.force_login(MembershipFactory(cpts=other, role="coordinator").user)
    foreign = reverse(
        "intake_staff:call_add", kwargs={"cpts_slug": other.slug, "reference": request.reference}
    )
    assert client.post(foreign, {"appel-outcome": "reached"}).status_code == 404
    assert call(client, request).status_code == 404
    assert not ContactNote.objects.exists()


# --- the call-back list ------------------------------------------------------------------------


def _planned(request, on, *, outcome="no_answer", days_ago=0):
    """A call logged `days_ago` days ago planning a call-back on `on`."""
    return contact_note_record(
        request=request,
        kind="call",
        outcome=outcome,
        call_back_on=on,
        now=timezone.now() - days_ago * DAY,
    )


def test_the_call_back_list_shows_what_is_due_overdue_first(coordinator_client, cpts, coordinator):
    overdue = make_request(cpts, phone="+33612345678")
    _planned(overdue, TODAY - 2 * DAY, outcome="message_left", days_ago=5)
    today = make_request(cpts)
    _planned(today, TODAY, days_ago=1)
    next_week = make_request(cpts)
    _planned(next_week, TODAY + 7 * DAY)
    too_far = make_request(cpts)
    _planned(too_far, TODAY + 8 * DAY)
    settled = make_request(cpts)
    _planned(settled, TODAY)
    ContactNote.objects.filter(request=settled).update(call_back_done=True)
    closed = make_request(cpts)
    _planned(closed, TODAY)
    Request.objects.filter(pk=closed.pk).update(
        status=Status.CLOSED, closed_reason="mt_found", closed_at=timezone.now()
    )
    page = text(coordinator_client.get(list_url(cpts)))
    shown = [overdue.reference, today.reference, next_week.reference]
    assert [page.index(reference) for reference in shown] == sorted(
        page.index(reference) for reference in shown
    )
    for hidden in (too_far, settled, closed):
        assert hidden.reference not in page
    assert "3 rappels à faire" in page
    row = page[page.index(f'data-reference="{overdue.reference}"') :]
    row = row[: row.index("</tr>")]
    assert "en retard" in row and "message laissé" in row and "06 12 34 56 78" in row
    assert url("request_detail", overdue) in row
    assert AuditLog.objects.filter(actor=coordinator, action="read").count() == 3
    # Ticking it from the list comes back to the list.
    note = ContactNote.objects.get(request=overdue)
    response = coordinator_client.post(url("call_back_done", overdue, pk=note.pk), {"next": "list"})
    assert response["Location"] == list_url(cpts)
    after = text(coordinator_client.get(list_url(cpts)))
    assert f'data-reference="{overdue.reference}"' not in after
    assert "2 rappels à faire" in after


def test_the_call_back_list_costs_the_same_for_1_or_20_rows_and_pages_by_50(
    coordinator_client, cpts
):
    _planned(make_request(cpts), TODAY)
    with CaptureQueriesContext(connection) as one:
        coordinator_client.get(list_url(cpts))
    for _ in range(19):
        _planned(make_request(cpts), TODAY)
    with CaptureQueriesContext(connection) as twenty:
        page = text(coordinator_client.get(list_url(cpts)))
    assert page.count("data-reference=") == 20
    assert len(twenty) == len(one)
    from accesmt.intake.views import calls

    assert calls.PAGE_SIZE == 50


def test_the_call_back_list_keeps_to_its_cpts(coordinator_client, territory, cpts):
    mine = make_request(cpts)
    _planned(mine, TODAY)
    other = territory["lens"]
    theirs = make_request(other)
    _planned(theirs, TODAY)
    page = text(coordinator_client.get(list_url(cpts)))
    assert mine.reference in page and theirs.reference not in page
    assert coordinator_client.get(list_url(other)).status_code == 404
    # Nor can a call-back of another CPTS be ticked.
    note = ContactNote.objects.get(request=theirs)
    assert coordinator_client.post(url("call_back_done", theirs, pk=note.pk)).status_code == 404
    mine_url = url("call_back_done", mine, pk=note.pk)  # their note under my request
    assert coordinator_client.post(mine_url).status_code == 404
    note.refresh_from_db()
    assert not note.call_back_done


def test_the_cpts_home_counts_the_call_backs_for_coordinators(coordinator_client, cpts):
    _planned(make_request(cpts), TODAY)
    _planned(make_request(cpts), TODAY + 30 * DAY)
    home = reverse("reporting:cpts_home", kwargs={"cpts_slug": cpts.slug})
    page = text(coordinator_client.get(home))
    assert "Foyers à rappeler cette semaine (1)" in page
    assert list_url(cpts) in page


def test_above_the_count_cap_the_list_and_the_home_say_more_than(
    coordinator_client, cpts, monkeypatch
):
    """Counted up to COUNT_CAP (decision 0029): « plus de 3 » on the list and on the home; the
    pages go on, overdue first, and the last one is counted exactly."""
    from accesmt.common import pagination
    from accesmt.intake.views import calls

    monkeypatch.setattr(pagination, "COUNT_CAP", 3)
    monkeypatch.setattr(calls, "PAGE_SIZE", 2)
    planned = [make_request(cpts) for _ in range(5)]
    for days, request in enumerate(planned):
        _planned(request, TODAY + (days - 2) * DAY, days_ago=5)
    first = text(coordinator_client.get(list_url(cpts)))
    assert "plus de 3 rappels à faire" in first
    order = [
        reference
        for number in (1, 2, 3)
        for reference in re.findall(
            r'data-reference="([^"]+)"',
            text(coordinator_client.get(f"{list_url(cpts)}?page={number}")),
        )
    ]
    assert order == [r.reference for r in planned]
    assert "5 rappels à faire" in text(coordinator_client.get(f"{list_url(cpts)}?page=3"))
    home = reverse("reporting:cpts_home", kwargs={"cpts_slug": cpts.slug})
    assert "Foyers à rappeler cette semaine (plus de 3)" in text(coordinator_client.get(home))


# --- destructive actions are confirmed ---------------------------------------------------------


def test_destructive_actions_stand_apart_and_unconfirmed_posts_change_nothing(
    coordinator_client, cpts
):
    request = make_request(cpts)
    page = text(coordinator_client.get(url("request_detail", request)))
    main = page[page.index("<h2>Actions</h2>") : page.index("Autres actions")]
    others = page[page.index("Autres actions") :]
    others = others[: others.index("</section>")]
    assert 'value="close"' not in main and 'value="close"' in others
    assert "button-danger" in others and "Demande vérifiée" in main
    transitions = request.transitions.count()
    response = coordinator_client.post(
        url("request_status", request), {"action": "close", "reason": "withdrawn"}
    )
    assert response.status_code == 200
    asked = text(response)
    assert f"Clôturer la demande {request.reference}\u00a0?" in asked
    assert "plus aucun médecin n'est sollicité" in asked
    assert 'name="confirm" value="1"' in asked and "Annuler" in asked
    assert '<option value="withdrawn" selected>' in asked  # the reason chosen is kept
    request.refresh_from_db()
    assert request.status == Status.NEW and request.transitions.count() == transitions
    assert not AuditLog.objects.filter(action="transition").exists()


def test_the_confirmation_needs_a_reason_then_closes(coordinator_client, cpts):
    request = make_request(cpts)
    status_url = url("request_status", request)
    refused = coordinator_client.post(status_url, {"action": "close", "confirm": "1"})
    assert refused.status_code == 400
    page = text(refused)
    error = page[page.index('id="confirm-reason-error"') : page.index('id="confirm-reason"')]
    assert "Choisissez le motif de clôture." in error
    request.refresh_from_db()
    assert request.status == Status.NEW
    done = coordinator_client.post(
        status_url, {"action": "close", "reason": "withdrawn", "note": "", "confirm": "1"}
    )
    assert done.status_code == 302
    request.refresh_from_db()
    assert (request.status, request.closed_reason) == (Status.CLOSED, "withdrawn")
    # Reopening is confirmed too.
    asked = text(coordinator_client.post(status_url, {"action": "reopen"}))
    assert f"Rouvrir la demande {request.reference}\u00a0?" in asked
    request.refresh_from_db()
    assert request.status == Status.CLOSED


def test_main_actions_need_no_confirmation(coordinator_client, cpts):
    request = make_request(cpts)
    response = coordinator_client.post(url("request_status", request), {"action": "verify"})
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == Status.WAITING
