"""The state machine: every allowed move works and is logged, every other one is refused by the
service AND by the database."""

import importlib
import itertools

import pytest
from django.db import IntegrityError, connection, transaction

from accesmt.intake import lifecycle
from accesmt.intake.lifecycle import TRANSITIONS, TransitionRefused, request_transition
from accesmt.intake.models import ClosedReason, Request, RequestTransition, Status
from tests.accounts.factories import UserFactory

from .factories import RequestFactory

pytestmark = pytest.mark.django_db

ALL_PAIRS = [(a, b) for a, b in itertools.product(Status.values, repeat=2) if a != b]
ALLOWED = [(a, b) for a, b in ALL_PAIRS if b in TRANSITIONS[a]]
REFUSED = [(a, b) for a, b in ALL_PAIRS if b not in TRANSITIONS[a]]


def _request_in(status):
    if status == Status.CLOSED:
        return RequestFactory(closed=True)
    if status == Status.OPT_OUT_PENDING:
        return RequestFactory(from_cpam_list=True)
    return RequestFactory(status=status)


@pytest.mark.parametrize(("from_status", "to_status"), ALLOWED)
def test_allowed_transition_moves_and_is_logged(from_status, to_status):
    request = _request_in(from_status)
    user = UserFactory()
    reason = ClosedReason.MT_FOUND if to_status == Status.CLOSED else ""
    line = request_transition(request=request, to=to_status, by=user, reason=reason, note="ok")
    request.refresh_from_db()
    assert request.status == to_status
    assert (line.from_status, line.to_status, line.by, line.reason) == (
        from_status,
        to_status,
        user,
        reason,
    )
    if to_status == Status.CLOSED:
        assert request.closed_reason == ClosedReason.MT_FOUND and request.closed_at
    else:
        assert request.closed_reason == "" and request.closed_at is None


@pytest.mark.parametrize(("from_status", "to_status"), REFUSED)
def test_refused_transition_changes_nothing(from_status, to_status):
    request = _request_in(from_status)
    reason = ClosedReason.MT_FOUND if to_status == Status.CLOSED else ""
    with pytest.raises(TransitionRefused):
        request_transition(request=request, to=to_status, reason=reason)
    request.refresh_from_db()
    assert request.status == from_status
    assert not RequestTransition.objects.filter(request=request).exists()


def test_closing_needs_a_known_reason():
    request = RequestFactory()
    for reason in ("", "bored"):
        with pytest.raises(TransitionRefused, match="motif"):
            request_transition(request=request, to=Status.CLOSED, reason=reason)
    assert Request.objects.get(pk=request.pk).status == Status.NEW


def test_patient_may_only_withdraw():
    request = RequestFactory(status=Status.WAITING)
    with pytest.raises(TransitionRefused):
        request_transition(request=request, to=Status.TO_VERIFY, by_patient=True)
    request_transition(request=request, to=Status.CLOSED, reason="withdrawn", by_patient=True)
    assert RequestTransition.objects.get(request=request).by_patient


@pytest.mark.parametrize(("from_status", "to_status"), REFUSED)
def test_database_refuses_impossible_transition(from_status, to_status):
    request = _request_in(from_status)
    fields = {"status": to_status}
    if to_status == Status.CLOSED:
        fields.update(closed_reason="mt_found", closed_at=request.created_at)
    elif from_status == Status.CLOSED:
        fields.update(closed_reason="", closed_at=None)
    with pytest.raises(IntegrityError), transaction.atomic():
        Request.objects.filter(pk=request.pk).update(**fields)


def test_database_refuses_closed_request_without_reason():
    request = RequestFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Request.objects.filter(pk=request.pk).update(status=Status.CLOSED)
    with pytest.raises(IntegrityError), transaction.atomic():
        Request.objects.filter(pk=request.pk).update(closed_reason="withdrawn")


def test_database_refuses_unknown_status():
    request = RequestFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Request.objects.filter(pk=request.pk).update(status="lost")


def test_trigger_migration_matches_transition_table():
    migration = importlib.import_module("accesmt.intake.migrations.0013_cpam_lists_opt_out_period")
    table = {f"{a}>{b}" for a, targets in TRANSITIONS.items() for b in targets}
    assert set(migration.ALLOWED) == table
    assert connection.vendor in ("sqlite", "postgresql")


def test_every_status_has_an_explanation_for_the_person():
    assert set(lifecycle.STATUS_EXPLANATIONS) == set(Status.values)


def _anonymised_closed_request():
    from django.utils import timezone

    return RequestFactory(closed=True, anonymised_at=timezone.now())


def test_service_refuses_to_reopen_an_anonymised_request():
    request = _anonymised_closed_request()
    with pytest.raises(TransitionRefused) as refused:
        request_transition(request=request, to=Status.TO_VERIFY)
    assert "anonymisée" in " ".join(refused.value.messages)
    request.refresh_from_db()
    assert request.status == Status.CLOSED
    assert not request.transitions.filter(to_status=Status.TO_VERIFY).exists()


def test_database_refuses_to_reopen_an_anonymised_request():
    request = _anonymised_closed_request()
    with pytest.raises(IntegrityError), transaction.atomic():
        Request.objects.filter(pk=request.pk).update(
            status=Status.TO_VERIFY, closed_reason="", closed_at=None
        )
    request.refresh_from_db()
    assert request.status == Status.CLOSED


def test_a_closed_request_not_anonymised_can_still_be_reopened_in_the_database():
    request = RequestFactory(closed=True)
    Request.objects.filter(pk=request.pk).update(
        status=Status.TO_VERIFY, closed_reason="", closed_at=None
    )
    assert Request.objects.get(pk=request.pk).status == Status.TO_VERIFY


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (Status.NEW, {"verify", "to_verify", "close"}),
        (Status.TO_VERIFY, {"verify", "close"}),
        (Status.WAITING, {"to_verify", "close"}),
        (Status.PROPOSING, {"to_verify", "close"}),
        (Status.AWAITING_CHOICE, {"to_verify", "close"}),
        (Status.CLOSED, {"reopen"}),
    ],
)
def test_coordinator_actions_follow_the_transition_table(status, expected):
    assert set(lifecycle.coordinator_actions(_request_in(status))) == expected


def test_no_coordinator_action_on_an_anonymised_request():
    assert lifecycle.coordinator_actions(_anonymised_closed_request()) == {}


def test_closing_by_hand_never_offers_the_duplicate_reason():
    reasons = dict(lifecycle.COORDINATOR_ACTIONS["close"].reasons)
    assert ClosedReason.DUPLICATE not in reasons
    assert set(reasons) == set(ClosedReason.values) - {ClosedReason.DUPLICATE}
    for action in lifecycle.COORDINATOR_ACTIONS.values():
        assert any(lifecycle.can_transition(s, action.to) for s in action.from_statuses)
