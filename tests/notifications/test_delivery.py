"""deliver_due over a real local SMTP server (tests/smtp_server.py) and through SMS providers:
delivery, outage and recovery, backoff, give-up, claims, logs without personal data."""

import logging
import smtplib
import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from accesmt.notifications import sms
from accesmt.notifications.delivery import backoff_delay, deliver_due, describe_error
from accesmt.notifications.models import OutboxMessage, Status
from accesmt.notifications.services import outbox_enqueue

from .factories import OutboxMessageFactory

pytestmark = pytest.mark.django_db

ACCENTED_BODY = (
    "Bonjour,\n\nLa CPTS de Liévin a bien reçu votre demande d'aide pour trouver un médecin "
    "traitant.\nRéférence : K7Q2ZP — à conserver.\nÀ bientôt, l'équipe de coordination.\n"
)


class RecordingSMSProvider:
    sent: list[tuple[str, str]] = []

    def send(self, to, body):
        self.sent.append((to, body))
        return f"fake-{len(self.sent)}"


class FailingSMSProvider:
    def send(self, to, body):
        raise ConnectionError(f"gateway unreachable while sending to {to}")


class RefusingSMSProvider:
    def send(self, to, body):
        raise sms.SMSPermanentError(f"number {to} blocked")


class SlowSMSProvider(RecordingSMSProvider):
    lock = threading.Lock()

    def send(self, to, body):
        time.sleep(0.05)
        with self.lock:
            return super().send(to, body)


@pytest.fixture
def sms_provider(settings):
    def use(cls):
        settings.SMS_PROVIDER = f"{__name__}.{cls.__name__}"
        cls.sent = []
        return cls

    return use


def test_email_is_delivered_over_smtp_with_french_accents(smtp_server, settings):
    settings.NOTIFICATIONS_FROM_EMAIL = "CPTS de Liévin <ne-pas-repondre@accesmt.example>"
    with transaction.atomic():
        message = outbox_enqueue(
            channel="email",
            to="camille.martin@exemple.fr",
            subject="Votre demande de médecin traitant — référence K7Q2ZP",
            body=ACCENTED_BODY,
            topic="intake.acknowledgment",
        )
    stats = deliver_due()
    assert (stats.claimed, stats.sent, stats.retrying, stats.failed) == (1, 1, 0, 0)
    [received] = smtp_server.messages
    # Django folds long encoded subjects after "Subject:"; unfolding leaves one leading space.
    assert received["Subject"].strip() == "Votre demande de médecin traitant — référence K7Q2ZP"
    assert received["From"] == "CPTS de Liévin <ne-pas-repondre@accesmt.example>"
    assert received["To"] == "camille.martin@exemple.fr"
    assert received["Auto-Submitted"] == "auto-generated"
    assert received.get_content().replace("\r\n", "\n") == ACCENTED_BODY
    assert smtp_server.envelopes == [
        ("ne-pas-repondre@accesmt.example", ["camille.martin@exemple.fr"])
    ]
    message.refresh_from_db()
    assert message.status == Status.SENT
    assert message.attempts == 1
    assert message.sent_at is not None
    # A long Message-ID (long host name) is folded onto a continuation line: compare unfolded.
    assert message.provider_id == received["Message-ID"].strip()
    assert deliver_due().claimed == 0  # nothing sent twice


def test_one_smtp_connection_serves_the_whole_batch(smtp_server, monkeypatch):
    OutboxMessageFactory.create_batch(5)
    opened = []
    real_init = smtplib.SMTP.__init__

    def counting_init(self, *args, **kwargs):
        opened.append(1)
        real_init(self, *args, **kwargs)

    monkeypatch.setattr(smtplib.SMTP, "__init__", counting_init)
    assert deliver_due().sent == 5
    assert len(smtp_server.messages) == 5
    assert len(opened) == 1


