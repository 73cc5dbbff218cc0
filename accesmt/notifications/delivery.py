"""Delivery of due outbox messages, safe with several workers at once.

1. Claim: in a short transaction, pick due messages (pending and due, or "sending" whose lease
   has expired because a worker died) and mark them "sending" with this batch's token and a lease.
   PostgreSQL skips rows another worker has locked (`SKIP LOCKED`); SQLite serialises writers
   (BEGIN IMMEDIATE), and the conditional UPDATE re-checks the state in both cases.
2. Send outside any transaction: e-mail through Django's SMTP backend (one connection per batch),
   SMS through the SMS_PROVIDER.
3. Record each outcome with an UPDATE that only applies while this batch still holds the claim.

A message stays pending until it is delivered, refused for good (5xx for every recipient, or
the SMS provider says so), or still undelivered OUTBOX_RETRY_DAYS after it was queued: an outage
of hours or days loses nothing. Between attempts the delay doubles from
NOTIFICATIONS_BACKOFF_BASE_SECONDS up to NOTIFICATIONS_BACKOFF_MAX_SECONDS (1 hour), less up to
20 % of jitter. A message given up is never dropped silently: it is "undeliverable" (FAILED) and
listed to its CPTS's coordination as "à contacter par téléphone ou courrier". Logs carry ids,
topics, counts and error classes/SMTP codes: never a recipient, never a text.
"""

from __future__ import annotations

import logging
import random
import smtplib
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import make_msgid, parseaddr

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import Case, CharField, F, PositiveSmallIntegerField, Q, Value, When
from django.utils import timezone

from .models import REDACT_ONCE_DELIVERED, Channel, OutboxMessage, Status
from .sms import SMSPermanentError, get_sms_provider

logger = logging.getLogger(__name__)

SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"


@dataclass
class DeliveryStats:
    claimed: int = 0
    sent: int = 0
    retrying: int = 0  # failed this time, another attempt is scheduled
    failed: int = 0  # given up
    released: int = 0  # claimed but handed back untried (stop requested, lease nearly over)

    def __bool__(self) -> bool:
        return self.claimed > 0


def _setting(name: str, default):
    return getattr(settings, name, default)


def backoff_delay(attempts: int, *, rng: random.Random | None = None) -> timedelta:
    """Delay before the next attempt after `attempts` failed ones: base × 2^(attempts-1), capped,
    minus 0-20 % jitter so that messages failed together do not all come back together."""
    base = _setting("NOTIFICATIONS_BACKOFF_BASE_SECONDS", 60)
    cap = _setting("NOTIFICATIONS_BACKOFF_MAX_SECONDS", 3600)
    nominal = min(cap, base * 2 ** max(0, min(attempts - 1, 30)))
    factor = 1 - 0.2 * (rng or random).random()
    return timedelta(seconds=nominal * factor)


def describe_error(exc: BaseException) -> str:
    """Exception class and SMTP code(s) only: an SMTP message may quote the recipient."""
    name = type(exc).__name__
    code = ""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code = ",".join(str(c) for c in sorted({c for c, _ in exc.recipients.values()}))
    elif isinstance(exc, smtplib.SMTPResponseException):
        code = str(exc.smtp_code)
    return f"{name} {code}".strip()[:120]


def is_permanent(exc: BaseException) -> bool:
    """Retrying cannot help: every recipient refused with 5xx, or the SMS provider says so."""
    if isinstance(exc, SMSPermanentError):
        return True
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return bool(codes) and all(code >= 500 for code in codes)
    return False


def _due_q(now: datetime) -> Q:
    return Q(status=Status.PENDING, next_attempt_at__lte=now) | Q(
        status=Status.SENDING, locked_until__lte=now
    )


