"""The opt-out period of a CPAM list (docs/decisions/0015-cpam-lists.md).

Each person imported is told (e-mail and/or SMS, or a letter to print: `household_tell`) that the
CPTS will help them find a médecin traitant and that they may refuse until the end of the list's
period, by the signed link of the message (public page "Je ne souhaite pas être aidé(e)"), by
replying or by phone (the coordinator records it from the request page). A refusal closes the
request with `ClosedReason.OPTED_OUT`. At the end of the period, `cpam_lists_release_due` (a
periodic job) moves the requests still pending into the queue (`waiting`); their `waiting_since`
is the list's date since the import: the seniority the CPAM's list gives them."""

from __future__ import annotations

import datetime
import logging

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accesmt.common.formats import long_date
from accesmt.common.links import public_url
from accesmt.common.signing import INVALID, LinkError, make_link_token, read_link_token
from accesmt.notifications.messages import render_message

from ..lifecycle import request_transition, requests_transition_many
from ..models import ClosedReason, CpamList, Request, Status
from ..services import household_tell

logger = logging.getLogger(__name__)

OPT_OUT_SALT = "accesmt.intake.cpam_opt_out"
# The link stays usable after the period: a person who refuses later is heard as well.
OPT_OUT_LINK_DAYS = 400
MESSAGE = "intake/messages/cpam_opt_out_{}.txt"
TOPIC = "intake.cpam_opt_out"


def opt_out_token(request: Request) -> str:
    return make_link_token(request.pk, salt=OPT_OUT_SALT, key="r")


def opt_out_url(request: Request) -> str:
    return OptOutLinks().url(request)


class OptOutLinks:
    """The refusal links of many requests: the URL pattern is reversed once."""

    PLACEHOLDER = "TOKEN"

    def __init__(self):
        path = reverse("intake:cpam_opt_out", kwargs={"token": self.PLACEHOLDER})
        self._prefix, self._suffix = public_url(path).split(self.PLACEHOLDER)

    def url(self, request: Request) -> str:
        return f"{self._prefix}{opt_out_token(request)}{self._suffix}"


def request_for_opt_out_token(token: str) -> Request:
    """The request of a CPAM list an opt-out token designates; LinkError otherwise."""
    pk = read_link_token(
        token, salt=OPT_OUT_SALT, key="r", max_age=datetime.timedelta(days=OPT_OUT_LINK_DAYS)
    )
    request = Request.objects.select_related("cpts", "cpam_list").filter(pk=pk).first()
    if request is None or request.cpam_list is None:
        raise LinkError(INVALID)
    return request


def opt_out_context(
    request: Request, cpam_list: CpamList, links: OptOutLinks | None = None
) -> dict[str, str]:
    """Reference, link, dates and how to reach the coordination: no name, no health data."""
    return {
        "cpts_name": request.cpts.name,
        "cpts_phone": request.cpts.phone,
        "reference": request.reference,
        "opt_out_url": (links or OptOutLinks()).url(request),
        "deadline": long_date(timezone.localtime(cpam_list.opt_out_ends_at).date()),
    }


def opt_out_tell(
    *,
    request: Request,
    cpam_list: CpamList,
    now=None,
    links: OptOutLinks | None = None,
    into: list | None = None,
) -> int:
    """Queue the information of one imported person (inside the import's transaction); with
    `into`, append the messages there for a bulk insert (`household_tell`)."""
    context = opt_out_context(request, cpam_list, links)
    subject, email_body = render_message(
        MESSAGE.format("email"), context, subject_template=MESSAGE.format("subject")
    )
    return household_tell(
        now=now,
        request=request,
        topic=TOPIC,
        subject=subject,
        email_body=email_body,
        sms_body=render_message(MESSAGE.format("sms"), context)[1],
        letter_body=render_message(MESSAGE.format("letter"), context)[1],
        into=into,
    )


def cpam_opt_out_record(*, request: Request, by=None, by_patient: bool = False, note: str = ""):
    """The person refuses the CPTS's help: the request is closed as "opted out" (counted per
    list). From the link (`by_patient`) or recorded by a coordinator (`by`)."""
    return request_transition(
        request=request,
        to=Status.CLOSED,
        reason=ClosedReason.OPTED_OUT,
        by=by,
        by_patient=by_patient,
        note=note or ("Refus par la personne (lien)" if by_patient else "Refus de la personne"),
    )


def cpam_lists_release_due(*, now: datetime.datetime | None = None) -> int:
    """Periodic job: every list whose opt-out period has ended puts its requests still pending
    into the queue (`waiting`, one history line each), then is marked released. Idempotent:
    only the requests still pending move. Returns how many requests moved."""
    now = now or timezone.now()
    moved = 0
    due = CpamList.objects.filter(released_at__isnull=True, opt_out_ends_at__lte=now)
    for cpam_list in due.order_by("opt_out_ends_at", "pk"):
        with transaction.atomic():
            pending = Request.objects.filter(cpam_list=cpam_list, status=Status.OPT_OUT_PENDING)
            moved += requests_transition_many(
                requests=pending,
                from_status=Status.OPT_OUT_PENDING,
                to=Status.WAITING,
                reason="opt_out_period_over",
                note="Fin de la période d'opposition (liste de la CPAM) : en file d'attente",
                now=now,
            )
            CpamList.objects.filter(pk=cpam_list.pk).update(released_at=now)
    if moved:
        logger.info("intake: %s requests of CPAM lists entered the queue", moved)
    return moved
