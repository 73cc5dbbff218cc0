"""Every API operation (declared in tests/api/tenant_urls.py, see tests/tenant_matrix.py) asked
with no key, a revoked key, the key of another CPTS and the key of its CPTS."""

import json

import pytest

from accesmt.api.api import api as ninja_api
from accesmt.api.services import api_key_create, api_key_revoke
from tests.tenant_matrix import API, ROUTES, declared_routes
from tests.territory.factories import CPTSFactory

declared_routes()  # imports every tenant_urls.py
CALLS = [route for route in ROUTES.values() if route.kind == API]


def test_every_operation_of_the_schema_is_declared_with_a_call():
    operations = {
        operation["operationId"]
        for path in ninja_api.get_openapi_schema()["paths"].values()
        for operation in path.values()
    }
    called = {route.name.removeprefix("api:") for route in CALLS}
    assert len(operations) == len(CALLS)
    for operation in operations:
        assert any(operation.endswith(f"_{name}") for name in called), operation


def _ask(client, call, objs, raw_key):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {raw_key}"} if raw_key else {}
    body = call.body(objs) if call.body else None
    if call.method == "get":
        return client.get(call.path(objs), **headers)
    return client.post(
        call.path(objs), data=json.dumps(body), content_type="application/json", **headers
    )


@pytest.mark.parametrize("route", CALLS, ids=lambda route: route.name)
def test_an_operation_acts_on_the_cpts_of_its_key_only(client, db, route):
    call = route.call
    cpts_a = CPTSFactory(name="CPTS Alpha", slug="cpts-alpha")
    cpts_b = CPTSFactory(name="CPTS Bêta", slug="cpts-beta")
    objs_a = call.setup(cpts_a) if call.setup else {"secrets": []}
    if call.setup:
        call.setup(cpts_b)
    _key, raw_a = api_key_create(cpts=cpts_a, name="A")
    _key, raw_b = api_key_create(cpts=cpts_b, name="B")
    revoked, raw_revoked = api_key_create(cpts=cpts_a, name="A, révoquée")
    api_key_revoke(key=revoked)

    for raw in ("", raw_revoked, "amt_faux_0000"):
        refused = _ask(client, call, objs_a, raw)
        assert refused.status_code == 401, (route.name, raw, refused.status_code)
        assert refused.json()["errors"][0]["message"]
        for secret in objs_a["secrets"]:
            assert secret not in refused.content.decode()

    other = _ask(client, call, objs_a, raw_b)
    assert other.status_code == call.other_status, (route.name, other.content)
    for secret in objs_a["secrets"]:
        assert secret not in other.content.decode(), (route.name, secret)

    own = _ask(client, call, objs_a, raw_a)
    assert own.status_code == call.ok_status, (route.name, own.content)
