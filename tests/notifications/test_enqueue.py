"""outbox_enqueue: validation, idempotence, transaction requirement; masking; retention."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accesmt.notifications.masking import mask_email, mask_phone, mask_recipient
from accesmt.notifications.models import OutboxMessage, Status
from accesmt.notifications.services import (
    OutsideTransactionError,
    outbox_enqueue,
    outbox_redact_old,
    outbox_retry,
)
from tests.accounts.factories import UserFactory
from tests.territory.factories import CPTSFactory

from .factories import OutboxMessageFactory

pytestmark = pytest.mark.django_db


def enqueue(**overrides):
    kwargs = {
        "channel": "email",
        "to": "camille.martin@exemple.fr",
        "subject": "Demande reçue — référence K7Q2ZP",
        "body": "Bonjour,\nVotre demande est enregistrée.",
        "topic": "intake.acknowledgment",
    }
    kwargs.update(overrides)
    with transaction.atomic():
        return outbox_enqueue(**kwargs)


def test_enqueue_email_stores_a_due_pending_message_with_its_context():
    cpts = CPTSFactory()
    related = UserFactory()  # any model instance: its label and pk are kept
    message = enqueue(cpts=cpts, related=related)
    message.refresh_from_db()
    assert message.status == Status.PENDING
    assert message.attempts == 0
    assert message.next_attempt_at <= timezone.now()
    assert message.recipient == "camille.martin@exemple.fr"
    assert message.cpts == cpts
    assert (message.related_type, message.related_id) == ("accounts.user", str(related.pk))
    assert message.dedup_key is None


def test_enqueue_sms_accepts_e164_numbers_of_france_and_overseas():
    for number in ("+33612345678", "+262692123456", "+590690123456"):
        assert enqueue(channel="sms", to=number, subject="", body="Réf. K7Q2ZP").recipient == number


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"channel": "fax"}, "channel"),
        ({"to": "pas-une-adresse"}, "to"),
        ({"to": "camille@"}, "to"),
        ({"to": ""}, "to"),
        ({"subject": ""}, "subject"),
        ({"subject": "Objet\nBcc: autre@exemple.fr"}, "subject"),
        ({"body": "   "}, "body"),
        ({"channel": "sms", "to": "0612345678", "subject": ""}, "to"),  # not E.164
        ({"channel": "sms", "to": "+33 6 12 34 56 78", "subject": ""}, "to"),
        ({"channel": "sms", "to": "+3361234", "subject": ""}, "to"),  # too short
        ({"channel": "sms", "to": "camille@exemple.fr", "subject": ""}, "to"),
        ({"channel": "sms", "to": "+33612345678", "subject": "Objet"}, "subject"),
        ({"channel": "sms", "to": "+33612345678", "subject": "", "body": "x" * 641}, "body"),
    ],
)
def test_enqueue_refuses_bad_input_naming_the_field(overrides, field):
    with pytest.raises(ValidationError) as excinfo:
        enqueue(**overrides)
    assert field in excinfo.value.message_dict
    assert OutboxMessage.objects.count() == 0


def test_same_dedup_key_returns_the_message_already_queued():
    first = enqueue(dedup_key="intake-ack-email-1")
    again = enqueue(dedup_key="intake-ack-email-1", body="Un autre texte")
    other = enqueue(dedup_key="intake-ack-email-2")
    assert again.pk == first.pk
    assert other.pk != first.pk
    assert OutboxMessage.objects.count() == 2
    assert OutboxMessage.objects.get(pk=first.pk).body.startswith("Bonjour")


def test_message_is_rolled_back_with_the_change_it_announces():
    with pytest.raises(RuntimeError), transaction.atomic():
        outbox_enqueue(channel="email", to="a@exemple.fr", subject="S", body="B", topic="t")
        raise RuntimeError("the change failed")
    assert OutboxMessage.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_enqueue_outside_a_transaction_is_a_programming_error():
    with pytest.raises(OutsideTransactionError):
        outbox_enqueue(channel="email", to="a@exemple.fr", subject="S", body="B", topic="t")
    assert OutboxMessage.objects.count() == 0


def test_masks_keep_only_what_identifies_nobody():
    assert mask_phone("+33612345642") == "+33 6 •• •• •• 42"
    assert mask_phone("+262692123456") == "+262 ••• 56"
    assert mask_phone("n'importe quoi") == "••••"
    assert mask_email("camille.martin@exemple.fr") == "c•••@e•••.fr"
    assert mask_recipient("sms", "+33612345642") == "+33 6 •• •• •• 42"
    assert mask_recipient("email", "") == ""


def test_retry_makes_pending_and_given_up_messages_due_but_not_sent_ones():
    later = timezone.now() + timedelta(hours=1)
    pending = OutboxMessageFactory(next_attempt_at=later, attempts=3)
    failed = OutboxMessageFactory(
        status=Status.FAILED, failed_at=timezone.now(), attempts=10, last_error="X"
    )
    sent = OutboxMessageFactory(status=Status.SENT, sent_at=timezone.now())
    now = timezone.now()
    assert outbox_retry(messages=OutboxMessage.objects.all(), now=now) == 2
    for message in (pending, failed):
        message.refresh_from_db()
        assert (message.status, message.next_attempt_at) == (Status.PENDING, now)
    sent.refresh_from_db()
    assert sent.status == Status.SENT


def test_old_delivered_and_given_up_messages_lose_their_personal_data(settings):
    settings.NOTIFICATIONS_RETENTION_DAYS = 30
    now = timezone.now()
    old = now - timedelta(days=31)
    old_sent = OutboxMessageFactory(status=Status.SENT, sent_at=old)
    old_failed = OutboxMessageFactory(status=Status.FAILED, failed_at=old)
    recent = OutboxMessageFactory(status=Status.SENT, sent_at=now - timedelta(days=2))
    old_pending = OutboxMessageFactory(next_attempt_at=old)  # never dropped before delivery
    assert outbox_redact_old(now=now) == 2
    for message in (old_sent, old_failed):
        message.refresh_from_db()
        assert (message.recipient, message.subject, message.body) == ("", "", "")
        assert message.redacted_at == now
    for message in (recent, old_pending):
        message.refresh_from_db()
        assert message.recipient and message.body and message.redacted_at is None
    assert outbox_redact_old(now=now) == 0
