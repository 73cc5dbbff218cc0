"""Keeping the waiting list true: "Avez-vous toujours besoin d'un médecin traitant ?"

A household in status "waiting" for longer than the CPTS's `still_needed_after_days` (90 days by
default) gets a `StillNeededCheck` and a short message (e-mail and/or SMS, no name, no health
data) with a one-click signed link `suivi/<token>/toujours-besoin/`:

- "Oui, toujours": the answer is recorded, the wait goes on and `waiting_since` is kept (the
  household keeps its seniority in the queue); the next check comes one full delay after the
  answer.
- "Non, plus besoin": the request is closed as withdrawn by the person (`request_transition`,
  `by_patient=True`).
- No answer: a reminder every `still_needed_reminder_days` days, `still_needed_reminders` times;
  one more delay after the last reminder, the request is closed as "unreachable" (transition
  line with a note saying why). The coordinator sees it on `espace/<slug>/a-relancer/` for
  90 days and can reopen it (closed → to_verify).
- Households with neither e-mail nor mobile phone are not contacted automatically: their check
  has channel "call", gets no reminder and is never closed by the job; the coordinator calls them
  and records the answer on the same page.

The waiting time is counted from the latest of: `waiting_since`, the end of the previous check
(answered, closed as unreachable or cancelled), the last move back into "waiting" after an
orientation that came to nothing (from "proposing" or "awaiting_choice"). An open check whose
request left "waiting" (GPs asked, closed, back to verification) is cancelled.

`still_needed_run(now=)` is the periodic job `orientation.still_needed` (hourly); it is idempotent
(one open check per request, enforced by the database; messages carry a dedup key) and opens at
most `NEW_CHECKS_PER_RUN` checks per CPTS per run, the longest waiting first.
"""

from __future__ import annotations

import datetime
import logging
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import DateTimeField, Exists, F, Max, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce, Greatest
from django.urls import reverse
from django.utils import timezone

from accesmt.accounts.actors import actor_or_none
from accesmt.common.formats import long_date
from accesmt.common.links import public_url
from accesmt.common.signing import (
    INVALID,
    LinkError,
    check_link_age,
    make_link_token,
    read_link_token,
)
from accesmt.intake.lifecycle import request_transition
from accesmt.intake.models import ClosedReason, Request, RequestTransition, Status
from accesmt.intake.services import household_tell, message_channels, request_lock
from accesmt.notifications.messages import render_message
from accesmt.territory.models import CPTS

from .models import (
    ORIENTING,
    CheckChannel,
    OrientationSettings,
    StillNeededAnswer,
    StillNeededCheck,
)

if TYPE_CHECKING:
    from accesmt.accounts.models import User

logger = logging.getLogger(__name__)

TOKEN_SALT = "accesmt.orientation.still_needed"  # noqa: S105 - a signing salt
UNREACHABLE_LIST_DAYS = 90
# At most this many new checks per CPTS and per run (about 40 ms each, most of it the outbox).
NEW_CHECKS_PER_RUN = 200
# The link stays valid for the whole life of the check (reminders and the last delay) plus this.
TOKEN_GRACE_DAYS = 30


class StillNeededError(ValidationError):
    """The answer cannot be recorded now (French message); `code` says why: "answered",
    "unreachable", "cancelled", "not_waiting"."""


# --- links ---------------------------------------------------------------------------------------


def check_token(check: StillNeededCheck) -> str:
    return make_link_token(check.pk, salt=TOKEN_SALT, key="k")


def check_path(check: StillNeededCheck) -> str:
    return reverse("orientation:still_needed_answer", kwargs={"token": check_token(check)})


def check_url(check: StillNeededCheck) -> str:
    return public_url(check_path(check))


def link_lifetime(config: OrientationSettings) -> datetime.timedelta:
    days = config.still_needed_reminder_days * (config.still_needed_reminders + 1)
    return datetime.timedelta(days=days + TOKEN_GRACE_DAYS)