def test_smtp_outage_loses_nothing_and_delivery_resumes_on_the_same_port(smtp_server, settings):
    settings.NOTIFICATIONS_BACKOFF_BASE_SECONDS = 60
    settings.NOTIFICATIONS_BACKOFF_MAX_SECONDS = 3600
    messages = OutboxMessageFactory.create_batch(3)
    port = smtp_server.port
    smtp_server.stop()

    now = timezone.now()
    stats = deliver_due(now=now)
    assert (stats.claimed, stats.sent, stats.retrying) == (3, 0, 3)
    for message in messages:
        message.refresh_from_db()
        assert message.status == Status.PENDING
        assert message.attempts == 1
        assert message.last_error == "ConnectionRefusedError"
        assert now + timedelta(seconds=48) <= message.next_attempt_at <= now + timedelta(seconds=60)
    assert deliver_due(now=now).claimed == 0  # not due again before the backoff

    later = now + timedelta(minutes=1, seconds=1)
    assert deliver_due(now=later).retrying == 3  # still down: second failure, longer wait
    for message in messages:
        message.refresh_from_db()
        assert message.attempts == 2
        assert (
            later + timedelta(seconds=96)
            <= message.next_attempt_at
            <= later + timedelta(seconds=120)
        )

    smtp_server.start()
    assert smtp_server.port == port
    stats = deliver_due(now=later + timedelta(minutes=3))
    assert (stats.sent, stats.retrying) == (3, 0)
    assert sorted(m["To"] for m in smtp_server.messages) == sorted(m.recipient for m in messages)
    assert OutboxMessage.objects.filter(status=Status.SENT, attempts=3).count() == 3
    assert deliver_due(now=later + timedelta(hours=2)).claimed == 0
    assert len(smtp_server.messages) == 3  # no duplicates


def test_backoff_doubles_with_jitter_and_is_capped(settings):
    settings.NOTIFICATIONS_BACKOFF_BASE_SECONDS = 60
    settings.NOTIFICATIONS_BACKOFF_MAX_SECONDS = 3600
    for attempts, nominal in [(1, 60), (2, 120), (3, 240), (6, 1920), (7, 3600), (40, 3600)]:
        delays = {backoff_delay(attempts).total_seconds() for _ in range(20)}
        assert all(0.8 * nominal <= d <= nominal for d in delays), (attempts, delays)
        assert len(delays) > 1  # jittered


def test_an_outage_of_a_day_is_retried_hourly_and_delivered_afterwards(smtp_server, settings):
    """Ten failed attempts (about 4 hours) no longer give the message up: it is retried at most
    an hour apart and delivered when the server is back, a day later."""
    settings.NOTIFICATIONS_BACKOFF_BASE_SECONDS = 60
    settings.NOTIFICATIONS_BACKOFF_MAX_SECONDS = 3600
    settings.OUTBOX_RETRY_DAYS = 7
    now = timezone.now()
    message = OutboxMessageFactory(created_at=now, next_attempt_at=now)
    smtp_server.stop()
    for _ in range(24):
        assert deliver_due(now=now).retrying == 1
        message.refresh_from_db()
        assert message.status == Status.PENDING
        assert message.next_attempt_at - now <= timedelta(hours=1)
        now = message.next_attempt_at
    assert message.attempts == 24
    smtp_server.start()
    assert deliver_due(now=now).sent == 1
    message.refresh_from_db()
    assert message.status == Status.SENT
    assert len(smtp_server.messages) == 1


def test_gives_up_only_after_the_retry_days_and_says_so(smtp_server, settings, caplog):
    settings.OUTBOX_RETRY_DAYS = 2
    created = timezone.now()
    message = OutboxMessageFactory(created_at=created, next_attempt_at=created)
    smtp_server.stop()
    assert deliver_due(now=created + timedelta(days=2) - timedelta(minutes=1)).retrying == 1
    message.refresh_from_db()
    assert message.status == Status.PENDING
    with caplog.at_level(logging.ERROR, logger="accesmt.notifications.delivery"):
        stats = deliver_due(now=created + timedelta(days=2, hours=1))
    assert stats.failed == 1
    message.refresh_from_db()
    assert message.status == Status.FAILED
    assert message.failed_at is not None
    assert "non distribuable" in caplog.text and message.recipient not in caplog.text
    assert deliver_due(now=created + timedelta(days=3)).claimed == 0


def test_recipient_refused_with_5xx_is_given_up_at_once_and_other_mails_go(smtp_server):
    refused, accepted = OutboxMessageFactory.create_batch(2)
    smtp_server.refuse_next(1, code=550)
    stats = deliver_due()
    assert (stats.sent, stats.failed) == (1, 1)
    refused.refresh_from_db()
    accepted.refresh_from_db()
    assert (refused.status, refused.last_error) == (Status.FAILED, "SMTPRecipientsRefused 550")
    assert accepted.status == Status.SENT
    assert [m["To"] for m in smtp_server.messages] == [accepted.recipient]


def test_temporary_refusal_4xx_is_retried(smtp_server):
    message = OutboxMessageFactory()
    smtp_server.refuse_next(1, code=450)
    assert deliver_due().retrying == 1
    message.refresh_from_db()
    assert (message.status, message.last_error) == (Status.PENDING, "SMTPRecipientsRefused 450")


