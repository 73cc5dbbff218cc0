"""Writes of the API app: create, revoke and check API keys; count calls and failed
authentications in fixed windows."""

from __future__ import annotations

import datetime
import hashlib
import secrets
from typing import TYPE_CHECKING

from django.db import connection, models, transaction
from django.utils import timezone

from accesmt.accounts.actors import actor_or_none

from .models import ApiCallCount, ApiKey, FailedAuthCount

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
    """Count one call of the key (API_RATE_LIMIT): see `window_count`."""
    return window_count(
        ApiCallCount,
        key_field="api_key",
        key=key_id,
        count_field="calls",
        duration=duration,
        now=now,
    )


def failed_auth_record(*, address: str, duration: int, now: float) -> None:
    """Count one failed authentication from `address` (API_FAILED_AUTH_LIMIT)."""
    window_count(
        FailedAuthCount,
        key_field="address",
        key=address,
        count_field="failures",
        duration=duration,
        now=now,
    )


def failed_auth_failures(*, address: str, duration: int, now: float) -> tuple[int, int]:
    """(failed authentications from `address` in the current window, seconds left in it): one
    read of the unique index (window_start, address)."""
    start, left = _window(duration, now)
    failures = FailedAuthCount.objects.filter(window_start=start, address=address)
    return next(iter(failures.values_list("failures", flat=True)), 0), left


def _window(duration: int, now: float) -> tuple[int, int]:
    """(start of the fixed window of `duration` seconds holding `now`, seconds left in it)."""
    start = int(now) // duration * duration
    return start, start + duration - int(now)


def window_count(
    model: type[models.Model], *, key_field: str, key, count_field: str, duration: int, now: float
) -> tuple[int, int]:
    """Count one event of `key` in the current fixed window of `duration` seconds, in `model`'s
    table (a key, `window_start`, a count; unique on the key and the window): (events in the
    window, this one included; seconds left in the window).

    One INSERT … ON CONFLICT DO UPDATE … RETURNING (PostgreSQL, and SQLite ≥ 3.35): the
    increment and its reading are one atomic statement, so that N concurrent events read N
    distinct counts — a read-modify-write in the cache let 107 calls pass a limit of 100, and
    counted 40 concurrent failed authentications as 2 to 7. Run outside any transaction
    (ATOMIC_REQUESTS is off), the row is locked for that statement only. The first event of a
    key in a window deletes the past windows of every key (one that never comes back leaves no
    row behind)."""
    window, left = _window(duration, now)
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    key_column, start, count = (
        quote(model._meta.get_field(name).column)
        for name in (key_field, "window_start", count_field)
    )
    with connection.cursor() as cursor:
        # Names from the model, values as parameters.
        upsert = (
            f"INSERT INTO {table} ({key_column}, {start}, {count}) VALUES (%s, %s, 1) "  # noqa: S608
            f"ON CONFLICT ({key_column}, {start}) DO UPDATE SET {count} = {table}.{count} + 1 "
            f"RETURNING {count}"
        )
        cursor.execute(upsert, [key, window])
        (events,) = cursor.fetchone()
        if events == 1:
            cursor.execute(f"DELETE FROM {table} WHERE {start} < %s", [window])  # noqa: S608 (idem)
    return events, left
