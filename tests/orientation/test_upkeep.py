"""Keeping the list true: "Avez-vous toujours besoin d'un médecin traitant ?" (still_needed.py)."""

import datetime
import html
import time

import pytest
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from accesmt.accounts.models import AuditLog
from accesmt.intake.lifecycle import request_transition
from accesmt.intake.models import RequestTransition, Status
from accesmt.notifications.models import OutboxMessage
from accesmt.orientation.models import StillNeededCheck
from accesmt.orientation.still_needed import (
    TOKEN_SALT,
    check_from_token,
    check_path,
    check_token,
    still_needed_answer,
    still_needed_run,
)
from tests.accounts.factories import MembershipFactory
from tests.intake.factories import HouseholdMemberFactory
from tests.messages import link_in, token_in
from tests.orientation.factories import OrientationSettingsFactory
from tests.worlds import waiting_request

DAY = datetime.timedelta(days=1)
QUESTION = "orientation.still_needed"
REMINDER = "orientation.still_needed_reminder"


def text(response) -> str:
    return html.unescape(response.content.decode())


def messages(topic=None):
    rows = OutboxMessage.objects.order_by("pk")
    return list(rows.filter(topic=topic) if topic else rows)


@pytest.fixture
def long_wait(o):
    """o.request (e-mail and mobile) has been waiting for 91 days."""
    now = timezone.now()
    o.request.waiting_since = now - 91 * DAY
    o.request.save(update_fields=["waiting_since"])
    OutboxMessage.objects.all().delete()
    o.now = now
    return o


def test_a_household_waiting_91_days_gets_one_check_and_one_message_per_channel(long_wait):
    o = long_wait
    assert still_needed_run(now=o.now) == 1
    check = StillNeededCheck.objects.get()
    assert (check.request, check.cpts, check.channel) == (o.request, o.cpts, "both")
    email, sms = sorted(messages(QUESTION), key=lambda m: m.channel)
    assert (email.channel, email.recipient) == ("email", "foyer@exemple.fr")
    assert (sms.channel, sms.recipient) == ("sms", "+33612345678")
    for message in (email, sms):
        token = token_in(message, "/suivi/", base="https://accesmt.example")
        assert link_in(message, "/suivi/") == f"/suivi/{token}/toujours-besoin/"
        assert check_from_token(token) == check
        for secret in ("Secret-Dupont", "Jeanne", "Léo", o.request.address):
            assert secret not in message.body + message.subject
    # Not twice: the same hour, or a day later.
    assert still_needed_run(now=o.now) == 0
    assert still_needed_run(now=o.now + DAY) == 0
    assert StillNeededCheck.objects.count() == 1 and len(messages()) == 2


def test_not_before_the_delay_and_the_delay_is_per_cpts(long_wait):
    o = long_wait
    o.request.waiting_since = o.now - 89 * DAY
    o.request.save(update_fields=["waiting_since"])
    assert still_needed_run(now=o.now) == 0
    OrientationSettingsFactory(cpts=o.cpts, still_needed_after_days=60)
    assert still_needed_run(now=o.now) == 1


def test_a_backlog_is_spread_over_runs_longest_waiting_first(long_wait, monkeypatch):
    from accesmt.orientation import still_needed

    o = long_wait
    older = waiting_request(o.cpts, o.world.here, days=300, email="a@exemple.fr")
    oldest = waiting_request(o.cpts, o.world.here, days=400, email="b@exemple.fr")
    monkeypatch.setattr(still_needed, "NEW_CHECKS_PER_RUN", 2)
    assert still_needed_run(now=o.now) == 2
    assert {c.request for c in StillNeededCheck.objects.all()} == {older, oldest}
    assert still_needed_run(now=o.now + datetime.timedelta(hours=1)) == 1
    assert StillNeededCheck.objects.filter(request=o.request).exists()


