"""The demo's GP survey: a campaign of the Liévin CPTS launched three weeks ago.

Deterministic (a random.Random seeded from the demo seed). Every present GP gets a (demo)
e-mail address and an invitation; 57 % answered, as in the seed documents, most of them in
the first week, the others after the reminder sent on day 7 to everyone who had not answered
yet. Each answer is a new declaration (source "survey") taken from the GP's previous one,
sometimes changed (a GP who is now full, one who opens on request), as real answers do.
"""

from __future__ import annotations

import datetime as dt
import random

from django.utils import timezone

from accesmt.directory.models import (
    Accepting,
    DeclarationSource,
    Listing,
    Practitioner,
    SurveyCampaign,
    SurveyInvitation,
)
from accesmt.directory.selectors import latest_declaration
from accesmt.directory.services import declaration_create
from accesmt.directory.survey import survey_campaign_launch, survey_send_reminders

CAMPAIGN_AGE_DAYS = 21
ANSWERED_SHARE = 0.57  # response rate reported by the seed documents
REMINDER_AFTER_DAYS = 7
EARLY_SHARE = 0.6  # of the answers, those given before the reminder


def _demo_emails(cpts) -> None:
    """Demo GPs have no e-mail: give each present one a fictitious address (example.org)."""
    for practitioner in Practitioner.objects.present().in_cpts(cpts).filter(email=""):
        practitioner.email = f"medecin.{practitioner.pk}@medecins.example.org"
        practitioner.save(update_fields=["email", "updated_at"])


def _answer(rng: random.Random, invitation: SurveyInvitation, at: dt.datetime):
    cpts = invitation.campaign.cpts
    previous = latest_declaration(invitation.practitioner, cpts)
    accepting = previous.accepting if previous else rng.choice(list(Accepting.values))
    listing = previous.listing if previous else Listing.NOT_LISTED
    draw = rng.random()
    if accepting != Accepting.NO and draw < 0.15:
        accepting = Accepting.NO  # now full
    elif accepting == Accepting.NO and draw < 0.10:
        accepting = Accepting.ON_REQUEST  # opens a little
    taking = accepting != Accepting.NO
    radius = previous.home_visit_radius_km if previous else None
    capacity = (previous.monthly_capacity if previous else None) or rng.choice((2, 3, 4))
    declaration = declaration_create(
        practitioner=invitation.practitioner,
        cpts=cpts,
        accepting=accepting,
        listing=listing if taking else Listing.NOT_LISTED,
        source=DeclarationSource.SURVEY,
        monthly_capacity=capacity if taking else None,
        accepts_children_under_6=taking and (previous is None or previous.accepts_children_under_6),
        accepts_aged_70_plus=taking and (previous is None or previous.accepts_aged_70_plus),
        accepts_ald=taking and (previous is None or previous.accepts_ald),
        accepts_css_ame=taking and (previous is None or previous.accepts_css_ame),
        accepts_home_visits=taking and radius is not None,
        accepts_households=taking and (previous is None or previous.accepts_households),
        home_visit_radius_km=radius,
        planned_departure_date=previous.planned_departure_date if previous else None,
        approx_patient_count=previous.approx_patient_count if previous else None,
        declared_at=at,
    )
    SurveyInvitation.objects.filter(pk=invitation.pk).update(
        answered_at=at, declaration=declaration
    )


def _answer_times(rng, invitations, launched, cpts):
    """(time, invitation, declaration already given or None) of the answers, in order. A GP whose
    latest declaration postdates the launch answered through the campaign; others are drawn
    until ANSWERED_SHARE of the invitations have answered."""
    answers, rest = [], []
    for invitation in invitations:
        latest = latest_declaration(invitation.practitioner, cpts)
        if latest is not None and latest.declared_at >= launched:
            answers.append((latest.declared_at, invitation, latest))
        else:
            rest.append(invitation)
    wanted = max(0, round(ANSWERED_SHARE * len(invitations)) - len(answers))
    for invitation in rng.sample(rest, min(wanted, len(rest))):
        if rng.random() < EARLY_SHARE:
            days = rng.uniform(0.1, REMINDER_AFTER_DAYS - 0.5)
        else:
            days = rng.uniform(REMINDER_AFTER_DAYS + 0.2, CAMPAIGN_AGE_DAYS - 0.5)
        answers.append((launched + dt.timedelta(days=days), invitation, None))
    return sorted(answers, key=lambda answer: (answer[0], answer[1].pk))


def demo_survey_campaign_create(cpts, *, seed: int, launched_by=None, now=None):
    """Create the demo campaign of `cpts` (see module doc) and return it."""
    now = now or timezone.now()
    rng = random.Random(f"{seed}-survey")
    launched = now - dt.timedelta(days=CAMPAIGN_AGE_DAYS)
    _demo_emails(cpts)
    campaign = survey_campaign_launch(
        cpts=cpts,
        title="Enquête de disponibilité des médecins généralistes",
        reminder_after_days=REMINDER_AFTER_DAYS,
        launched_by=launched_by,
    )
    SurveyCampaign.objects.filter(pk=campaign.pk).update(launched_at=launched)
    campaign.invitations.update(sent_at=launched)
    invitations = list(
        campaign.invitations.select_related("campaign__cpts", "practitioner").order_by("pk")
    )
    reminder_at = launched + dt.timedelta(days=REMINDER_AFTER_DAYS)
    reminded = False
    for at, invitation, declaration in _answer_times(rng, invitations, launched, cpts):
        if not reminded and at >= reminder_at:
            survey_send_reminders(now=reminder_at)  # the product's own job, on day 7
            reminded = True
        if declaration is None:
            _answer(rng, invitation, at)
        else:
            SurveyInvitation.objects.filter(pk=invitation.pk).update(
                answered_at=at, declaration=declaration
            )
    if not reminded:
        survey_send_reminders(now=reminder_at)
    return campaign
