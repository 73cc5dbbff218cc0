"""The API's limit of failed authentications per address holds under concurrent failures: 40
wrong keys sent at once from one address by threads (each with its own database connection) are
all counted, so the next one is refused. Counted with Django's database cache (production's
default cache: `incr` is a get then a set) some of them were lost, and the address got more
tries than the limit. (40, not more: PostgreSQL's default max_connections is 100, shared with
the other test runs, and every thread holds one.)"""

import threading

import pytest
from django.db import connection
from django.test import Client

from accesmt.api.models import FailedAuthCount
from accesmt.api.services import failed_auth_failures, failed_auth_record

STATUS = "/api/v1/requests/MT-ZZZZ-ZZZZ"
FAILURES = 40
ADDRESS = "203.0.113.7"
WRONG_KEY = {"HTTP_AUTHORIZATION": "Bearer amt_nope_nope", "REMOTE_ADDR": ADDRESS}


@pytest.mark.django_db(transaction=True)
def test_concurrent_failures_are_all_counted(settings):
    if connection.vendor != "postgresql":
        pytest.skip(
            "SQLite serialises writers (one statement cannot race), and the threads of its "
            "in-memory test database fail instead of waiting (« database table is locked »): "
            "the race needs PostgreSQL"
        )
    # A limit of FAILURES: every one of them passes the check made before the key is read (at
    # most FAILURES - 1 are counted before the last one's check), whatever the threads' order.
    settings.API_FAILED_AUTH_LIMIT = f"{FAILURES}/d"
    start = threading.Barrier(FAILURES)
    statuses, errors = [], []

    def fail():
        try:
            start.wait()
            statuses.append(Client().get(STATUS, **WRONG_KEY).status_code)
        except Exception as error:  # noqa: BLE001 (reported by the assertion below)
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=fail) for _ in range(FAILURES)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert statuses == [401] * FAILURES
    # Every failure counted: the address reached its limit and the next try is refused.
    refused = Client().get(STATUS, **WRONG_KEY)
    assert refused.status_code == 429, "concurrent failures were lost by the count"
    assert refused.json()["errors"][0]["message"].startswith("Trop de tentatives")


@pytest.mark.django_db
def test_failures_are_counted_per_address_and_window_and_past_windows_deleted():
    for address, now in (("203.0.113.1", 120.0), ("203.0.113.1", 125.0), ("unknown", 130.0)):
        failed_auth_record(address=address, duration=60, now=now)
    assert failed_auth_failures(address="203.0.113.1", duration=60, now=150.0) == (2, 30)
    assert failed_auth_failures(address="unknown", duration=60, now=150.0) == (1, 30)
    assert failed_auth_failures(address="203.0.113.2", duration=60, now=150.0) == (0, 30)
    # The next window starts from zero, and its first failure, from any address, deletes the
    # past windows of every address (one that never comes back leaves no row behind).
    failed_auth_record(address="203.0.113.2", duration=60, now=180.5)
    assert failed_auth_failures(address="203.0.113.1", duration=60, now=181.0) == (0, 59)
    assert list(FailedAuthCount.objects.values_list("address", "window_start", "failures")) == [
        ("203.0.113.2", 180, 1)
    ]


@pytest.mark.django_db
def test_an_address_longer_than_its_column_is_still_counted(client, settings):
    settings.API_FAILED_AUTH_LIMIT = "1/m"
    zoned = {"HTTP_AUTHORIZATION": "Bearer amt_nope_nope", "REMOTE_ADDR": "fe80::1%" + "a" * 60}
    assert client.get(STATUS, **zoned).status_code == 401
    assert client.get(STATUS, **zoned).status_code == 429