def _claim(*, limit: int, now: datetime, lease: timedelta) -> tuple[str, list[OutboxMessage]]:
    token = uuid.uuid4().hex
    with transaction.atomic():
        # Letters are printed by the coordination, never sent by a worker.
        candidates = (
            OutboxMessage.objects.filter(_due_q(now))
            .exclude(channel=Channel.LETTER)
            .order_by("next_attempt_at", "id")
        )
        if connection.features.has_select_for_update_skip_locked:
            candidates = candidates.select_for_update(skip_locked=True)
        ids = list(candidates.values_list("pk", flat=True)[:limit])
        if not ids:
            return token, []
        OutboxMessage.objects.filter(pk__in=ids).filter(_due_q(now)).update(
            # A claim taken over from a dead worker counts as one failed attempt.
            attempts=Case(
                When(status=Status.SENDING, then=F("attempts") + 1),
                default=F("attempts"),
                output_field=PositiveSmallIntegerField(),
            ),
            last_error=Case(
                When(status=Status.SENDING, then=Value("LeaseExpired")),
                default=F("last_error"),
                output_field=CharField(),
            ),
            status=Status.SENDING,
            claim_token=token,
            locked_until=now + lease,
        )
    claimed = list(
        OutboxMessage.objects.filter(claim_token=token).order_by("next_attempt_at", "id")
    )
    return token, claimed


# A lost database connection while an outcome is written (a restart): reconnect and write it
# again, waiting 1, 2, 4 then 8 s, so that a message already handed to the SMTP server is not
# left "sending" until its lease expires (and then sent a second time).
OUTCOME_WRITE_PAUSES = (1.0, 2.0, 4.0, 8.0)


def _write_outcome(write: Callable[[], object]) -> None:
    for pause in (*OUTCOME_WRITE_PAUSES, None):
        try:
            write()
            return
        except (OperationalError, InterfaceError) as exc:
            if pause is None or connection.in_atomic_block:
                raise
            logger.warning(
                "outbox : résultat non enregistré (%s), nouvel essai dans %.0f s",
                type(exc).__name__,
                pause,
            )
            connection.close()
            time.sleep(pause)


def _mine(message: OutboxMessage, token: str):
    return OutboxMessage.objects.filter(pk=message.pk, claim_token=token, status=Status.SENDING)


def _redacted(message: OutboxMessage, now: datetime) -> dict:
    """The fields that blank a message of REDACT_ONCE_DELIVERED once it is sent or given up."""
    if message.topic not in REDACT_ONCE_DELIVERED:
        return {}
    return {"recipient": "", "subject": "", "body": "", "redacted_at": now}


def _record_sent(message: OutboxMessage, token: str, *, now: datetime, provider_id: str) -> None:
    _mine(message, token).update(
        **_redacted(message, now),
        status=Status.SENT,
        sent_at=now,
        attempts=F("attempts") + 1,
        provider_id=(provider_id or "")[:120],
        last_error="",
        claim_token="",
        locked_until=None,
    )


def _record_failure(
    message: OutboxMessage, token: str, *, now: datetime, exc: BaseException, stats: DeliveryStats
) -> None:
    attempts = message.attempts + 1
    error = describe_error(exc)
    retry_until = message.created_at + timedelta(days=_setting("OUTBOX_RETRY_DAYS", 7))
    give_up = is_permanent(exc) or now >= retry_until
    common = {"attempts": attempts, "last_error": error, "claim_token": "", "locked_until": None}
    if give_up:
        _mine(message, token).update(
            status=Status.FAILED, failed_at=now, **common, **_redacted(message, now)
        )
        stats.failed += 1
        logger.error(
            "outbox %s (%s, %s) non distribuable après %d tentative(s) : %s ; "
            "signalé à la coordination",
            message.pk,
            message.channel,
            message.topic,
            attempts,
            error,
        )
    else:
        next_at = now + backoff_delay(attempts)
        _mine(message, token).update(status=Status.PENDING, next_attempt_at=next_at, **common)
        stats.retrying += 1
        logger.warning(
            "outbox %s (%s, %s) tentative %d en échec : %s ; nouvel essai à %s",
            message.pk,
            message.channel,
            message.topic,
            attempts,
            error,
            next_at.isoformat(timespec="seconds"),
        )


