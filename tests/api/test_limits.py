"""Limits of the API: failed authentications per address, per-key throttle state."""

import threading

import pytest
from django.test import RequestFactory

from accesmt.api.services import api_key_create

pytestmark = pytest.mark.django_db

STATUS = "/api/v1/requests/MT-ZZZZ-ZZZZ"


def test_failed_authentications_are_limited_per_address_before_the_key_is_checked(
    client, auth, settings
):
    settings.API_FAILED_AUTH_LIMIT = "3/m"
    bad = {"HTTP_AUTHORIZATION": "Bearer amt_nope_nope", "REMOTE_ADDR": "203.0.113.7"}
    for _ in range(3):
        assert client.get(STATUS, **bad).status_code == 401
    refused = client.get(STATUS, **bad)
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert refused.json()["errors"][0]["message"].startswith("Trop de tentatives")
    # From that address even a good key waits: the guessing is refused before any check.
    assert client.get(STATUS, **auth, REMOTE_ADDR="203.0.113.7").status_code == 429
    # Another address is not concerned, and a missing key counts as a failure too.
    assert client.get(STATUS, **auth, REMOTE_ADDR="203.0.113.8").status_code == 404
    for _ in range(3):
        assert client.get(STATUS, REMOTE_ADDR="198.51.100.1").status_code == 401
    assert client.get(STATUS, REMOTE_ADDR="198.51.100.1").status_code == 429


def test_the_address_is_the_one_the_trusted_proxy_saw(client, settings):
    settings.API_FAILED_AUTH_LIMIT = "2/m"
    settings.AXES_IPWARE_PROXY_COUNT = 1
    for spoofed in ("10.0.0.1", "10.0.0.2", "10.0.0.3"):
        response = client.get(
            STATUS,
            REMOTE_ADDR="127.0.0.1",
            HTTP_X_FORWARDED_FOR=f"{spoofed}, 203.0.113.9",
        )
    # The client-written left part changed each time; the address counted did not.
    assert response.status_code == 429


def _throttle_request(key):
    request = RequestFactory().get(STATUS, REMOTE_ADDR="203.0.113.7")
    request.auth = key
    return request


@pytest.mark.django_db(transaction=True)  # the other thread counts on its own connection
def test_the_throttle_keeps_no_state_shared_between_keys_or_threads(cpts, settings):
    from accesmt.api.api import ApiKeyRateThrottle

    settings.API_RATE_LIMIT = "2/m"
    first, _ = api_key_create(cpts=cpts, name="Site web")
    second, _ = api_key_create(cpts=cpts, name="Outil d'orientation")
    throttle = ApiKeyRateThrottle()
    throttle.timer = lambda: 6_000_015.0  # 15 s into a window of 60 s
    assert throttle.allow_request(_throttle_request(first))
    assert throttle.allow_request(_throttle_request(first))
    assert not throttle.allow_request(_throttle_request(first))
    # Meanwhile another thread serves the second key with the same (module-level) throttle.
    other = threading.Thread(target=_in_thread, args=(throttle, _throttle_request(second)))
    other.start()
    other.join()
    # The first key's refusal waits for the end of the window: 45 s.
    assert throttle.wait() == 45
    # The second key has its own budget: one call used, one left.
    assert throttle.allow_request(_throttle_request(second))
    assert not throttle.allow_request(_throttle_request(second))
    # The next window opens with a full budget (and the past windows' rows are deleted).
    throttle.timer = lambda: 6_000_060.0
    assert throttle.allow_request(_throttle_request(first))
    from accesmt.api.models import ApiCallCount

    assert list(ApiCallCount.objects.filter(api_key=first).values_list("calls", flat=True)) == [1]


def _in_thread(throttle, request):
    from django.db import connection

    try:
        throttle.allow_request(request)
    finally:
        connection.close()
