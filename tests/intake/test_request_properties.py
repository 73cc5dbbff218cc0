"""The named states templates read instead of comparing `status`/`role` to strings."""

import pytest
from django.utils import timezone

from accesmt.accounts.models import Membership, Role
from accesmt.intake.models import ClosedReason, Request, Status
from accesmt.orientation.models import Solicitation, SolicitationStatus


def _request(status, closed_reason="", anonymised_at=None):
    return Request(status=status, closed_reason=closed_reason, anonymised_at=anonymised_at)


@pytest.mark.parametrize("status", Status.values)
def test_request_state_properties(status):
    request = _request(status)
    assert request.is_closed is (status == Status.CLOSED)
    assert request.is_awaiting_choice is (status == Status.AWAITING_CHOICE)
    assert request.is_soliciting is (status in ("proposing", "awaiting_choice"))
    assert request.has_orientation is (status in ("waiting", "proposing", "awaiting_choice"))
    assert request.can_be_reopened is (status == Status.CLOSED)


@pytest.mark.parametrize("reason", ClosedReason.values)
def test_a_closed_request_has_an_orientation_page_only_when_a_gp_was_found(reason):
    # "suivi habituel officialisé": the usual GP accepted and the person confirmed (issue 12)
    assert _request(Status.CLOSED, reason).has_orientation is (reason in ("mt_found", "usual_gp"))


def test_an_anonymised_request_cannot_be_reopened():
    request = _request(Status.CLOSED, "unreachable", anonymised_at=timezone.now())
    assert request.can_be_reopened is False


@pytest.mark.parametrize("status", SolicitationStatus.values)
def test_solicitation_state_properties(status):
    solicitation = Solicitation(status=status)
    assert solicitation.is_pending is (status == "pending")
    assert solicitation.is_accepted is (status == "accepted")
    assert solicitation.is_answered is (status in ("accepted", "declined"))
    assert solicitation.is_expired is (status == "expired")


@pytest.mark.parametrize("role", Role.values)
def test_membership_role_properties(role):
    membership = Membership(role=role)
    assert membership.is_gp is (role == "gp")
    assert membership.is_referrer is (role == "referrer")
    assert membership.is_cpam_mediator is (role == "cpam_mediator")
