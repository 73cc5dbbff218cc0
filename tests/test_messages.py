"""The link finder the tests use on sent messages."""

from email.message import EmailMessage as ReceivedEmail
from types import SimpleNamespace

import pytest
from django.core.mail import EmailMessage

from tests.messages import link_in, token_in

BODY = "Bonjour,\nVotre lien : https://accesmt.example/suivi/abc:123/toujours-besoin/\nMerci."


def test_finds_the_link_in_a_text_an_outbox_row_a_django_mail_and_a_received_email():
    received = ReceivedEmail()
    received.set_content(BODY)
    received.add_alternative(f"<p>{BODY}</p>", subtype="html")
    for message in (BODY, SimpleNamespace(body=BODY), EmailMessage("Objet", BODY), received):
        assert link_in(message, "/suivi/") == "/suivi/abc:123/toujours-besoin/"
        assert token_in(message, "/suivi/", base="https://accesmt.example") == "abc:123"


def test_a_missing_link_or_another_host_fails():
    with pytest.raises(AssertionError, match="no link to /orientation/"):
        link_in(BODY, "/orientation/")
    with pytest.raises(AssertionError, match="on https://evil.example"):
        link_in(BODY, "/suivi/", base="https://evil.example")
