"""Survey campaigns: every present GP of the territory with an e-mail gets a personal link
`/enquete/<token>/` leading to the declaration form, without an account.

Token policy: the token is the invitation id signed with `SURVEY_SALT` and timestamped; it is
valid `SURVEY_TOKEN_MAX_AGE_DAYS` days (30 by default). Expired or tampered → a French error page
(status 400). Replayed after an answer: the page says "déjà répondu" and shows the form again,
prefilled with the current declaration, so that the GP may update it until the link expires;
each answer is a new declaration (the history is kept) and `answered_at` moves to the last one.

E-mail texts hold no health data and no name: the CPTS name and the personal link only.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone

from accesmt.common.links import public_url
from accesmt.common.signing import INVALID, LinkError, make_link_token, read_link_token
from accesmt.notifications.messages import render_message
from accesmt.notifications.services import outbox_enqueue

from .models import AvailabilityDeclaration, Practitioner, SurveyCampaign, SurveyInvitation

SURVEY_SALT = "accesmt.directory.survey"
TOPIC_INVITATION = "directory.survey_invitation"
TOPIC_REMINDER = "directory.survey_reminder"
MESSAGES = "directory/messages/{}.txt"


def token_max_age() -> datetime.timedelta:
    return datetime.timedelta(days=getattr(settings, "SURVEY_TOKEN_MAX_AGE_DAYS", 30))


def invitation_token(invitation: SurveyInvitation) -> str:
    return make_link_token(invitation.pk, salt=SURVEY_SALT, key="i")


def invitation_url(invitation: SurveyInvitation) -> str:
    return public_url(
        reverse("directory:survey_answer", kwargs={"token": invitation_token(invitation)})
    )


def invitation_from_token(token: str) -> SurveyInvitation:
    """The invitation of a token; raises LinkError("expired" | "invalid")."""
    pk = read_link_token(token, salt=SURVEY_SALT, key="i", max_age=token_max_age())
    invitation = (
        SurveyInvitation.objects.select_related("campaign__cpts", "practitioner")
        .filter(pk=pk)
        .first()
    )
    if invitation is None:
        raise LinkError(INVALID)
    return invitation


def survey_email(invitation: SurveyInvitation, *, reminder: bool) -> tuple[str, str]:
    """(subject, body) of the invitation or reminder e-mail: the CPTS name and the link only."""
    return render_message(
        MESSAGES.format("survey_email"),
        {
            "cpts_name": invitation.campaign.cpts.name,
            "days": token_max_age().days,
            "link": invitation_url(invitation),
            "reminder": reminder,
        },
        subject_template=MESSAGES.format("survey_subject"),
    )


def campaign_eligible_practitioners(cpts):
    return Practitioner.objects.present().in_cpts(cpts).exclude(email="")


@transaction.atomic
def survey_campaign_launch(
    *, cpts, title: str, reminder_after_days: int = 7, launched_by=None
) -> SurveyCampaign:
    """Create a campaign and queue one e-mail per present GP of the territory with an e-mail."""
    campaign = SurveyCampaign(
        cpts=cpts,
        title=title.strip(),
        reminder_after_days=reminder_after_days,
        launched_by=launched_by,
    )
    campaign.full_clean()
    campaign.save()
    for practitioner in campaign_eligible_practitioners(cpts):
        invitation = SurveyInvitation.objects.create(
            campaign=campaign, practitioner=practitioner, email=practitioner.email
        )
        subject, body = survey_email(invitation, reminder=False)
        outbox_enqueue(
            channel="email",
            to=invitation.email,
            subject=subject,
            body=body,
            topic=TOPIC_INVITATION,
            cpts=cpts,
            related=invitation,
            dedup_key=f"survey-invitation-{invitation.pk}",
        )
    return campaign


@transaction.atomic
def survey_answer(*, invitation: SurveyInvitation, form) -> AvailabilityDeclaration | None:
    """Record the answer of a valid DeclarationForm; None (errors on the form) when refused."""
    from .forms import declaration_save

    declaration = declaration_save(
        form,
        practitioner=invitation.practitioner,
        cpts=invitation.campaign.cpts,
        source="survey",
    )
    if declaration is not None:
        invitation.answered_at = timezone.now()
        invitation.declaration = declaration
        invitation.save(update_fields=["answered_at", "declaration"])
    return declaration


def survey_send_reminders(*, now: datetime.datetime | None = None) -> int:
    """Send one reminder per unanswered invitation older than its campaign's delay (and whose
    link is still valid). Periodic job; returns the number of reminders queued."""
    now = now or timezone.now()
    count = 0
    pending = SurveyInvitation.objects.select_related("campaign__cpts").filter(
        answered_at__isnull=True,
        reminded_at__isnull=True,
        sent_at__gt=now - token_max_age(),
    )
    for invitation in pending:
        delay = datetime.timedelta(days=invitation.campaign.reminder_after_days)
        if invitation.sent_at + delay > now:
            continue
        with transaction.atomic():
            claimed = SurveyInvitation.objects.filter(
                pk=invitation.pk, reminded_at__isnull=True, answered_at__isnull=True
            ).update(reminded_at=now)
            if not claimed:
                continue
            subject, body = survey_email(invitation, reminder=True)
            outbox_enqueue(
                channel="email",
                to=invitation.email,
                subject=subject,
                body=body,
                topic=TOPIC_REMINDER,
                cpts=invitation.campaign.cpts,
                related=invitation,
                dedup_key=f"survey-reminder-{invitation.pk}",
            )
            count += 1
    return count


def _response_aggregates() -> dict:
    return {
        "sent": Count("pk"),
        "answered": Count("pk", filter=Q(answered_at__isnull=False)),
        "reminded": Count("pk", filter=Q(reminded_at__isnull=False)),
    }


def response_counts(invitations) -> dict[str, int]:
    """THE definition of a survey's response figures, over any set of invitations (one campaign,
    the campaigns of a period: the offer indicators call it too): invitations sent, answered
    (at least one answer through the personal link), reminded. One aggregate query."""
    return invitations.order_by().aggregate(**_response_aggregates())


def response_counts_by_campaign(invitations) -> dict[int, dict[str, int]]:
    """`response_counts` for each campaign of `invitations`, in one grouped query."""
    rows = invitations.order_by().values("campaign").annotate(**_response_aggregates())
    return {row.pop("campaign"): row for row in rows}


def response_rate(answered: int, sent: int) -> int:
    """The response rate in whole % shown on the coordination's campaign pages (the indicator
    pages show the same share with `reporting.cells.Rate`)."""
    return round(100 * answered / sent) if sent else 0


def campaign_figures(campaign: SurveyCampaign) -> dict:
    """Counts only (no names): what the campaign page refreshes while it is open."""
    counts = response_counts(campaign.invitations.all())
    return {
        "answered": counts["answered"],
        "total": counts["sent"],
        "reminded": counts["reminded"],
        "rate": response_rate(counts["answered"], counts["sent"]),
    }


def campaign_stats(campaign: SurveyCampaign) -> dict:
    """The campaign's figures and its invitations (with the GPs' names, for the coordination)."""
    invitations = list(
        campaign.invitations.select_related("practitioner").order_by(
            "practitioner__last_name", "practitioner__first_name", "pk"
        )
    )
    return {"invitations": invitations, **campaign_figures(campaign)}


__all__ = [
    "campaign_figures",
    "campaign_stats",
    "invitation_from_token",
    "invitation_token",
    "invitation_url",
    "response_counts",
    "response_counts_by_campaign",
    "response_rate",
    "survey_answer",
    "survey_campaign_launch",
    "survey_email",
    "survey_send_reminders",
]
