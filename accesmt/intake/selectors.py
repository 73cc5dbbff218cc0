"""Reads of the intake app."""

from __future__ import annotations

import datetime

from django.db.models import Q

from accesmt.common.signing import INVALID, LinkError, check_link_age, read_link_token

from .models import DuplicateFlag, IntakeSettings, Request

FOLLOWUP_SALT = "accesmt.intake.followup"  # signs the person's follow-up links (services.py)


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


def duplicates_of(request: Request) -> list[dict]:
    """What the coordinator may know of the possible duplicates of `request`, and may do with
    them: the other request of the same CPTS (reference, state), or only the fact that another
    CPTS has one. `can_merge`: both open, same CPTS, not resolved; `can_dismiss`: not resolved,
    and the other request is of this CPTS or the flag was raised on this request."""
    flags = (
        DuplicateFlag.objects.filter(Q(request=request) | Q(other_request=request))
        .select_related("request", "other_request", "resolved_by")
        .order_by("created_at", "pk")
    )
    rows = []
    for flag in flags:
        other = flag.other_request if flag.request_id == request.pk else flag.request
        same_cpts = other.cpts_id == request.cpts_id
        rows.append(
            {
                "flag": flag,
                "same_cpts": same_cpts,
                "other": other if same_cpts else None,
                "can_merge": same_cpts
                and flag.resolved_at is None
                and not request.is_closed
                and not other.is_closed,
                "can_dismiss": flag.resolved_at is None
                and (same_cpts or flag.request_id == request.pk),
            }
        )
    return rows