def check_from_token(token: str) -> StillNeededCheck:
    """The check a token designates, if its signature holds and it is not older than the life
    of a check (`link_lifetime`) of its CPTS."""
    pk = read_link_token(token, salt=TOKEN_SALT, key="k")
    check = (
        StillNeededCheck.objects.select_related(
            "cpts", "request", "request__cpts", "request__commune"
        )
        .filter(pk=pk)
        .first()
    )
    if check is None:
        raise LinkError(INVALID)
    lifetime = link_lifetime(OrientationSettings.for_cpts(check.cpts))
    check_link_age(token, salt=TOKEN_SALT, max_age=lifetime)
    return check


# --- messages (no name, no health data) ----------------------------------------------------------


def channel_of(request: Request) -> str:
    email, sms = message_channels(request)
    if email and sms:
        return CheckChannel.BOTH
    if email:
        return CheckChannel.EMAIL
    if sms:
        return CheckChannel.SMS
    return CheckChannel.CALL


STILL_NEEDED = "orientation/messages/still_needed_{}.txt"


def _texts(request: Request, *, link: str = "", reminder: int = 0) -> dict[str, str]:
    """The subject, e-mail, SMS and letter of the question (no name, no health data)."""
    context = {
        "cpts_name": request.cpts.name,
        "cpts_phone": request.cpts.phone,
        "reference": request.reference,
        "link": link,
        "reminder": reminder,
    }
    texts = {
        part: render_message(STILL_NEEDED.format(part), context)[1]
        for part in ("email", "sms", "letter")
    }
    texts["subject"] = render_message(STILL_NEEDED.format("subject"), context)[1].strip()
    return texts


def _send(check: StillNeededCheck, request: Request, *, now, reminder: int = 0) -> None:
    """The question (reminder = 0) or reminder number `reminder`, on the check's channels."""
    texts = _texts(request, link=check_url(check), reminder=reminder)
    household_tell(
        now=now,
        request=request,
        topic="orientation.still_needed_reminder" if reminder else "orientation.still_needed",
        subject=texts["subject"],
        email_body=texts["email"],
        sms_body=texts["sms"],
        related=check,
        channels=(
            check.channel in (CheckChannel.EMAIL, CheckChannel.BOTH),
            check.channel in (CheckChannel.SMS, CheckChannel.BOTH),
        ),
        dedup_key=f"orientation.still_needed.{check.pk}.{reminder}.{{channel}}",
    )


def _send_letter(check: StillNeededCheck, request: Request, *, now) -> None:
    """Neither e-mail nor mobile: the question by letter (the coordination also has the
    household in its list to call)."""
    texts = _texts(request)
    household_tell(
        now=now,
        request=request,
        topic="orientation.still_needed",
        subject=texts["subject"],
        letter_body=texts["letter"],
        channels=(False, False),
        dedup_key=f"orientation.still_needed.{check.pk}.0.{{channel}}",
    )


# --- the job -------------------------------------------------------------------------------------


def _last_check_end():
    return (
        StillNeededCheck.objects.filter(request=OuterRef("pk"))
        .annotate(
            ended=Coalesce(
                "answered_at",
                "closed_unreachable_at",
                "cancelled_at",
                output_field=DateTimeField(),
            )
        )
        .order_by()
        .values("request")
        .annotate(last=Max("ended"))
        .values("last")
    )


def _last_back_in_queue():
    return (
        RequestTransition.objects.filter(
            request=OuterRef("pk"),
            to_status=Status.WAITING,
            from_status__in=ORIENTING,
        )
        .order_by()
        .values("request")
        .annotate(last=Max("at"))
        .values("last")
    )


def _open_checks():
    return StillNeededCheck.objects.filter(
        answered_at__isnull=True, closed_unreachable_at__isnull=True, cancelled_at__isnull=True
    )


