"""Alerts six months before a declared departure (issue 11): the periodic job
`reporting.departure_alerts` tells, once per departure,

- the coordination (an e-mail to the CPTS address): the GP's name, the date, certain or
  probable, full or partial, and the number of patients at risk (the projection's count:
  declared, else the CPTS's default, half for a partial departure) — no patient data;
- the mairies of the communes the GP practises in (active members with the role "mairie" whose
  communes include one of them): an aggregate only — a GP of their commune(s) plans to leave in
  <month>, about N patients. Never the GP's name (a mairie's commune often has one or two GPs: the
  name would be the GP's news to give, not ours), and N rounded to the nearest 50 ("moins de
  50" below), counting only the GP's share in that mairie's communes (split evenly across sites).

A departure is the (GP, date) of the GP's latest declaration (`directory.selectors.
planned_departures`): a new declaration with the same date alerts nobody again; a new date is a
new departure, alerted again. Idempotent and safe on several workers: each message carries a
dedup key that the outbox holds unique (decision 0016)."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accesmt.accounts.models import Membership, Role
from accesmt.common.formats import long_date
from accesmt.common.links import public_url
from accesmt.directory.models import PracticeSite
from accesmt.directory.selectors import planned_departures
from accesmt.notifications.messages import render_message
from accesmt.notifications.services import outbox_enqueue
from accesmt.territory.models import CPTS

from .indicators.projection import departure_patients, settings_by_cpts
from .periods import add_months, month_label

ALERT_MONTHS = 6
MAIRIE_ROUNDING = 50
COORDINATION_MESSAGE = "reporting/messages/departure_alert_coordination{}.txt"
MAIRIE_MESSAGE = "reporting/messages/departure_alert_mairie{}.txt"


def rounded_for_mairie(patients: float) -> str:
    """ "environ 450", or "moins de 50": a mairie reads an order of magnitude, not a GP's list."""
    if patients < MAIRIE_ROUNDING:
        return f"moins de {MAIRIE_ROUNDING}"
    return f"environ {int(MAIRIE_ROUNDING * round(patients / MAIRIE_ROUNDING))}"


def _tell_coordination(cpts, declaration, patients: float, *, now) -> int:
    if not cpts.email:
        return 0
    subject, body = render_message(
        COORDINATION_MESSAGE.format(""),
        {
            "cpts_name": cpts.name,
            "gp_name": declaration.practitioner.display_name,
            "date": long_date(declaration.planned_departure_date),
            "certainty": declaration.departure_certainty_label,
            "scope": declaration.departure_scope_label,
            "patients": round(patients),
            "count_declared": declaration.approx_patient_count is not None,
            "link": public_url(
                reverse("directory:coordinator_directory", kwargs={"cpts_slug": cpts.slug})
            ),
        },
        subject_template=COORDINATION_MESSAGE.format("_subject"),
    )
    outbox_enqueue(
        now=now,
        channel="email",
        to=cpts.email,
        subject=subject,
        body=body,
        topic="reporting.departure_alert",
        cpts=cpts,
        related=declaration.practitioner,
        dedup_key=_key(cpts, declaration, "cpts"),
    )
    return 1


def _key(cpts, declaration, who: str) -> str:
    return (
        f"reporting.departure_alert.{cpts.pk}.{declaration.practitioner_id}."
        f"{declaration.planned_departure_date.isoformat()}.{who}"
    )


def _tell_mairies(cpts, declaration, patients: float, communes: list[str], *, now) -> int:
    """One e-mail per mairie member whose communes include one of the GP's: their share."""
    told = 0
    memberships = (
        Membership.objects.filter(
            cpts=cpts,
            role=Role.MAIRIE,
            is_active=True,
            user__is_active=True,
            communes__in=set(communes),
        )
        .distinct()
        .select_related("user")
        .prefetch_related("communes")
    )
    for membership in memberships:
        theirs = {c.pk for c in membership.communes.all()}
        share = patients * sum(1 for c in communes if c in theirs) / len(communes)
        subject, body = render_message(
            MAIRIE_MESSAGE.format(""),
            {
                "cpts_name": cpts.name,
                "month": month_label(declaration.planned_departure_date),
                "patients": rounded_for_mairie(share),
                "several_communes": len(theirs) > 1,
            },
            subject_template=MAIRIE_MESSAGE.format("_subject"),
        )
        outbox_enqueue(
            now=now,
            channel="email",
            to=membership.user.email,
            subject=subject,
            body=body,
            topic="reporting.departure_alert_mairie",
            cpts=cpts,
            dedup_key=_key(cpts, declaration, f"mairie.{membership.pk}"),
        )
        told += 1
    return told


def departure_alerts_send(*, now: datetime.datetime | None = None) -> int:
    """Tell the coordination and the mairies of every departure dated from today to six months
    ahead not told yet; return the number of messages queued (or found queued)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    horizon = add_months(today, ALERT_MONTHS) + datetime.timedelta(days=1)
    count = 0
    for cpts in CPTS.objects.filter(is_active=True).order_by("pk"):
        departures = list(
            planned_departures([cpts.pk], on_or_after=today, before=horizon).select_related(
                "practitioner"
            )
        )
        if not departures:
            continue
        setting = settings_by_cpts([cpts.pk])[cpts.pk]
        for declaration in departures:
            communes = list(
                PracticeSite.objects.filter(
                    practitioner_id=declaration.practitioner_id,
                    is_gone=False,
                    commune__territory__cpts=cpts,
                )
                .order_by("pk")
                .values_list("commune_id", flat=True)
            )
            if not communes:
                continue
            patients = departure_patients(declaration, setting)
            with transaction.atomic():
                count += _tell_coordination(cpts, declaration, patients, now=now)
                count += _tell_mairies(cpts, declaration, patients, communes, now=now)
    return count
