"""The development page of the e-mails and SMS sent: DEBUG only, links clickable (issue 13)."""

import re

import pytest
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from accesmt.notifications.models import Channel, Status

from .factories import OutboxMessageFactory

pytestmark = pytest.mark.django_db
URL = "/dev/messages/"


def test_the_page_does_not_exist_outside_debug(client):
    """config/urls.py registers the route only when DEBUG is on (tests run with DEBUG off)."""
    OutboxMessageFactory()
    assert client.get(URL).status_code == 404
    with pytest.raises(NoReverseMatch):
        reverse("dev:messages")


@pytest.mark.urls("tests.notifications.dev_urls")
def test_the_view_refuses_when_debug_is_off_even_if_routed(client, settings):
    settings.DEBUG = False
    OutboxMessageFactory()
    assert client.get(URL).status_code == 404


@pytest.mark.urls("tests.notifications.dev_urls")
def test_in_debug_the_page_lists_emails_and_sms_with_clickable_links(client, settings):
    settings.DEBUG = True
    link = "http://127.0.0.1:8000/suivi/abc.def/"
    OutboxMessageFactory(
        recipient="josiane@exemple.fr",
        subject="Un médecin vous est proposé",
        body=f"Bonjour,\n\nVoir les médecins et indiquer mon choix : {link}\n",
        status=Status.SENT,
        sent_at=timezone.now(),
    )
    OutboxMessageFactory(sms=True, recipient="+33612345678")
    OutboxMessageFactory(channel=Channel.LETTER, recipient="", subject="Courrier à imprimer")
    response = client.get(URL)
    assert response.status_code == 200
    page = response.content.decode()
    assert "josiane@exemple.fr" in page and "Un médecin vous est proposé" in page
    assert f'<a href="{link}"' in page
    assert "+33612345678" in page and "CPTS de Liévin : demande reçue" in page
    assert "Courrier à imprimer" not in page  # letters are printed, not sent
    assert "envoyé le" in page and "en attente" in page


@pytest.mark.urls("tests.notifications.dev_urls")
def test_in_debug_the_page_shows_the_last_200_newest_first(
    client, settings, django_assert_max_num_queries
):
    settings.DEBUG = True
    for n in range(205):
        OutboxMessageFactory(subject=f"Message {n:03d}")
    with django_assert_max_num_queries(3):
        page = client.get(URL).content.decode()
    shown = re.findall(r"<h2>Message (\d+)</h2>", page)
    assert len(shown) == 200 and shown[0] == "204" and "Message 004" not in page