@pytest.mark.parametrize("status", [Status.PROPOSING, Status.AWAITING_CHOICE, Status.TO_VERIFY])
def test_a_request_in_another_state_is_not_checked(long_wait, status):
    o = long_wait
    o.request.status = status
    o.request.save(update_fields=["status"])
    assert still_needed_run(now=o.now + 400 * DAY) == 0
    assert not StillNeededCheck.objects.exists() and not messages()


def test_reminders_then_closed_as_unreachable_with_a_transition_line(long_wait):
    o = long_wait
    still_needed_run(now=o.now)
    check = StillNeededCheck.objects.get()
    assert still_needed_run(now=o.now + 13 * DAY) == 0
    assert still_needed_run(now=o.now + 14 * DAY) == 1
    assert still_needed_run(now=o.now + 14 * DAY + datetime.timedelta(hours=1)) == 0
    check.refresh_from_db()
    assert check.reminders_sent == 1 and len(messages(REMINDER)) == 2
    assert all(m.subject.startswith("Rappel") for m in messages(REMINDER) if m.channel == "email")
    assert still_needed_run(now=o.now + 27 * DAY) == 0
    assert still_needed_run(now=o.now + 28 * DAY) == 1
    check.refresh_from_db()
    assert check.reminders_sent == 2 and len(messages(REMINDER)) == 4
    o.request.refresh_from_db()
    assert o.request.status == Status.WAITING  # not closed before the last reminder's delay
    assert still_needed_run(now=o.now + 41 * DAY) == 0
    assert still_needed_run(now=o.now + 42 * DAY) == 1
    o.request.refresh_from_db()
    check.refresh_from_db()
    assert (o.request.status, o.request.closed_reason) == (Status.CLOSED, "unreachable")
    assert check.closed_unreachable_at == o.now + 42 * DAY
    line = o.request.transitions.get(to_status=Status.CLOSED)
    assert (line.from_status, line.reason, line.by, line.by_patient) == (
        Status.WAITING,
        "unreachable",
        None,
        False,
    )
    assert "Sans réponse" in line.note and "2 rappel(s)" in line.note
    # Closed: nothing more, no other message.
    assert still_needed_run(now=o.now + 200 * DAY) == 0
    assert StillNeededCheck.objects.count() == 1 and len(messages()) == 6


def test_the_reminder_count_and_delay_come_from_the_cpts_settings(long_wait):
    o = long_wait
    OrientationSettingsFactory(cpts=o.cpts, still_needed_reminders=0, still_needed_reminder_days=7)
    still_needed_run(now=o.now)
    assert still_needed_run(now=o.now + 7 * DAY) == 1
    o.request.refresh_from_db()
    assert o.request.closed_reason == "unreachable" and not messages(REMINDER)


def test_yes_keeps_the_seniority_and_no_new_check_before_another_delay(long_wait):
    o = long_wait
    waiting_since = o.request.waiting_since
    still_needed_run(now=o.now)
    check = StillNeededCheck.objects.get()
    answered_at = o.now + 3 * DAY
    still_needed_answer(check=check, answer="still_needed", now=answered_at)
    o.request.refresh_from_db()
    assert (o.request.status, o.request.waiting_since) == (Status.WAITING, waiting_since)
    assert not o.request.transitions.exists()
    # No reminder nor closure of the answered check, no new check before 90 days after the answer.
    assert still_needed_run(now=o.now + 60 * DAY) == 0
    assert still_needed_run(now=answered_at + 89 * DAY) == 0
    assert StillNeededCheck.objects.count() == 1 and len(messages()) == 2
    assert still_needed_run(now=answered_at + 91 * DAY) == 1
    assert StillNeededCheck.objects.count() == 2 and len(messages(QUESTION)) == 4


def test_an_open_check_is_cancelled_when_the_request_leaves_the_queue(client, long_wait):
    o = long_wait
    still_needed_run(now=o.now)
    check = StillNeededCheck.objects.get()
    request_transition(request=o.request, to=Status.PROPOSING)
    still_needed_run(now=o.now + 14 * DAY)
    check.refresh_from_db()
    assert check.cancelled_at is not None and not messages(REMINDER)
    page = client.post(check_path(check), {"answer": "no_longer_needed"})
    assert "ne se pose plus" in text(page)
    o.request.refresh_from_db()
    assert o.request.status == Status.PROPOSING


