"""Reads of the intake app."""

from __future__ import annotations

import datetime

from django.core import signing

from .models import IntakeSettings, Request

FOLLOWUP_SALT = "accesmt.intake.followup"  # signs the person's follow-up links (services.py)


class FollowupLinkInvalid(Exception):
    """`reason` is "tampered" (bad signature or unknown request) or "expired"."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def request_for_followup_token(token: str) -> Request:
    """The request a follow-up token designates, if its signature holds and it has not outlived
    the CPTS's `follow_up_link_days`."""
    try:
        payload = signing.loads(token, salt=FOLLOWUP_SALT)
        request = Request.objects.select_related("cpts", "commune").get(pk=int(payload["r"]))
    except (signing.BadSignature, KeyError, TypeError, ValueError, Request.DoesNotExist):
        raise FollowupLinkInvalid("tampered") from None
    days = IntakeSettings.for_cpts(request.cpts).follow_up_link_days
    try:
        signing.loads(token, salt=FOLLOWUP_SALT, max_age=datetime.timedelta(days=days))
    except signing.SignatureExpired:
        raise FollowupLinkInvalid("expired") from None
    return request


def referrals_of(*, user, cpts):
    """The requests `user` referred in `cpts`, newest first (status only is shown)."""
    return (
        Request.objects.filter(cpts=cpts, referrer=user)
        .select_related("commune")
        .order_by("-created_at")
    )


def priority_badges(request: Request) -> list[str]:
    return [reason.label for reason in request.priority_reasons.all()]
