"""SMS behind a provider interface. The provider is chosen by the SMS_PROVIDER setting (a dotted
path to a class built without arguments); the default only logs, for development and tests.

A real provider (an SMS gateway's HTTP API) implements `send(to, body) -> provider_id` and raises
`SMSPermanentError` when retrying cannot help (number refused), any other exception otherwise.
"""

from __future__ import annotations

import logging
import uuid
from functools import cache
from typing import Protocol, runtime_checkable

from django.conf import settings
from django.utils.module_loading import import_string

from .masking import mask_phone

logger = logging.getLogger(__name__)

DEFAULT_PROVIDER = "accesmt.notifications.sms.LoggingSMSProvider"


class SMSPermanentError(Exception):
    """The provider refused the message for good (invalid or blocked number): do not retry."""


@runtime_checkable
class SMSProvider(Protocol):
    def send(self, to: str, body: str) -> str:
        """Send `body` to the E.164 number `to`; return the provider's message id."""
        ...


class LoggingSMSProvider:
    """Sends nothing: logs a masked number and a message id, never the text."""

    def send(self, to: str, body: str) -> str:
        provider_id = f"log-{uuid.uuid4().hex[:12]}"
        logger.info("SMS (journal seulement) vers %s, id %s", mask_phone(to), provider_id)
        return provider_id


@cache
def _provider_class(path: str) -> type:
    return import_string(path)


def get_sms_provider() -> SMSProvider:
    path = getattr(settings, "SMS_PROVIDER", DEFAULT_PROVIDER) or DEFAULT_PROVIDER
    return _provider_class(path)()