def test_error_descriptions_never_quote_the_recipient():
    refused = smtplib.SMTPRecipientsRefused({"camille@exemple.fr": (550, b"no camille@exemple.fr")})
    assert describe_error(refused) == "SMTPRecipientsRefused 550"
    assert describe_error(smtplib.SMTPSenderRefused(553, b"x", "a@b.fr")) == "SMTPSenderRefused 553"
    assert describe_error(ConnectionError("to +33612345678")) == "ConnectionError"


def test_a_message_claimed_by_a_live_worker_is_not_taken_again(smtp_server, settings):
    settings.NOTIFICATIONS_LEASE_SECONDS = 600
    message = OutboxMessageFactory()
    now = timezone.now()
    # Another worker holds it (claimed, sending, lease running).
    OutboxMessage.objects.filter(pk=message.pk).update(
        status=Status.SENDING, claim_token="other", locked_until=now + timedelta(seconds=600)
    )
    assert deliver_due(now=now).claimed == 0
    assert deliver_due(now=now + timedelta(seconds=599)).claimed == 0
    assert smtp_server.messages == []


def test_a_dead_workers_claim_expires_and_the_message_is_delivered(smtp_server):
    message = OutboxMessageFactory()
    now = timezone.now()
    OutboxMessage.objects.filter(pk=message.pk).update(
        status=Status.SENDING, claim_token="dead", locked_until=now - timedelta(seconds=1)
    )
    assert deliver_due(now=now).sent == 1
    message.refresh_from_db()
    assert message.status == Status.SENT
    assert message.attempts == 2  # the lost claim counts as one attempt
    assert len(smtp_server.messages) == 1


def test_a_late_result_does_not_overwrite_another_workers_claim(smtp_server, monkeypatch):
    """If this batch's claim was taken over while it sent, its result is not written."""
    message = OutboxMessageFactory()
    from accesmt.notifications import delivery

    real_send = delivery._EmailSender.send

    def send_then_lose_claim(self, msg):
        result = real_send(self, msg)
        OutboxMessage.objects.filter(pk=msg.pk).update(claim_token="someone-else")
        return result

    monkeypatch.setattr(delivery._EmailSender, "send", send_then_lose_claim)
    deliver_due()
    message.refresh_from_db()
    assert message.status == Status.SENDING
    assert message.claim_token == "someone-else"


def test_sequential_workers_never_send_a_message_twice(smtp_server):
    OutboxMessageFactory.create_batch(7)
    first = deliver_due(limit=4)
    second = deliver_due(limit=4)
    third = deliver_due(limit=4)
    assert (first.sent, second.sent, third.claimed) == (4, 3, 0)
    assert len({m["Message-ID"] for m in smtp_server.messages}) == 7


@pytest.mark.django_db(transaction=True)
def test_concurrent_workers_on_postgresql_never_send_twice(sms_provider):
    if connection.vendor != "postgresql":
        pytest.skip("real concurrency needs PostgreSQL (SQLite serialises writers)")
    provider = sms_provider(SlowSMSProvider)
    OutboxMessageFactory.create_batch(20, sms=True)
    results = []
    barrier = threading.Barrier(2)

    def worker():
        try:
            barrier.wait()
            while (stats := deliver_due(limit=3)).claimed:
                results.append(stats.sent)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sum(results) == 20
    assert len(provider.sent) == 20
    assert len({to for to, _ in provider.sent}) == 20
    assert OutboxMessage.objects.filter(status=Status.SENT).count() == 20


def test_a_stop_request_hands_the_rest_of_the_batch_back(smtp_server):
    OutboxMessageFactory.create_batch(3)
    calls = []

    def stop_after_first():
        calls.append(1)
        return len(calls) > 1

    stats = deliver_due(should_stop=stop_after_first)
    assert (stats.sent, stats.released) == (1, 2)
    assert OutboxMessage.objects.filter(status=Status.PENDING, attempts=0).count() == 2
    assert deliver_due().sent == 2


def test_sms_through_the_logging_provider_logs_a_masked_number_only(settings, caplog):
    settings.SMS_PROVIDER = "accesmt.notifications.sms.LoggingSMSProvider"
    message = OutboxMessageFactory(sms=True, recipient="+33612345642", body="Réf. K7Q2ZP, suivi")
    with caplog.at_level(logging.DEBUG):
        assert deliver_due().sent == 1
    message.refresh_from_db()
    assert message.status == Status.SENT
    assert message.provider_id.startswith("log-")
    assert "+33 6 •• •• •• 42" in caplog.text
    assert message.provider_id in caplog.text
    assert "12345642" not in caplog.text
    assert "K7Q2ZP" not in caplog.text


