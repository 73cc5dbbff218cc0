"""Writes to the outbox. Other apps call `outbox_enqueue` inside the transaction of the change the
message announces: the message exists exactly when the change does."""

from __future__ import annotations

from datetime import datetime, timedelta

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, connection, transaction
from django.db.models import Model, Q, QuerySet
from django.utils import timezone

from .models import Channel, OutboxMessage, Status

SMS_MAX_LENGTH = 640  # four concatenated SMS segments (GSM 7-bit 153 characters each is 612)


class OutsideTransactionError(RuntimeError):
    """outbox_enqueue was called in autocommit mode: the message would not share the fate of the
    change it announces."""


def _validate_recipient(channel: str, to: str) -> str:
    to = (to or "").strip()
    if channel == Channel.LETTER:
        return to
    if channel == Channel.EMAIL:
        try:
            validate_email(to)
        except ValidationError:
            raise ValidationError({"to": "Adresse e-mail invalide."}) from None
        return to
    try:
        number = phonenumbers.parse(to, None)
    except phonenumbers.NumberParseException:
        raise ValidationError(
            {"to": "Numéro de téléphone invalide : format international attendu (+33…)."}
        ) from None
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if not phonenumbers.is_valid_number(number) or e164 != to:
        raise ValidationError(
            {"to": "Numéro de téléphone invalide : format international attendu (+33…)."}
        )
    return e164


def _text_errors(channel: str, subject: str, body: str) -> dict[str, str]:
    """What is wrong with a message's subject and body for its channel, by field."""
    errors: dict[str, str] = {}
    if channel in (Channel.EMAIL, Channel.LETTER) and not subject.strip():
        errors["subject"] = "Un e-mail ou un courrier doit avoir un objet."
    if "\n" in subject or "\r" in subject:
        errors["subject"] = "L'objet tient sur une ligne."
    if channel == Channel.SMS and subject:
        errors["subject"] = "Un SMS n'a pas d'objet."
    if not body.strip():
        errors["body"] = "Le texte du message est vide."
    if channel == Channel.SMS and len(body) > SMS_MAX_LENGTH:
        errors["body"] = f"Un SMS fait au plus {SMS_MAX_LENGTH} caractères."
    return errors


def outbox_message_build(
    *,
    channel: str,
    to: str,
    subject: str = "",
    body: str,
    topic: str,
    cpts=None,
    related: Model | None = None,
    dedup_key: str | None = None,
    now: datetime | None = None,
    check_cpts: bool = True,
) -> OutboxMessage:
    """The message `outbox_enqueue` would queue, checked but not saved (`check_cpts=False` skips
    the query that checks the CPTS exists, for a caller that holds a saved one)."""
    if channel not in Channel.values:
        raise ValidationError({"channel": f"Canal inconnu : {channel!r}."})
    if channel == Channel.LETTER:
        if related is None or related._meta.label_lower != "intake.request":
            raise ValidationError({"related": "Un courrier est lié à une demande."})
        to = related.reference
    recipient = _validate_recipient(channel, to)
    if errors := _text_errors(channel, subject, body):
        raise ValidationError(errors)
    message = OutboxMessage(
        channel=channel,
        recipient=recipient,
        subject=subject.strip(),
        body=body,
        topic=topic,
        cpts=cpts,
        related_type=related._meta.label_lower if related is not None else "",
        related_id=str(related.pk) if related is not None else "",
        dedup_key=dedup_key or None,
        created_at=now or timezone.now(),
        next_attempt_at=now or timezone.now(),
    )
    # Field checks only: uniqueness and CheckConstraints are the database's job (race-safe, and
    # validating them here would cost one query per constraint for every message).
    exclude = ["dedup_key"] if check_cpts else ["dedup_key", "cpts"]
    message.full_clean(exclude=exclude, validate_constraints=False)
    return message


