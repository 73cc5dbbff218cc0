"""Failed logins slow down one account from one address, with growing delays.

Failures (wrong password or wrong second-factor code) are counted per pair (account, address):
an attacker elsewhere cannot lock a user out. From the LOGIN_FAILURE_LIMIT-th failure on, the
pair waits LOGIN_DELAY_BASE_SECONDS, then twice as long after each new failure, at most
LOGIN_DELAY_MAX_SECONDS. A success clears the pair; so does a day without failure (and the
hourly job `login_failures_forget` then deletes the row).
The account key is the e-mail as the login form normalises it (case and spaces do not matter).
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.shortcuts import render
from django.utils import timezone

from .ip import client_ip
from .models import LoginFailure

FORGET_AFTER = timedelta(days=1)


def _limit() -> int:
    return settings.LOGIN_FAILURE_LIMIT


def account_key(value) -> str:
    return str(value or "").strip().lower()


def _pair(request, username) -> dict:
    return {"username": account_key(username), "ip_address": client_ip(request) or ""}


def delay_after(failures: int) -> timedelta:
    """How long the pair waits after its `failures`-th failure."""
    if failures < _limit():
        return timedelta(0)
    seconds = settings.LOGIN_DELAY_BASE_SECONDS * 2 ** min(failures - _limit(), 20)
    return timedelta(seconds=min(seconds, settings.LOGIN_DELAY_MAX_SECONDS))


def seconds_to_wait(request, username, now: datetime | None = None) -> int:
    now = now or timezone.now()
    row = LoginFailure.objects.filter(**_pair(request, username)).first()
    if row is None or now - row.last_failure > FORGET_AFTER:
        return 0
    remaining = row.last_failure + delay_after(row.failures) - now
    return max(0, int(remaining.total_seconds() + 0.999))


def record_failure(request, username, now: datetime | None = None) -> int:
    """Count one failure; the number of seconds the pair must now wait."""
    now = now or timezone.now()
    pair = _pair(request, username)
    with transaction.atomic():
        row, created = LoginFailure.objects.select_for_update().get_or_create(
            **pair, defaults={"failures": 1, "last_failure": now}
        )
        if not created:
            if now - row.last_failure > FORGET_AFTER:
                row.failures = 1
            else:
                row.failures = F("failures") + 1
            row.last_failure = now
            row.save(update_fields=["failures", "last_failure"])
    return seconds_to_wait(request, username, now)


def clear(request, username) -> None:
    LoginFailure.objects.filter(**_pair(request, username)).delete()


def login_failures_forget(*, now: datetime | None = None) -> int:
    """Periodic job: delete the failure counts untouched for a day (they no longer slow anyone
    down, and an address tied to an account is personal data kept no longer than needed)."""
    now = now or timezone.now()
    deleted, _ = LoginFailure.objects.filter(last_failure__lt=now - FORGET_AFTER).delete()
    return deleted


def locked_response(request, seconds: int):
    minutes = max(1, (seconds + 59) // 60)
    return render(request, "accounts/locked_out.html", {"minutes": minutes}, status=429)
