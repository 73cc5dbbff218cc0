"""Writes of the API app: create, revoke and check API keys."""

from __future__ import annotations

import datetime
import hashlib
import secrets
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from accesmt.accounts.actors import actor_or_none

from .models import ApiKey

if TYPE_CHECKING:
    from accesmt.accounts.models import User

KEY_PREFIX = "amt_"
# Do not write last_used_at more than once a minute per key (one UPDATE per call otherwise).
LAST_USED_RESOLUTION = datetime.timedelta(minutes=1)


def hash_key(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def api_key_create(*, cpts, name: str, by: User | None = None) -> tuple[ApiKey, str]:
    """A new key for `cpts`. Returns the stored key and the raw key, to be shown once."""
    prefix = secrets.token_hex(4)
    raw = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey(
        cpts=cpts,
        name=name,
        prefix=prefix,
        key_hash=hash_key(raw),
        created_by=actor_or_none(by),
    )
    with transaction.atomic():
        key.full_clean()
        key.save()
    return key, raw


def api_key_revoke(*, key: ApiKey) -> ApiKey:
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
    return key


def api_key_authenticate(raw: str) -> ApiKey | None:
    """The active key `raw` designates, its `last_used_at` refreshed; None otherwise."""
    if not raw or not raw.startswith(KEY_PREFIX) or len(raw) > 200:
        return None
    key = ApiKey.objects.active().select_related("cpts").filter(key_hash=hash_key(raw)).first()
    if key is None:
        return None
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at > LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
    return key
