"""Writes of the API app: create, revoke and check API keys."""

from __future__ import annotations

import datetime
import hashlib
import secrets
from typing import TYPE_CHECKING

from django.db import connection, transaction
from django.utils import timezone

from accesmt.accounts.actors import actor_or_none

from .models import ApiCallCount, ApiKey

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


def api_call_count(*, key_id: int, duration: int, now: float) -> tuple[int, int]:
    """Count one call of the key in the current fixed window of `duration` seconds: (calls in
    the window, this one included; seconds left in the window).

    One INSERT … ON CONFLICT DO UPDATE … RETURNING (PostgreSQL, and SQLite ≥ 3.35): the
    increment and its reading are one atomic statement, so that N concurrent calls read N
    distinct counts — a read-modify-write in the cache let 107 calls pass a limit of 100. Run
    outside any transaction (ATOMIC_REQUESTS is off), the row is locked for that statement
    only. The first call of a window deletes the key's past windows."""
    window = int(now) // duration * duration
    quote = connection.ops.quote_name
    table = quote(ApiCallCount._meta.db_table)
    key, start, calls = (quote(n) for n in ("api_key_id", "window_start", "calls"))
    with connection.cursor() as cursor:
        # Names from the model, values as parameters.
        upsert = (
            f"INSERT INTO {table} ({key}, {start}, {calls}) VALUES (%s, %s, 1) "  # noqa: S608
            f"ON CONFLICT ({key}, {start}) DO UPDATE SET {calls} = {table}.{calls} + 1 "
            f"RETURNING {calls}"
        )
        cursor.execute(upsert, [key_id, window])
        (count,) = cursor.fetchone()
        if count == 1:
            cursor.execute(
                f"DELETE FROM {table} WHERE {key} = %s AND {start} < %s",  # noqa: S608 (idem)
                [key_id, window],
            )
    return count, window + duration - int(now)