def outbox_enqueue(
    *,
    channel: str,
    to: str,
    subject: str = "",
    body: str,
    topic: str,
    cpts=None,
    related: Model | None = None,
    dedup_key: str | None = None,
    now: datetime | None = None,
) -> OutboxMessage:
    """Queue one e-mail, SMS or letter. Must run inside the caller's `transaction.atomic()`
    (raises OutsideTransactionError otherwise). `body` and `subject` must hold no health data
    and no name: that is the caller's job. A letter (channel "letter", for a household with
    neither e-mail nor mobile) is related to its intake request, whose reference is its `to`:
    the name and postal address are read from the request when the coordination prints it.
    With `dedup_key`, a second call with the same key returns the message already queued
    instead of queueing another one."""
    if not connection.in_atomic_block:
        raise OutsideTransactionError(
            "outbox_enqueue must run inside transaction.atomic(), with the change it announces."
        )
    message = outbox_message_build(
        channel=channel,
        to=to,
        subject=subject,
        body=body,
        topic=topic,
        cpts=cpts,
        related=related,
        dedup_key=dedup_key,
        now=now,
    )
    if dedup_key:
        existing = OutboxMessage.objects.filter(dedup_key=dedup_key).first()
        if existing is not None:
            return existing
    try:
        with transaction.atomic():  # savepoint: a lost race must not break the caller's transaction
            message.save()
    except IntegrityError:
        if dedup_key:
            existing = OutboxMessage.objects.filter(dedup_key=dedup_key).first()
            if existing is not None:
                return existing
        raise
    return message


def outbox_enqueue_many(messages: list[OutboxMessage], *, batch_size: int = 500) -> int:
    """Queue messages built by `outbox_message_build` in bulk (an import telling thousands of
    people, the send of an allocation run), inside the caller's transaction. A dedup key here
    must be new (the key of a row created in the same transaction): unlike `outbox_enqueue`, a
    key already queued is not looked up, the database refuses it (IntegrityError) and the
    caller's transaction, change included, is rolled back."""
    if not connection.in_atomic_block:
        raise OutsideTransactionError(
            "outbox_enqueue_many must run inside transaction.atomic(), with the change."
        )
    OutboxMessage.objects.bulk_create(messages, batch_size=batch_size)
    return len(messages)


def outbox_retry(*, messages: QuerySet[OutboxMessage], now: datetime | None = None) -> int:
    """Make pending or given-up messages due now (admin "retry now"). Sent messages, and those a
    worker is sending right now, are left alone. A given-up message gets one more attempt."""
    now = now or timezone.now()
    return (
        messages.filter(Q(status=Status.PENDING) | Q(status=Status.FAILED))
        .exclude(channel=Channel.LETTER)
        .filter(redacted_at__isnull=True)
        .update(
            status=Status.PENDING,
            next_attempt_at=now,
            claim_token="",
            locked_until=None,
            failed_at=None,
            handled_at=None,
        )
    )


def letter_mark_sent(*, message: OutboxMessage, now: datetime | None = None) -> bool:
    """The coordination printed and posted a letter. False when it was already marked."""
    now = now or timezone.now()
    return bool(
        OutboxMessage.objects.filter(
            pk=message.pk, channel=Channel.LETTER, status=Status.PENDING
        ).update(status=Status.SENT, sent_at=now, attempts=1)
    )


def undeliverable_mark_handled(*, message: OutboxMessage, now: datetime | None = None) -> bool:
    """The coordination reached the person another way (phone, letter). False when it was
    already marked, or the message is not undeliverable."""
    now = now or timezone.now()
    return bool(
        OutboxMessage.objects.filter(
            pk=message.pk, status=Status.FAILED, handled_at__isnull=True
        ).update(handled_at=now)
    )


def outbox_redact_old(*, now: datetime | None = None) -> int:
    """Blank the recipient and the text of messages delivered or given up more than
    NOTIFICATIONS_RETENTION_DAYS ago; the row stays for counts (topic, status, dates)."""
    now = now or timezone.now()
    days = getattr(settings, "NOTIFICATIONS_RETENTION_DAYS", 30)
    limit = now - timedelta(days=days)
    return (
        OutboxMessage.objects.filter(redacted_at__isnull=True)
        .filter(
            Q(status=Status.SENT, sent_at__lt=limit) | Q(status=Status.FAILED, failed_at__lt=limit)
        )
        .update(recipient="", subject="", body="", redacted_at=now)
    )


def outbox_redact(*, messages: QuerySet[OutboxMessage], now: datetime | None = None) -> int:
    """Blank the recipient and the text of `messages` now (a person's data erased); those not
    delivered yet are given up and marked handled, so that nobody retries or calls them."""
    now = now or timezone.now()
    messages.filter(status__in=(Status.PENDING, Status.SENDING)).update(
        status=Status.FAILED,
        failed_at=now,
        handled_at=now,
        last_error="données effacées à la demande de la personne",
        claim_token="",
        locked_until=None,
    )
    return messages.filter(redacted_at__isnull=True).update(
        recipient="", subject="", body="", redacted_at=now
    )
