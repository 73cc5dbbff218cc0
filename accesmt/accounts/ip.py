"""The client's IP address, for the audit log and the lock-out (per account and address)."""

import ipaddress

from django.conf import settings


def _valid(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_ip(request) -> str | None:
    """REMOTE_ADDR, or behind N trusted reverse proxies (settings.AXES_IPWARE_PROXY_COUNT = N),
    the address the outermost trusted proxy saw: the N-th entry from the right of
    X-Forwarded-For. Entries further left are written by the client and never trusted."""
    if request is None:
        return None
    proxy_count = getattr(settings, "AXES_IPWARE_PROXY_COUNT", 0) or 0
    if proxy_count > 0:
        forwarded = [
            part for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part
        ]
        if len(forwarded) >= proxy_count:
            return _valid(forwarded[-proxy_count])
    return _valid(request.META.get("REMOTE_ADDR", ""))