def test_back_in_the_queue_after_an_orientation_restarts_the_delay(long_wait):
    o = long_wait
    request_transition(request=o.request, to=Status.PROPOSING)
    request_transition(request=o.request, to=Status.WAITING)
    assert still_needed_run(now=timezone.now() + 89 * DAY) == 0
    assert still_needed_run(now=timezone.now() + 91 * DAY) == 1


def test_the_page_asks_and_yes_is_recorded(client, long_wait):
    o = long_wait
    still_needed_run(now=o.now)
    check = StillNeededCheck.objects.get()
    page = client.get(check_path(check))
    body = text(page)
    assert page.status_code == 200
    assert "Avez-vous toujours besoin d'un médecin traitant ?" in body
    assert "Oui, toujours" in body and "Non, je n'en ai plus besoin" in body
    assert 'method="post"' in body and "csrfmiddlewaretoken" in body
    assert "Secret-Dupont" not in body
    # A GET (a mail scanner following the link) records nothing.
    check.refresh_from_db()
    assert check.is_open
    response = client.post(check_path(check), {"answer": "still_needed"}, follow=True)
    assert "reste dans la file d'attente" in text(response)
    check.refresh_from_db()
    o.request.refresh_from_db()
    assert (check.answer, check.answered_by, o.request.status) == (
        "still_needed",
        None,
        Status.WAITING,
    )


def test_no_longer_needed_closes_as_withdrawn_by_the_person_and_replay_changes_nothing(
    client, long_wait
):
    o = long_wait
    still_needed_run(now=o.now)
    check = StillNeededCheck.objects.get()
    response = client.post(check_path(check), {"answer": "no_longer_needed"}, follow=True)
    assert "votre demande est clôturée" in text(response)
    o.request.refresh_from_db()
    assert (o.request.status, o.request.closed_reason) == (Status.CLOSED, "withdrawn")
    line = o.request.transitions.get()
    assert (line.to_status, line.reason, line.by_patient) == (Status.CLOSED, "withdrawn", True)
    # Replayed: the same answer page, no second transition, no change of answer.
    replay = client.post(check_path(check), {"answer": "still_needed"})
    assert replay.status_code == 200 and "votre demande est clôturée" in text(replay)
    check.refresh_from_db()
    assert check.answer == "no_longer_needed"
    assert RequestTransition.objects.filter(request=o.request).count() == 1
    assert "Oui, toujours" not in text(client.get(check_path(check)))


def test_found_a_gp_closes_as_mt_found_by_the_person(client, long_wait):
    o = long_wait
    still_needed_run(now=o.now)
    check = StillNeededCheck.objects.get()
    assert "Non, j'ai trouvé un médecin traitant" in text(client.get(check_path(check)))
    client.post(check_path(check), {"answer": "found_gp"})
    o.request.refresh_from_db()
    assert (o.request.status, o.request.closed_reason) == (Status.CLOSED, "mt_found")
    line = o.request.transitions.get()
    assert line.by_patient and "A trouvé un médecin traitant" in line.note


def test_an_unknown_answer_is_refused(client, long_wait):
    o = long_wait
    still_needed_run(now=o.now)
    check = StillNeededCheck.objects.get()
    response = client.post(check_path(check), {"answer": "peut-etre"})
    assert response.status_code == 400 and "Choisissez une réponse" in text(response)
    check.refresh_from_db()
    assert check.is_open


def test_a_late_click_after_closure_as_unreachable_says_so(client, long_wait):
    o = long_wait
    still_needed_run(now=o.now)
    still_needed_run(now=o.now + 14 * DAY)
    still_needed_run(now=o.now + 28 * DAY)
    still_needed_run(now=o.now + 42 * DAY)
    check = StillNeededCheck.objects.get()
    response = client.post(check_path(check), {"answer": "still_needed"})
    assert "clôturée faute de réponse" in text(response)
    o.request.refresh_from_db()
    assert o.request.closed_reason == "unreachable"


