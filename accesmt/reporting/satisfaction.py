"""The satisfaction survey: "Qu'avez-vous pensé du service ?"

When a request is closed as "médecin traitant trouvé" or withdrawn by the person, the periodic
job `reporting.satisfaction_invite` (hourly, `satisfaction_invite(now=)`) invites the household
once, by e-mail and/or SMS (`intake.services.household_tell`, texts under
`reporting/templates/reporting/messages/satisfaction_*.txt`), to a signed link
`suivi/<token>/avis/` with three questions and a free comment:

- how easy registering was (4 points), how the delay felt (4 points), whether they would
  recommend the service (yes/no), a comment (optional, 1,000 characters).

Who is invited: requests still closed with one of those two reasons, closed between
`INVITE_AFTER` (a closing by mistake is usually reopened within the day) and `INVITE_WITHIN`
ago, not anonymised, never invited before (one `SatisfactionInvitation` per request, enforced by
a unique constraint: two workers cannot both invite, and a request reopened then closed again is
not asked twice). Households with neither e-mail nor mobile phone get no letter: a printed
survey costs the coordination a stamp and the typing of the answers, for a figure that must stay
cheap. Their invitation row is written unsent (`sent_at` None), so that the indicators say how
many closings the survey could not reach (a bias to keep in mind: those households are often the
most fragile).

Anonymity: the answer (`SatisfactionAnswer`) keeps only the CPTS, the month of the closing and
how the request ended; nothing links it to the request or to the invitation, which only records
that its link was used. A link answers once (a second visit says thanks) and lives
`LINK_LIFETIME`. Free comments are shown to the coordination only (a coordination-only indicator),
never on a masked page.
"""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone

from accesmt.common.links import public_url
from accesmt.common.signing import INVALID, LinkError, make_link_token, read_link_token
from accesmt.intake.models import ClosedReason, Request, Status
from accesmt.intake.services import household_tell, request_lock
from accesmt.notifications.messages import render_message

from .models import SatisfactionAnswer, SatisfactionInvitation, SurveyOutcome
from .periods import first_of_month

logger = logging.getLogger(__name__)

TOKEN_SALT = "accesmt.reporting.satisfaction"  # noqa: S105 - a signing salt
LINK_LIFETIME = datetime.timedelta(days=30)
INVITE_AFTER = datetime.timedelta(days=1)
INVITE_WITHIN = datetime.timedelta(days=14)
INVITATIONS_PER_RUN = 500  # a backlog is spread over several hourly runs
OUTCOME_OF_REASON = {
    ClosedReason.MT_FOUND: SurveyOutcome.MT_FOUND,
    # the usual GP became the médecin traitant: an MT found, for the person
    ClosedReason.USUAL_GP: SurveyOutcome.MT_FOUND,
    ClosedReason.WITHDRAWN: SurveyOutcome.WITHDRAWN,
}
MESSAGE = "reporting/messages/satisfaction_{}.txt"


class AlreadyAnswered(Exception):
    """The link has been used already."""


# --- links ---------------------------------------------------------------------------------------


def invitation_token(invitation: SatisfactionInvitation) -> str:
    return make_link_token(invitation.pk, salt=TOKEN_SALT, key="s")


def invitation_url(invitation: SatisfactionInvitation) -> str:
    return public_url(reverse("reporting:survey", kwargs={"token": invitation_token(invitation)}))


def invitation_from_token(token: str) -> SatisfactionInvitation:
    """The invitation a token designates; LinkError("expired") past LINK_LIFETIME,
    LinkError("invalid") for a bad token or an invitation never sent."""
    pk = read_link_token(token, salt=TOKEN_SALT, key="s", max_age=LINK_LIFETIME)
    invitation = (
        SatisfactionInvitation.objects.select_related("cpts")
        .filter(pk=pk, sent_at__isnull=False)
        .first()
    )
    if invitation is None:
        raise LinkError(INVALID)
    return invitation


# --- the job -------------------------------------------------------------------------------------


def due_requests(*, now: datetime.datetime):
    """Requests to invite: closed as MT found or withdrawn between INVITE_WITHIN and
    INVITE_AFTER ago, not anonymised, never invited; oldest closing first."""
    return (
        Request.objects.filter(
            status=Status.CLOSED,
            closed_reason__in=list(OUTCOME_OF_REASON),
            closed_at__gte=now - INVITE_WITHIN,
            closed_at__lte=now - INVITE_AFTER,
            anonymised_at__isnull=True,
        )
        .exclude(Exists(SatisfactionInvitation.objects.filter(request=OuterRef("pk"))))
        .order_by("closed_at", "pk")
    )


