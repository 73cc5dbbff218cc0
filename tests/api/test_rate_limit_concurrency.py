"""The API rate limit holds under concurrent calls (issue 15): 60 calls at once from threads,
each with its own database connection, against a limit of 40 per minute: exactly 40 pass.
(60, not more: PostgreSQL's default max_connections is 100, and every thread holds one.)"""

import threading

import pytest
from django.db import connection

from accesmt.api.services import api_call_count, api_key_create

CALLS, LIMIT = 60, 40


@pytest.mark.django_db(transaction=True)
def test_concurrent_calls_never_pass_the_limit(cpts, settings):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers: the race needs PostgreSQL")
    settings.API_RATE_LIMIT = f"{LIMIT}/m"
    from accesmt.api.api import ApiKeyRateThrottle
    from tests.api.test_limits import _throttle_request

    key, _ = api_key_create(cpts=cpts, name="Site web")
    throttle = ApiKeyRateThrottle()
    throttle.timer = lambda: 6_000_010.0  # one window for every call
    start = threading.Barrier(CALLS)
    passed, refused, errors = [], [], []

    def call():
        try:
            start.wait()
            allowed = throttle.allow_request(_throttle_request(key))
            (passed if allowed else refused).append(throttle.wait())
        except Exception as error:  # noqa: BLE001 (reported by the assertion below)
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=call) for _ in range(CALLS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(passed) == LIMIT and len(refused) == CALLS - LIMIT
    assert set(refused) == {50.0}  # Retry-After: the seconds left in the window


@pytest.mark.django_db
def test_counts_are_per_key_and_per_window(cpts):
    first, _ = api_key_create(cpts=cpts, name="Site web")
    second, _ = api_key_create(cpts=cpts, name="Outil")
    assert [api_call_count(key_id=first.pk, duration=60, now=120.0)[0] for _ in range(3)] == [
        1,
        2,
        3,
    ]
    assert api_call_count(key_id=second.pk, duration=60, now=130.0) == (1, 50)
    assert api_call_count(key_id=first.pk, duration=60, now=180.5) == (1, 60)