def due_requests(cpts, *, now: datetime.datetime, config: OrientationSettings | None = None):
    """Waiting requests of `cpts` without an open check whose wait (see the module docstring)
    exceeds the CPTS's delay, longest waiting first."""
    config = config or OrientationSettings.for_cpts(cpts)
    limit = now - datetime.timedelta(days=config.still_needed_after_days)
    return (
        Request.objects.filter(cpts=cpts, status=Status.WAITING, waiting_since__lte=limit)
        .annotate(
            counted_from=Greatest(
                F("waiting_since"),
                Coalesce(Subquery(_last_check_end()), F("waiting_since")),
                Coalesce(Subquery(_last_back_in_queue()), F("waiting_since")),
                output_field=DateTimeField(),
            )
        )
        .filter(counted_from__lte=limit)
        .exclude(Exists(_open_checks().filter(request=OuterRef("pk"))))
        .order_by("waiting_since", "pk")
    )


def _start_check(request_id: int, *, now: datetime.datetime) -> StillNeededCheck | None:
    with transaction.atomic():
        try:
            request = request_lock(request_id, related=("cpts",))
        except Request.DoesNotExist:
            return None
        if request.status != Status.WAITING or _open_checks().filter(request=request).exists():
            return None
        check = StillNeededCheck(
            cpts=request.cpts, request=request, channel=channel_of(request), sent_at=now
        )
        try:
            with transaction.atomic():
                check.save()
        except IntegrityError:  # another worker opened one at the same moment
            return None
        if check.channel != CheckChannel.CALL:
            _send(check, request, now=now)
        else:
            _send_letter(check, request, now=now)
    return check


def _follow_up(check_id: int, *, now: datetime.datetime) -> str:
    """Remind, or close as unreachable, one open check past its delay. Returns what was done:
    "reminded", "unreachable" or ""."""
    with transaction.atomic():
        # Same lock order as an answer (request, then check).
        request_id = StillNeededCheck.objects.filter(pk=check_id).values_list(
            "request_id", flat=True
        )[0]
        request = request_lock(request_id, related=("cpts",))
        check = (
            _open_checks()
            .select_for_update(of=("self",))
            .exclude(channel=CheckChannel.CALL)
            .filter(pk=check_id)
            .first()
        )
        if check is None or request.status != Status.WAITING:
            return ""
        config = OrientationSettings.for_cpts(request.cpts)
        last = check.last_reminder_at or check.sent_at
        if last + datetime.timedelta(days=config.still_needed_reminder_days) > now:
            return ""
        channel = channel_of(request)  # contact details may have changed since the question
        if channel == CheckChannel.CALL:  # nobody to write to any more: the coordinator calls
            check.channel = channel
            check.save(update_fields=["channel"])
            return ""
        if check.reminders_sent < config.still_needed_reminders:
            check.channel = channel
            check.reminders_sent += 1
            check.last_reminder_at = now
            check.save(update_fields=["channel", "reminders_sent", "last_reminder_at"])
            _send(check, request, now=now, reminder=check.reminders_sent)
            return "reminded"
        check.closed_unreachable_at = now
        check.save(update_fields=["closed_unreachable_at"])
        request_transition(
            now=now,
            request=request,
            to=Status.CLOSED,
            reason=ClosedReason.UNREACHABLE,
            note=(
                "Sans réponse à « Avez-vous toujours besoin d'un médecin traitant ? » "
                f"(question du {long_date(check.sent_at)}, "
                f"{check.reminders_sent} rappel(s))"
            ),
        )
        return "unreachable"


