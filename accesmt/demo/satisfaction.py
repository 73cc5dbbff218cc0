"""Satisfaction answers for the demo: the households of the demo whose request closed as "MT
trouvé" or "retirée" were invited two days after their closing, through the reporting service,
and about six in ten answered (seeded), so that the satisfaction page and the ACI report have
figures on both contract years."""

from __future__ import annotations

import datetime as dt
import random

from django.db.models import F

from accesmt.intake.models import Request, Status
from accesmt.notifications.models import OutboxMessage
from accesmt.notifications.models import Status as OutboxStatus
from accesmt.reporting.models import Delay, Ease, SatisfactionInvitation
from accesmt.reporting.satisfaction import OUTCOME_OF_REASON, invite_request, satisfaction_answer

COMMENTS = [
    "Merci, la coordinatrice m'a rappelée très vite.",
    "Le formulaire était simple, l'attente un peu longue.",
    "",
    "",
    "Très contente d'avoir enfin un médecin près de chez moi.",
]


def demo_satisfaction_create(cpts, *, seed: int) -> int:
    """Invite every closed demo request of `cpts` that the survey concerns, answer ~60 %.
    Returns the number of answers."""
    rng = random.Random(f"{seed}-satisfaction")
    answered = 0
    closed = Request.objects.filter(
        cpts=cpts, status=Status.CLOSED, closed_reason__in=list(OUTCOME_OF_REASON)
    ).order_by("closed_at", "pk")
    for request in closed:
        invitation = invite_request(request.pk, now=request.closed_at + dt.timedelta(days=2))
        if invitation is None or invitation.sent_at is None or rng.random() > 0.6:
            continue
        satisfaction_answer(
            invitation=invitation,
            ease=rng.choices(Ease.values, weights=(5, 3, 1, 1))[0],
            delay=rng.choices(Delay.values, weights=(2, 3, 2, 1))[0],
            would_recommend=rng.random() < 0.85,
            comment=rng.choice(COMMENTS),
        )
        answered += 1
    # the invitations left at the time
    OutboxMessage.objects.filter(
        cpts=cpts, status=OutboxStatus.PENDING, topic="reporting.satisfaction"
    ).update(status=OutboxStatus.SENT, sent_at=F("created_at"), attempts=1)
    assert SatisfactionInvitation.objects.filter(cpts=cpts).exists() or not closed.exists()
    return answered