def test_tampered_and_expired_links(client, long_wait, monkeypatch):
    o = long_wait
    real_time = time.time
    still_needed_run(now=o.now)
    check = StillNeededCheck.objects.get()
    token = check_token(check)
    url = reverse("orientation:still_needed_answer", kwargs={"token": token[:-3] + "abc"})
    tampered = client.get(url)
    assert tampered.status_code == 404 and "ne fonctionne pas" in text(tampered)
    forged = signing.dumps({"k": check.pk}, salt="another.salt", compress=True)
    url = reverse("orientation:still_needed_answer", kwargs={"token": forged})
    assert client.post(url, {"answer": "no_longer_needed"}).status_code == 404
    with monkeypatch.context() as m:  # signed longer ago than a check can live (14×3 + 30 days)
        m.setattr(time, "time", lambda: real_time() - 73 * 24 * 3600)
        old = signing.dumps({"k": check.pk}, salt=TOKEN_SALT, compress=True)
    url = reverse("orientation:still_needed_answer", kwargs={"token": old})
    expired = client.post(url, {"answer": "no_longer_needed"})
    assert expired.status_code == 404 and "expiré" in text(expired)
    o.request.refresh_from_db()
    check.refresh_from_db()
    assert o.request.status == Status.WAITING and check.is_open


# --- households without e-mail nor mobile; the coordinator's page -----------------------------


def _list_url(cpts):
    return reverse("orientation:still_needed", kwargs={"cpts_slug": cpts.slug})


def test_households_without_contact_get_a_letter_are_listed_to_call_not_closed(client, long_wait):
    o = long_wait
    o.request.email = ""
    o.request.phone = "+33321000000"  # a landline: no SMS
    o.request.save(update_fields=["email", "phone"])
    assert still_needed_run(now=o.now) == 1
    check = StillNeededCheck.objects.get()
    [letter] = messages()
    assert check.channel == "call"
    assert (letter.channel, letter.topic, letter.status) == (
        "letter",
        "orientation.still_needed",
        "pending",
    )
    assert o.request.reference in letter.body and "Secret-Dupont" not in letter.body
    assert still_needed_run(now=o.now + 200 * DAY) == 0
    assert len(messages()) == 1  # one letter, no reminders
    o.request.refresh_from_db()
    assert o.request.status == Status.WAITING
    client.force_login(o.coordinator)
    page = text(client.get(_list_url(o.cpts)))
    assert "À appeler (1)" in page and o.request.reference in page
    assert "Secret-Dupont" not in page and "+33321000000" not in page
    response = client.post(
        _list_url(o.cpts), {"check": check.pk, "answer": "still_needed"}, follow=True
    )
    assert "réponse enregistrée" in text(response)
    check.refresh_from_db()
    assert (check.answer, check.answered_by) == ("still_needed", o.coordinator)
    assert AuditLog.objects.filter(actor=o.coordinator, action="update").exists()


def test_contact_details_removed_after_the_question_turn_the_check_into_a_call(long_wait):
    o = long_wait
    still_needed_run(now=o.now)
    o.request.email = ""
    o.request.phone = ""
    o.request.save(update_fields=["email", "phone"])
    for days in (14, 28, 42, 100):
        still_needed_run(now=o.now + days * DAY)
    check = StillNeededCheck.objects.get()
    o.request.refresh_from_db()
    assert (check.channel, check.reminders_sent, o.request.status) == ("call", 0, Status.WAITING)
    assert not messages(REMINDER)


