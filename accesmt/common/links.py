"""Addresses that the product prints or sends (e-mails, SMS, letters, the flyer's QR code, the
links shown to copy) are built from PUBLIC_BASE_URL, never from the Host header of a request,
which the client chooses."""

from django.conf import settings


def public_url(path: str) -> str:
    """ "/lievin/inscription/" → "https://accesmt.example.org/lievin/inscription/"."""
    return settings.PUBLIC_BASE_URL.rstrip("/") + path