def _texts(request: Request, link: str) -> dict[str, str]:
    context = {
        "cpts_name": request.cpts.name,
        "link": link,
        "found": OUTCOME_OF_REASON[request.closed_reason] == SurveyOutcome.MT_FOUND,
        "days": LINK_LIFETIME.days,
    }
    texts = {part: render_message(MESSAGE.format(part), context)[1] for part in ("email", "sms")}
    texts["subject"] = render_message(MESSAGE.format("subject"), context)[1].strip()
    return texts


def invite_request(request_id: int, *, now: datetime.datetime) -> SatisfactionInvitation | None:
    """Invite one request (or record that nobody can be written to), in one transaction with the
    messages. None when it is not due any more or another worker did it."""
    with transaction.atomic():
        try:
            request = request_lock(request_id, related=("cpts",))
        except Request.DoesNotExist:
            return None
        outcome = OUTCOME_OF_REASON.get(request.closed_reason)
        if request.status != Status.CLOSED or outcome is None or request.anonymised_at:
            return None
        invitation = SatisfactionInvitation(
            cpts=request.cpts,
            request=request,
            outcome=outcome,
            month=first_of_month(timezone.localtime(request.closed_at).date()),
            created_at=now,
        )
        try:
            with transaction.atomic():
                invitation.save()
        except IntegrityError:  # invited by another worker meanwhile
            return None
        texts = _texts(request, invitation_url(invitation))
        sent = household_tell(
            now=now,
            request=request,
            topic="reporting.satisfaction",
            subject=texts["subject"],
            email_body=texts["email"],
            sms_body=texts["sms"],
            related=invitation,
            dedup_key=f"reporting.satisfaction.{invitation.pk}.{{channel}}",
        )
        if sent:
            invitation.sent_at = now
            invitation.save(update_fields=["sent_at"])
    return invitation


def satisfaction_invite(*, now: datetime.datetime | None = None) -> int:
    """Periodic job `reporting.satisfaction_invite`: invite the households whose request was
    closed lately (see the module docstring). Idempotent. Returns how many invitations were
    sent."""
    now = now or timezone.now()
    sent = 0
    for request_id in list(
        due_requests(now=now).values_list("pk", flat=True)[:INVITATIONS_PER_RUN]
    ):
        invitation = invite_request(request_id, now=now)
        if invitation is not None and invitation.sent_at is not None:
            sent += 1
    if sent:
        logger.info("satisfaction_invite: %d invitation(s) sent", sent)
    return sent


# --- answers -------------------------------------------------------------------------------------


def satisfaction_answer(
    *,
    invitation: SatisfactionInvitation,
    ease: str,
    delay: str,
    would_recommend: bool,
    comment: str = "",
) -> SatisfactionAnswer:
    """Store the answers, unlinked from the invitation, and mark the invitation as answered, in
    one transaction. Raises AlreadyAnswered when the link has been used."""
    with transaction.atomic():
        locked = SatisfactionInvitation.objects.select_for_update().get(pk=invitation.pk)
        if locked.answered:
            raise AlreadyAnswered
        answer = SatisfactionAnswer(
            cpts_id=locked.cpts_id,
            month=locked.month,
            outcome=locked.outcome,
            ease=ease,
            delay=delay,
            would_recommend=would_recommend,
            comment=comment.strip(),
        )
        answer.full_clean()
        answer.save()
        locked.answered = True
        locked.save(update_fields=["answered"])
    invitation.answered = True
    return answer


def satisfaction_comments_blank(*, now: datetime.datetime | None = None) -> int:
    """Blank the free comments of the answers about requests closed in a month that ended more
    than SATISFACTION_COMMENT_RETENTION_DAYS ago (a year by default): a comment may name someone
    or tell a health detail; the ticked answers stay for the indicators. Return how many."""
    now = now or timezone.now()
    days = int(getattr(settings, "SATISFACTION_COMMENT_RETENTION_DAYS", 365))
    limit = timezone.localdate(now) - datetime.timedelta(days=days)
    # `month` is the first day of the closing month: the month ended before the limit.
    last_month = limit.replace(day=1)
    old = SatisfactionAnswer.objects.filter(month__lt=last_month).exclude(comment="")
    return old.update(comment="")
