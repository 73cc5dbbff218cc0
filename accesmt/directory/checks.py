"""System checks of the directory settings (`manage.py check --deploy`)."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Tags, Warning, register

LOCAL_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}


@register(Tags.security, deploy=True)
def public_base_url_check(app_configs=None, **kwargs):
    """Survey e-mails carry PUBLIC_BASE_URL links: in production it must be the https address."""
    url = getattr(settings, "PUBLIC_BASE_URL", "")
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname and parts.hostname not in LOCAL_HOSTS:
        return []
    return [
        Warning(
            f"PUBLIC_BASE_URL vaut « {url} » : les liens des e-mails d'enquête ne mèneront pas "
            "au site.",
            hint="Définissez PUBLIC_BASE_URL=https://votre-domaine (voir .env.example).",
            id="accesmt.directory.W001",
        )
    ]