def test_the_coordinator_sees_open_checks_and_reopens_unreachable_ones(client, long_wait):
    o = long_wait
    other = waiting_request(o.cpts, o.world.here, days=120, email="autre@exemple.fr", phone="")
    HouseholdMemberFactory(request=other, last_name="Secret-Martin")
    still_needed_run(now=o.now)
    for days in (14, 28, 42):  # o.request and other: no answer, closed as unreachable
        still_needed_run(now=o.now + days * DAY)
    third = waiting_request(o.cpts, o.world.here, days=100, email="trois@exemple.fr", phone="")
    still_needed_run(now=o.now + 43 * DAY)
    client.force_login(o.coordinator)
    page = text(client.get(_list_url(o.cpts)))
    assert "Question envoyée, sans réponse (1)" in page and third.reference in page
    assert "Clôturées « injoignable » ces 90 derniers jours (2)" in page
    assert o.request.reference in page and other.reference in page
    assert "Secret-Dupont" not in page and "Secret-Martin" not in page
    assert "autre@exemple.fr" not in page
    reopen = reverse(
        "intake_staff:request_status",
        kwargs={"cpts_slug": o.cpts.slug, "reference": o.request.reference},
    )
    assert f'action="{reopen}"' in page
    # « Rouvrir » asks for a confirmation first (intake's destructive actions).
    assert "Confirmer" in text(client.post(reopen, {"action": "reopen"}))
    o.request.refresh_from_db()
    assert o.request.status == Status.CLOSED
    client.post(reopen, {"action": "reopen", "confirm": "1"})
    o.request.refresh_from_db()
    assert o.request.status == Status.TO_VERIFY
    line = o.request.transitions.order_by("pk").last()  # the closing line is dated o.now + 42 d
    assert (line.from_status, line.by) == (Status.CLOSED, o.coordinator)


def test_the_coordinator_page_shows_only_its_cpts(client, long_wait):
    o = long_wait
    foreign = waiting_request(o.world.other, o.world.there, days=120, email="b@exemple.fr")
    still_needed_run(now=o.now)
    assert StillNeededCheck.objects.count() == 2
    client.force_login(o.coordinator)
    page = text(client.get(_list_url(o.cpts)))
    assert o.request.reference in page and foreign.reference not in page
    assert client.get(_list_url(o.world.other)).status_code in (302, 404)
    # A check of B cannot be answered from A's page.
    foreign_check = StillNeededCheck.objects.get(request=foreign)
    client.post(_list_url(o.cpts), {"check": foreign_check.pk, "answer": "no_longer_needed"})
    foreign.refresh_from_db()
    foreign_check.refresh_from_db()
    assert foreign.status == Status.WAITING and foreign_check.is_open


def test_only_coordinators_see_the_page(client, long_wait):
    o = long_wait
    client.force_login(o.referrer)
    assert client.get(_list_url(o.cpts)).status_code in (302, 403, 404)
    client.force_login(MembershipFactory(cpts=o.cpts, role="gp").user)
    assert client.get(_list_url(o.cpts)).status_code in (302, 403, 404)


def test_the_job_is_registered():
    from accesmt.notifications import jobs

    job = jobs.registered()["orientation.still_needed"]
    assert job.func is still_needed_run and job.every_seconds == 3600


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_open_one_check_and_send_one_reminder(settings):
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection, connections

    if connection.vendor != "postgresql":
        pytest.skip("row locks between two connections: PostgreSQL only")
    from tests.worlds import two_cpts

    settings.PUBLIC_BASE_URL = "https://accesmt.example"
    world = two_cpts()
    requests = [
        waiting_request(world.cpts, world.here, days=100, email=f"f{i}@exemple.fr")
        for i in range(20)
    ]
    now = timezone.now()

    def run(at):
        try:
            return still_needed_run(now=at)
        finally:
            connections.close_all()

    for at in (now, now + 14 * DAY):
        with ThreadPoolExecutor(max_workers=2) as pool:
            assert sum(pool.map(run, [at, at])) == len(requests)
    assert StillNeededCheck.objects.count() == len(requests)
    assert len(messages(QUESTION)) == 2 * len(requests)  # e-mail and SMS, once each
    assert len(messages(REMINDER)) == 2 * len(requests)
    assert set(StillNeededCheck.objects.values_list("reminders_sent", flat=True)) == {1}
