"""schemathesis over every operation of the OpenAPI schema (/api/openapi.json), with a valid key
of a test CPTS: valid (positive) and invalid (negative) inputs, raw bodies that are not JSON,
and keys that are not keys. Each answer must be documented (status, content type, headers,
body shape) and never a 5xx; a refused call writes nothing, a created request is whole."""

from __future__ import annotations

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import given
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from .conftest import CASES, FUZZ_SETTINGS, table_counts, written

pytestmark = pytest.mark.django_db

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
OPERATIONS = [
    ("POST", "/api/v1/requests"),
    ("GET", "/api/v1/requests/{reference}"),
    ("POST", "/api/v1/listes-cpam"),
    ("GET", "/api/v1/indicateurs"),
    ("GET", "/api/v1/indicateurs/{code}"),
]


@pytest.fixture
def schema(db):
    """The WSGI application called in process, inside the test's transaction. As Django's test
    client does, the end of a request must not close the connection (PostgreSQL would lose the
    transaction; SQLite's in-memory database ignores the close)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/openapi.json", get_wsgi_application())
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def test_every_operation_is_fuzzed(schema):
    """The list below covers the schema: a new operation is fuzzed or this fails."""
    found = {(op.method.upper(), op.path) for op in (r.ok() for r in schema.get_all_operations())}
    assert found == set(OPERATIONS)


def _check_writes(method: str, path: str, status: int, delta: dict[str, int]) -> None:
    if status >= 400 or method == "GET":
        if delta:
            CASES["partial_writes"] += 1
        assert not delta, f"{method} {path} answered {status} but wrote {delta}"
    elif path == "/api/v1/requests" and status == 201:
        assert delta.get("intake.Request") == 1 and delta.get("intake.HouseholdMember", 0) >= 1
        assert delta.get("notifications.OutboxMessage", 0) >= 1, delta
    elif path == "/api/v1/requests" and status == 200:  # idempotent replay
        assert not delta, delta


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_operation(schema, api_key, method, path, mode):
    operation = schema[path][method]
    bearer = {"Authorization": f"Bearer {api_key[1]}"}

    @FUZZ_SETTINGS
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case):
        CASES["cases"] += 1
        CASES[f"target:{method} {path} ({mode.value})"] += 1
        before = table_counts()
        response = case.call(headers=bearer)
        if response.status_code >= 500:
            CASES["server_errors"] += 1
        case.validate_response(response, checks=CHECKS, headers=bearer)
        _check_writes(method, path, response.status_code, written(before))

    run()


BODY_OPERATIONS = [op for op in OPERATIONS if op[0] == "POST"]


@pytest.mark.parametrize(("method", "path"), BODY_OPERATIONS)
def test_body_that_is_not_json(client, auth, method, path):
    """Bytes of any kind, as a JSON body: 400 or 422, named, nothing written."""

    @FUZZ_SETTINGS
    @given(
        body=st.one_of(
            st.binary(max_size=300),
            st.text(max_size=300).map(lambda text: text.encode("utf-8", "surrogatepass")),
            st.sampled_from([b"", b"null", b"[]", b"{", b'{"members": 1}', b"\x00", b"\xff\xfe"]),
        )
    )
    def run(body):
        CASES["cases"] += 1
        CASES[f"target:{method} {path} (raw body)"] += 1
        before = table_counts()
        response = client.post(path, body, content_type="application/json", **auth)
        if response.status_code >= 500:
            CASES["server_errors"] += 1
        assert response.status_code in (400, 422), (body, response.status_code)
        assert response.json()["errors"], body
        _check_writes(method, path, response.status_code, written(before))

    run()


def test_keys_that_are_not_keys(client):
    """Any Authorization header: 401 with its WWW-Authenticate, never a 5xx."""

    @FUZZ_SETTINGS
    @given(
        header=st.one_of(
            st.text(max_size=200),
            st.text(max_size=200).map(lambda text: f"Bearer {text}"),
            st.from_regex(r"Bearer amt_[A-Za-z0-9_-]{0,60}", fullmatch=True),
        ).filter(lambda text: "\n" not in text and "\r" not in text)
    )
    def run(header):
        CASES["cases"] += 1
        CASES["target:Authorization (not a key)"] += 1
        response = client.get("/api/v1/indicateurs", HTTP_AUTHORIZATION=header)
        if response.status_code >= 500:
            CASES["server_errors"] += 1
        assert response.status_code == 401, (header, response.status_code)
        assert response["WWW-Authenticate"].startswith("Bearer")
        assert response.json()["errors"][0]["field"] == "Authorization"

    run()


def test_the_schema_tells_every_answer(client):
    """401 and 429 (with their headers) everywhere, 400 and 422 with a JSON body, consents
    as the one value accepted: what the fuzzing above holds the API to."""
    schema = client.get("/api/openapi.json").json()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            answers = operation["responses"]
            assert {"401", "429"} <= set(answers), (method, path)
            assert "Retry-After" in answers["429"]["headers"]
            assert "WWW-Authenticate" in answers["401"]["headers"]
            if "requestBody" in operation:
                assert {"400", "422"} <= set(answers), (method, path)
            for status, answer in answers.items():
                if status >= "400":
                    assert answer["content"]["application/json"]["schema"]["$ref"].endswith(
                        "/ErrorsOut"
                    )
    request_in = schema["components"]["schemas"]["RequestIn"]["properties"]
    assert request_in["consent_processing"]["const"] is True
    assert request_in["consent_sharing"]["const"] is True


@pytest.mark.parametrize("consent", ["consent_processing", "consent_sharing"])
def test_a_consent_set_to_false_is_refused_naming_it(client, auth, consent):
    from tests.api.test_api import payload

    before = table_counts()
    response = client.post(
        "/api/v1/requests", payload(**{consent: False}), content_type="application/json", **auth
    )
    assert response.status_code == 422
    assert [error["field"] for error in response.json()["errors"]] == [consent]
    assert not written(before)
