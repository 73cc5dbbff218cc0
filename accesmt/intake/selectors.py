"""Reads of the intake app."""

from __future__ import annotations

import datetime

from accesmt.common.signing import INVALID, LinkError, check_link_age, read_link_token

from .models import IntakeSettings, Request

FOLLOWUP_SALT = "accesmt.intake.followup"  # signs the person's follow-up links (services.py)

# `reason` is "invalid" (bad signature or unknown request) or "expired".
FollowupLinkInvalid = LinkError


def request_for_followup_token(token: str) -> Request:
    """The request a follow-up token designates, if its signature holds and it has not outlived
    the CPTS's `follow_up_link_days`."""
    pk = read_link_token(token, salt=FOLLOWUP_SALT, key="r")
    request = Request.objects.select_related("cpts", "commune").filter(pk=pk).first()
    if request is None:
        raise LinkError(INVALID)
    days = IntakeSettings.for_cpts(request.cpts).follow_up_link_days
    check_link_age(token, salt=FOLLOWUP_SALT, max_age=datetime.timedelta(days=days))
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