def _release(messages: list[OutboxMessage], token: str) -> int:
    return OutboxMessage.objects.filter(
        pk__in=[m.pk for m in messages], claim_token=token, status=Status.SENDING
    ).update(status=Status.PENDING, claim_token="", locked_until=None)


class _EmailSender:
    """One SMTP connection for the batch, opened on first use. When it cannot be opened, the
    other e-mails of the batch fail at once with the same error instead of each waiting."""

    def __init__(self):
        self.connection = get_connection(
            _setting("NOTIFICATIONS_EMAIL_BACKEND", SMTP_BACKEND), fail_silently=False
        )
        self.down: BaseException | None = None
        self.is_open = False

    def send(self, message: OutboxMessage) -> str:
        if self.down is not None:
            raise self.down
        if not self.is_open:
            try:
                self.connection.open()
            except Exception as exc:
                self.down = exc
                raise
            self.is_open = True
        from_email = _setting("NOTIFICATIONS_FROM_EMAIL", settings.DEFAULT_FROM_EMAIL)
        domain = parseaddr(from_email)[1].rpartition("@")[2] or "accesmt.local"
        message_id = make_msgid(idstring=f"outbox{message.pk}", domain=domain)
        email = EmailMessage(
            subject=message.subject,
            body=message.body,
            from_email=from_email,
            to=[message.recipient],
            headers={
                "Message-ID": message_id,
                "Auto-Submitted": "auto-generated",
                "X-Auto-Response-Suppress": "All",
            },
            connection=self.connection,
        )
        try:
            email.send()
        except (smtplib.SMTPServerDisconnected, OSError):
            self.close()  # the next message reopens (once)
            raise
        return message_id

    def close(self) -> None:
        if self.is_open:
            try:
                self.connection.close()
            except Exception as exc:  # noqa: BLE001 - a broken connection may fail to quit
                logger.debug("outbox : fermeture SMTP en erreur (%s)", type(exc).__name__)
            finally:
                self.is_open = False


def deliver_due(
    *,
    limit: int = 100,
    now: datetime | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> DeliveryStats:
    """Claim up to `limit` due messages and try to deliver each once."""
    now = now or timezone.now()
    lease_seconds = _setting("NOTIFICATIONS_LEASE_SECONDS", 600)
    lease = timedelta(seconds=lease_seconds)
    token, claimed = _claim(limit=limit, now=now, lease=lease)
    stats = DeliveryStats(claimed=len(claimed))
    if not claimed:
        return stats
    # Stop sending well before the lease ends, so no other worker can take a message over
    # while this one may still be sending it.
    deadline = time.monotonic() + lease_seconds * 0.8
    email_sender: _EmailSender | None = None
    sms_provider = None
    try:
        for index, message in enumerate(claimed):
            if (should_stop and should_stop()) or time.monotonic() > deadline:
                stats.released += _release(claimed[index:], token)
                break
            try:
                if message.channel == Channel.EMAIL:
                    email_sender = email_sender or _EmailSender()
                    provider_id = email_sender.send(message)
                else:
                    sms_provider = sms_provider or get_sms_provider()
                    provider_id = sms_provider.send(message.recipient, message.body)
            except Exception as exc:  # noqa: BLE001 - any failure is recorded and retried
                _write_outcome(
                    lambda message=message, exc=exc: _record_failure(
                        message, token, now=now, exc=exc, stats=stats
                    )
                )
            else:
                _write_outcome(
                    lambda message=message, provider_id=provider_id: _record_sent(
                        message, token, now=now, provider_id=str(provider_id or "")
                    )
                )
                stats.sent += 1
    finally:
        if email_sender is not None:
            email_sender.close()
    logger.info(
        "outbox : %d pris, %d envoyés, %d à réessayer, %d abandonnés, %d rendus",
        stats.claimed,
        stats.sent,
        stats.retrying,
        stats.failed,
        stats.released,
    )
    return stats
