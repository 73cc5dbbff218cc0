"""A message that cannot be delivered is never dropped silently: after OUTBOX_RETRY_DAYS it is
listed to the coordination as "à contacter par téléphone ou courrier" (purpose and request
reference, never the text), through HTTP, with the real local SMTP server down."""

import html
from datetime import timedelta

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accesmt.intake.services import _enqueue_acknowledgment
from accesmt.notifications.delivery import deliver_due
from accesmt.notifications.models import OutboxMessage, Status
from tests.accounts.factories import MembershipFactory
from tests.intake.factories import RequestFactory

pytestmark = pytest.mark.django_db


def text(response) -> str:
    return html.unescape(response.content.decode())


def test_acknowledgment_undeliverable_for_days_is_shown_to_the_coordination(
    client, smtp_server, settings
):
    settings.OUTBOX_RETRY_DAYS = 7
    request = RequestFactory(phone="", email="camille.secret@exemple.fr")
    with transaction.atomic():
        _enqueue_acknowledgment(request=request)
    [message] = OutboxMessage.objects.all()
    smtp_server.stop()
    now = timezone.now()
    while now < message.created_at + timedelta(days=7, hours=2):
        deliver_due(now=now)
        message.refresh_from_db()
        if message.status == Status.FAILED:
            break
        now = max(now, message.next_attempt_at)
    assert message.status == Status.FAILED
    assert message.attempts > 10  # not given up after ~4 hours any more

    cpts = request.cpts
    client.force_login(MembershipFactory(cpts=cpts, role="coordinator").user)
    home = text(client.get(reverse("reporting:cpts_home", kwargs={"cpts_slug": cpts.slug})))
    assert "1 message à contacter par téléphone ou courrier" in home
    letters_url = reverse("orientation:letters", kwargs={"cpts_slug": cpts.slug})
    page = text(client.get(letters_url))
    assert "À contacter par téléphone ou courrier (1)" in page
    assert request.reference in page and "Accusé de réception de la demande" in page
    assert "camille.secret" not in page and "a bien reçu" not in page

    response = client.post(letters_url, {"message": message.pk, "action": "handled"}, follow=True)
    assert "Message marqué comme traité" in text(response)
    assert "À contacter par téléphone ou courrier (0)" in text(response)
    message.refresh_from_db()
    assert message.handled_at is not None

    smtp_server.start()
    assert deliver_due(now=now + timedelta(days=1)).claimed == 0
    assert smtp_server.messages == []


def test_another_cpts_message_cannot_be_marked(client, smtp_server):
    request = RequestFactory(phone="", email="")
    with transaction.atomic():
        _enqueue_acknowledgment(request=request)
    [letter] = OutboxMessage.objects.all()
    other = RequestFactory().cpts
    client.force_login(MembershipFactory(cpts=other, role="coordinator").user)
    url = reverse("orientation:letters", kwargs={"cpts_slug": other.slug})
    response = client.post(url, {"message": letter.pk, "action": "sent"}, follow=True)
    assert "Message introuvable" in text(response)
    letter.refresh_from_db()
    assert letter.status == Status.PENDING
    pdf_url = reverse("orientation:letter_pdf", kwargs={"cpts_slug": other.slug, "pk": letter.pk})
    assert client.get(pdf_url).status_code == 404