def test_sms_through_a_configured_provider(sms_provider):
    provider = sms_provider(RecordingSMSProvider)
    message = OutboxMessageFactory(sms=True, recipient="+262692123456", body="Réf. K7Q2ZP")
    assert deliver_due().sent == 1
    assert provider.sent == [("+262692123456", "Réf. K7Q2ZP")]
    message.refresh_from_db()
    assert (message.status, message.provider_id) == (Status.SENT, "fake-1")


def test_failing_sms_provider_is_retried_then_refusal_is_final(sms_provider):
    sms_provider(FailingSMSProvider)
    message = OutboxMessageFactory(sms=True)
    assert deliver_due().retrying == 1
    message.refresh_from_db()
    assert (message.status, message.attempts, message.last_error) == (
        Status.PENDING,
        1,
        "ConnectionError",
    )
    sms_provider(RefusingSMSProvider)
    assert deliver_due(now=timezone.now() + timedelta(hours=1)).failed == 1
    message.refresh_from_db()
    assert (message.status, message.last_error) == (Status.FAILED, "SMSPermanentError")


def test_mixed_batch_email_down_does_not_block_sms(smtp_server, sms_provider):
    provider = sms_provider(RecordingSMSProvider)
    OutboxMessageFactory.create_batch(2)
    OutboxMessageFactory(sms=True)
    smtp_server.stop()
    stats = deliver_due()
    assert (stats.sent, stats.retrying) == (1, 2)
    assert len(provider.sent) == 1


def test_logs_hold_no_recipient_and_no_text(smtp_server, sms_provider, caplog):
    sms_provider(FailingSMSProvider)
    email = OutboxMessageFactory(recipient="dominique.secret@exemple.fr", body="TEXTE-EMAIL-SECRET")
    text = OutboxMessageFactory(sms=True, recipient="+33698765432", body="TEXTE-SMS-SECRET")
    smtp_server.refuse_next(1, code=550)
    with caplog.at_level(logging.DEBUG):
        deliver_due()
        smtp_server.stop()
        OutboxMessageFactory(recipient="autre.secret@exemple.fr", body="TEXTE-EMAIL-SECRET")
        deliver_due(now=timezone.now() + timedelta(days=1))
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name != "mail.log")
    for needle in ("secret@", "dominique", "98765432", "TEXTE-", "Votre demande"):
        assert needle not in ours  # outcomes are logged without recipients or texts
    assert f"outbox {email.pk} " in ours and f"outbox {text.pk} " in ours


@pytest.mark.django_db(transaction=True)
def test_an_outcome_lost_with_the_database_connection_is_written_once_it_is_back(
    smtp_server, monkeypatch, caplog
):
    """PostgreSQL restarted while a batch is sent (bench_registration_faults.py): the e-mail
    went out, the write of "sent" failed; it is written again after a reconnection instead of
    the message staying "sending" until its lease expires and then going out a second time."""
    from django.db import OperationalError

    from accesmt.notifications import delivery

    message = OutboxMessageFactory()
    real_record_sent = delivery._record_sent
    calls = []

    def record_sent_after_a_restart(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return real_record_sent(*args, **kwargs)

    monkeypatch.setattr(delivery, "_record_sent", record_sent_after_a_restart)
    monkeypatch.setattr(delivery, "OUTCOME_WRITE_PAUSES", (0.0, 0.0))
    with caplog.at_level(logging.WARNING, logger="accesmt.notifications.delivery"):
        stats = deliver_due()
    message.refresh_from_db()
    assert (stats.sent, message.status, message.claim_token) == (1, Status.SENT, "")
    assert len(smtp_server.messages) == 1 and len(calls) == 2
    assert "résultat non enregistré (OperationalError)" in caplog.text
    assert deliver_due().claimed == 0  # nothing left to send again


@pytest.mark.django_db(transaction=True)
def test_a_database_that_stays_away_is_reported_after_the_last_try(smtp_server, monkeypatch):
    from django.db import OperationalError

    from accesmt.notifications import delivery

    OutboxMessageFactory()

    def always_down(*args, **kwargs):
        raise OperationalError("the database system is shutting down")

    monkeypatch.setattr(delivery, "_record_sent", always_down)
    monkeypatch.setattr(delivery, "OUTCOME_WRITE_PAUSES", (0.0, 0.0))
    with pytest.raises(OperationalError):
        deliver_due()