def still_needed_run(*, now: datetime.datetime | None = None) -> int:
    """Periodic job `orientation.still_needed`: cancel the open checks of requests that left the
    queue, remind or close the unanswered ones past their delay, open a check for every request
    waiting for too long. Idempotent. Returns how many checks it touched."""
    now = now or timezone.now()
    touched = _open_checks().exclude(request__status=Status.WAITING).update(cancelled_at=now)
    for cpts in CPTS.objects.filter(requests__status=Status.WAITING).distinct().order_by("pk"):
        config = OrientationSettings.for_cpts(cpts)
        # Follow-up first: a check closed as unreachable now does not open a new one below.
        last_limit = now - datetime.timedelta(days=config.still_needed_reminder_days)
        due = (
            _open_checks()
            .filter(cpts=cpts)
            .exclude(channel=CheckChannel.CALL)
            .filter(
                Q(last_reminder_at__lte=last_limit)
                | Q(last_reminder_at__isnull=True, sent_at__lte=last_limit)
            )
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        for check_id in list(due):
            if _follow_up(check_id, now=now):
                touched += 1
        # A backlog (first run, longer delay shortened) is spread over several runs, longest
        # waiting first: the worker is not held for minutes, nor the coordinator's phone.
        due_ids = due_requests(cpts, now=now, config=config).values_list("pk", flat=True)
        for request_id in list(due_ids[:NEW_CHECKS_PER_RUN]):
            if _start_check(request_id, now=now) is not None:
                touched += 1
    if touched:
        logger.info("still_needed_run: %d check(s) touched", touched)
    return touched


# --- answers -------------------------------------------------------------------------------------


def still_needed_answer(
    *,
    check: StillNeededCheck,
    answer: str,
    by: User | None = None,
    now: datetime.datetime | None = None,
) -> StillNeededCheck:
    """Record the person's answer (through the link, `by=None`) or the one a coordinator took by
    phone (`by=user`). "still_needed" keeps the request waiting with its `waiting_since`;
    "found_gp" closes it as MT found (the GP is not known: no Placement), "no_longer_needed" as
    withdrawn. Refused (StillNeededError) when the check is not
    open any more (answered, closed as unreachable, cancelled) or the request is not waiting."""
    if answer not in StillNeededAnswer.values:
        raise StillNeededError("Choisissez une réponse.", code="invalid")
    by = actor_or_none(by)
    now = now or timezone.now()
    with transaction.atomic():
        request = request_lock(check.request_id, related=("cpts",))
        locked = StillNeededCheck.objects.select_for_update().get(pk=check.pk)
        if locked.answered_at is not None:
            raise StillNeededError("Votre réponse est déjà enregistrée.", code="answered")
        if locked.closed_unreachable_at is not None:
            raise StillNeededError(
                "Faute de réponse, votre demande a été clôturée.", code="unreachable"
            )
        if locked.cancelled_at is not None or request.status != Status.WAITING:
            raise StillNeededError(
                "Votre demande a évolué depuis ce message : cette question ne se pose plus.",
                code="cancelled",
            )
        locked.answer = answer
        locked.answered_at = now
        locked.answered_by = by
        locked.save(update_fields=["answer", "answered_at", "answered_by"])
        if answer in (StillNeededAnswer.FOUND_GP, StillNeededAnswer.NO_LONGER_NEEDED):
            found = answer == StillNeededAnswer.FOUND_GP
            request_transition(
                now=now,
                request=request,
                to=Status.CLOSED,
                # A GP found by the person themselves still counts as "MT found" (no Placement:
                # the GP is not known).
                reason=ClosedReason.MT_FOUND if found else ClosedReason.WITHDRAWN,
                by=by,
                by_patient=by is None,
                note=(
                    (
                        "A trouvé un médecin traitant"
                        if found
                        else "Plus besoin d'un médecin traitant"
                    )
                    + " (réponse à « toujours besoin ? »"
                    + (", saisie par la coordination)" if by is not None else ")")
                ),
            )
    check.refresh_from_db()
    check.request.refresh_from_db()
    return check


# --- the coordinator's list ----------------------------------------------------------------------


def next_step_at(check: StillNeededCheck, config: OrientationSettings) -> datetime.datetime | None:
    """When the job will next remind (or close) this open check; None for "call" checks."""
    if check.channel == CheckChannel.CALL:
        return None
    last = check.last_reminder_at or check.sent_at
    return last + datetime.timedelta(days=config.still_needed_reminder_days)
