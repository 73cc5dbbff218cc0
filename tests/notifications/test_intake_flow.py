"""End to end: a person registers while the SMTP server is down; the acknowledgment is kept in
the outbox and reaches them once the server is back, without their name in it."""

import uuid
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accesmt.intake.models import Request
from accesmt.notifications.delivery import deliver_due
from accesmt.notifications.models import OutboxMessage, Status
from tests.intake.conftest import territory  # noqa: F401 - the intake test territory fixture

pytestmark = pytest.mark.django_db


def form_data():
    return {
        "submission_key": str(uuid.uuid4()),
        "phone": "06 12 34 56 78",
        "email": "josiane.lefebvre@exemple.fr",
        "address": "12 rue Jean Jaurès",
        "postcode": "62800",
        "commune_name": "Liévin",
        "reason": "mt_retired",
        "coverage": "regime_general",
        "consent_processing": "on",
        "consent_sharing": "on",
        "website": "",
        "membres-TOTAL_FORMS": "1",
        "membres-INITIAL_FORMS": "0",
        "membres-MIN_NUM_FORMS": "1",
        "membres-MAX_NUM_FORMS": "12",
        "membres-0-first_name": "Josiane",
        "membres-0-last_name": "Lefebvre",
        "membres-0-birth_date": "1947-03-12",
        "membres-0-home_visits": "never",
    }


def test_acknowledgment_survives_an_smtp_outage(client, territory, smtp_server):  # noqa: F811
    smtp_server.stop()
    data = form_data()
    url = reverse("intake:register", kwargs={"cpts_slug": territory["lievin"].slug})
    response = client.post(url, data, follow=True)
    assert response.status_code == 200
    client.post(url, data)  # the same form sent again: no second acknowledgment
    request = Request.objects.get()
    assert request.reference in response.content.decode()
    messages = OutboxMessage.objects.order_by("channel")
    assert [(m.channel, m.status) for m in messages] == [
        ("email", Status.PENDING),
        ("sms", Status.PENDING),
    ]

    stats = deliver_due()
    assert (stats.sent, stats.retrying) == (1, 1)  # the SMS went, the e-mail waits
    email = OutboxMessage.objects.get(channel="email")
    assert (email.status, email.attempts) == (Status.PENDING, 1)

    smtp_server.start()
    assert deliver_due(now=timezone.now() + timedelta(minutes=2)).sent == 1
    [received] = smtp_server.messages
    assert received["To"] == "josiane.lefebvre@exemple.fr"
    assert request.reference in received["Subject"]
    text = received.get_content()
    assert request.reference in text
    for private in ("Josiane", "Lefebvre", "1947", "Jaurès"):
        assert private not in text and private not in received["Subject"]
    assert OutboxMessage.objects.filter(status=Status.SENT).count() == 2
