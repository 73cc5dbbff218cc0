"""Write the accepted people of a CPAM list in one transaction (all or nothing): the `CpamList`,
one request per person (channel `cpam_list`, status `opt_out_pending`, `waiting_since` = the
list's date), its member, priority reasons and history line, the information message with the
opt-out link, and one audit line per request. Bulk inserts: the number of queries does not grow
with the people (one INSERT per 500 rows of each table).

Every value comes from the intake forms (`check`), which checked it as for a registration; the
models' `full_clean` is not run again per row (it cost a third of the write time), the database's
constraints hold the invariants and any failure rolls the whole list back."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone

from accesmt.accounts.actors import actor_or_none
from accesmt.accounts.models import AuditAction
from accesmt.accounts.services import audit_record_many
from accesmt.notifications.services import outbox_enqueue_many
from accesmt.territory.geocoding import commune_centre

from .. import priority
from ..models import (
    CPAM_LIST_BASIS_PREFIX,
    Channel,
    CpamList,
    HouseholdMember,
    IntakeSettings,
    Request,
    RequestPriorityReason,
    RequestTransition,
    Status,
    normalise_name,
)
from ..services import HOUSEHOLD_FIELDS, MEMBER_FIELDS
from .check import Checked
from .optout import OptOutLinks, opt_out_tell

BATCH_SIZE = 500
# The "consent" version of an imported request: the information text sent (opt-out basis).
CPAM_LIST_BASIS_VERSION = f"{CPAM_LIST_BASIS_PREFIX}2026-12"
GEOCODE_NOTE = "Liste importée : centre de la commune (adresse non géocodée)"


def list_start(list_date: datetime.date) -> datetime.datetime:
    """The list's date as the start of the wait (midnight, local time)."""
    return timezone.make_aware(datetime.datetime.combine(list_date, datetime.time()))


def cpam_list_apply(
    checked: Checked,
    *,
    cpts,
    campaign_name: str,
    list_date: datetime.date,
    opt_out_days: int,
    source: str,
    by=None,
    now: datetime.datetime | None = None,
) -> CpamList:
    now = now or timezone.now()
    by = actor_or_none(by)
    report = checked.report
    config = IntakeSettings.for_cpts(cpts)
    today = timezone.localdate(now)
    since = list_start(list_date)
    with transaction.atomic():
        cpam_list = CpamList(
            cpts=cpts,
            campaign_name=campaign_name,
            list_date=list_date,
            opt_out_days=opt_out_days,
            opt_out_ends_at=now + datetime.timedelta(days=opt_out_days),
            source=source,
            imported_by=by,
            imported_at=now,
            line_count=report.line_count,
            imported_count=report.accepted_count,
            duplicate_count=report.duplicate_count,
            refused_count=report.refused_count,
        )
        cpam_list.full_clean(exclude=["cpts", "imported_by"])
        cpam_list.save()
        requests: list[Request] = []
        members: list[HouseholdMember] = []
        reasons: list[tuple[Request, list]] = []
        for person in checked.people:
            household = person.household
            latitude, longitude, geocode_source = commune_centre(household["commune"])
            request = Request(
                cpts=cpts,
                channel=Channel.CPAM_LIST,
                status=Status.OPT_OUT_PENDING,
                cpam_list=cpam_list,
                consent_processing=False,
                consent_sharing=False,
                consent_text_version=CPAM_LIST_BASIS_VERSION,
                consented_at=now,
                created_by=by,
                created_at=now,
                waiting_since=since,
                latitude=latitude,
                longitude=longitude,
                geocode_source=geocode_source,
                geocode_message=GEOCODE_NOTE if geocode_source else "",
                usual_gp_rpps=person.usual_gp_rpps,
                usual_gp_name=person.usual_gp_name,
                **{name: household[name] for name in HOUSEHOLD_FIELDS if name in household},
            )
            member = HouseholdMember(
                request=request,
                cpts_id=request.cpts_id,
                position=0,
                is_contact_person=True,
                **{name: person.member[name] for name in MEMBER_FIELDS if name in person.member},
            )
            member.normalised_name = normalise_name(member.last_name, member.first_name)
            fired = priority.evaluate(request=request, members=[member], config=config, today=today)
            request.is_priority, request.priority_rule_count = bool(fired), len(fired)
            requests.append(request)
            members.append(member)
            reasons.append((request, fired))
        Request.objects.bulk_create(requests, batch_size=BATCH_SIZE)
        HouseholdMember.objects.bulk_create(members, batch_size=BATCH_SIZE)
        RequestPriorityReason.objects.bulk_create(
            (
                RequestPriorityReason(
                    request=request, member=fired.member, rule_code=fired.code, label=fired.label
                )
                for request, fired_rules in reasons
                for fired in fired_rules
            ),
            batch_size=BATCH_SIZE,
        )
        RequestTransition.objects.bulk_create(
            (
                RequestTransition(
                    request=request,
                    from_status="",
                    to_status=Status.OPT_OUT_PENDING,
                    by=by,
                    at=now,
                    reason="created",
                    note=Channel.CPAM_LIST.label,
                )
                for request in requests
            ),
            batch_size=BATCH_SIZE,
        )
        links, messages = OptOutLinks(), []
        for request in requests:
            opt_out_tell(request=request, cpam_list=cpam_list, now=now, links=links, into=messages)
        outbox_enqueue_many(messages, batch_size=BATCH_SIZE)
        audit_record_many(actor=by, action=AuditAction.CREATE, objects=requests, cpts=cpts)
    return cpam_list
