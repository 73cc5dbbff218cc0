"""The JSON API: keys, creation with the public form's validation, status, errors, schema."""

import datetime
import json

import pytest
from django.test import Client

from accesmt.accounts.models import AuditLog
from accesmt.api.models import ApiKey
from accesmt.api.services import api_key_authenticate, api_key_create, api_key_revoke, hash_key
from accesmt.intake.models import Channel, Request, Status
from accesmt.notifications.models import OutboxMessage

pytestmark = pytest.mark.django_db

CREATE = "/api/v1/requests"


def payload(**overrides):
    body = {
        "address": "3 rue Jean Jaurès",
        "postcode": "62800",
        "commune_name": "Liévin",
        "phone": "06 11 22 33 44",
        "email": "famille@exemple.fr",
        "coverage": "css",
        "reason": "mt_retired",
        "consent_processing": True,
        "consent_sharing": True,
        "members": [
            {"first_name": "Jeanne", "last_name": "Dubois", "birth_date": "1947-02-11"},
        ],
    }
    body.update(overrides)
    return body


def post(client, body, auth, **headers):
    return client.post(
        CREATE, data=json.dumps(body), content_type="application/json", **auth, **headers
    )


def errors(response) -> dict[str, str]:
    return {e["field"]: e["message"] for e in response.json()["errors"]}


def test_keys_are_stored_hashed_and_revocable(cpts):
    key, raw = api_key_create(cpts=cpts, name="Outil d'orientation")
    assert raw.startswith(f"amt_{key.prefix}_") and len(raw) > 40
    stored = ApiKey.objects.get()
    assert stored.key_hash == hash_key(raw) and raw not in str(stored.__dict__)
    assert api_key_authenticate(raw) == key
    assert ApiKey.objects.get().last_used_at is not None
    assert api_key_authenticate(raw + "x") is None
    assert api_key_authenticate("") is None
    api_key_revoke(key=key)
    assert api_key_authenticate(raw) is None


def test_create_a_request(client, cpts, auth):
    response = post(client, payload(), auth)
    assert response.status_code == 201, response.content
    body = response.json()
    request = Request.objects.get(reference=body["reference"])
    assert body["status"] == Status.NEW and body["status_label"] == "nouvelle"
    assert request.cpts == cpts and request.channel == Channel.API
    assert request.phone == "+33611223344"  # normalised by the intake validation
    assert request.is_priority  # 78-year-old + CSS
    assert request.members.get().last_name == "Dubois"
    assert OutboxMessage.objects.filter(topic="intake.acknowledgment").count() == 2
    assert AuditLog.objects.filter(action="create", object_id=str(request.pk)).exists()
    # Status by reference
    status = client.get(f"{CREATE}/{request.reference}", **auth)
    assert status.status_code == 200
    assert status.json()["reference"] == request.reference
    assert "Dubois" not in status.content.decode()


def test_an_overseas_landline_keeps_its_country_code(client, cpts, auth):
    response = post(client, payload(phone="0269 61 12 34"), auth)  # Mayotte
    assert response.status_code == 201, response.content
    assert Request.objects.get(reference=response.json()["reference"]).phone == "+262269611234"


def test_errors_name_the_field_in_french(client, auth):
    future = (datetime.date.today() + datetime.timedelta(days=3)).isoformat()  # noqa: DTZ011
    body = payload(
        phone="12",
        email="",
        consent_sharing=False,
        members=[
            {"first_name": "Jeanne", "last_name": "Dubois", "birth_date": "1947-02-11"},
            {
                "first_name": "Léo",
                "last_name": "Dubois",
                "birth_date": future,
                "nir": "1 23 45 67 890 123",
            },
        ],
    )
    response = post(client, body, auth)
    assert response.status_code == 422
    found = errors(response)
    assert found["members[1].birth_date"] == "La date de naissance ne peut pas être dans le futur."
    assert "phone" in found and "Ce numéro de téléphone n'est pas valide" in found["phone"]
    assert "accord de la personne" in found["consent_sharing"]
    assert Request.objects.count() == 0


def test_schema_errors_are_in_french_with_paths(client, auth):
    body = payload(coverage="mutuelle", colour="bleu")
    body["members"] = [{"first_name": "Jeanne", "birth_date": "11/02/1947"}]
    found = errors(post(client, body, auth))
    assert found["coverage"].startswith("Valeur non autorisée")
    assert found["colour"].startswith("Champ inconnu")
    assert found["members[0].last_name"] == "Ce champ est obligatoire."
    assert "AAAA-MM-JJ" in found["members[0].birth_date"]
    empty = errors(post(client, payload(members=[]), auth))
    assert "members" in empty


def test_malformed_json_is_400(client, auth):
    response = client.post(CREATE, data="{pas du json", content_type="application/json", **auth)
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"].startswith("Le corps de la requête")


def test_commune_outside_the_territory_points_to_the_covering_cpts(client, auth):
    found = errors(post(client, payload(postcode="62300", commune_name="Lens"), auth))
    assert "Lens n'est pas sur le territoire" in found["postcode"]
    assert "CPTS Lens Hénin" in found["postcode"]


@pytest.mark.parametrize(
    "header",
    [None, "Bearer ", "Bearer amt_nope_nope", "Basic dXNlcjpwYXNz", "amt_only"],
)
def test_missing_or_bad_key_is_401(client, header):
    extra = {"HTTP_AUTHORIZATION": header} if header is not None else {}
    response = post(client, payload(), extra)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert errors(response)["Authorization"]
    assert client.get(f"{CREATE}/MT-AAAA-BBBB", **extra).status_code == 401


def test_revoked_key_is_401(client, api_key, auth):
    api_key_revoke(key=api_key[0])
    assert post(client, payload(), auth).status_code == 401


def test_status_of_another_cpts_is_404(client, territory, auth):
    _key, other_raw = api_key_create(cpts=territory["lens"], name="Lens")
    created = post(client, payload(), auth).json()["reference"]
    other = {"HTTP_AUTHORIZATION": f"Bearer {other_raw}"}
    response = client.get(f"{CREATE}/{created}", **other)
    assert response.status_code == 404
    assert errors(response)["reference"]
    assert client.get(f"{CREATE}/MT-ZZZZ-ZZZZ", **auth).status_code == 404


def test_idempotency_key(client, auth):
    first = post(client, payload(), auth, HTTP_IDEMPOTENCY_KEY="commande-42")
    again = post(client, payload(), auth, HTTP_IDEMPOTENCY_KEY="commande-42")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again["Idempotent-Replayed"] == "true"
    assert first.json()["reference"] == again.json()["reference"]
    assert Request.objects.count() == 1
    other_people = payload(
        members=[{"first_name": "Paul", "last_name": "Autre", "birth_date": "1990-01-01"}]
    )
    conflict = post(client, other_people, auth, HTTP_IDEMPOTENCY_KEY="commande-42")
    assert conflict.status_code == 409
    assert "Idempotency-Key" in errors(conflict)
    assert post(client, payload(), auth).status_code == 201  # no key: a new request
    assert Request.objects.count() == 2


def test_api_ignores_csrf_but_keeps_security_headers(auth):
    strict = Client(enforce_csrf_checks=True)
    response = post(strict, payload(), auth)
    assert response.status_code == 201
    assert "Content-Security-Policy" in response
    assert response["Cache-Control"] == "no-store"


def test_openapi_schema_and_docs_without_cdn(client):
    schema = client.get("/api/openapi.json")
    assert schema.status_code == 200
    spec = schema.json()
    assert spec["info"]["title"] == "AccèsMT"
    assert "/api/v1/requests" in spec["paths"]
    assert "/api/v1/requests/{reference}" in spec["paths"]
    components = spec["components"]
    assert "RequestIn" in components["schemas"] and "MemberIn" in components["schemas"]
    assert components["securitySchemes"]["ApiKeyBearer"]["scheme"] == "bearer"
    coverage = components["schemas"]["RequestIn"]["properties"]["coverage"]
    assert "css" in json.dumps(coverage)
    docs = client.get("/api/docs")
    assert docs.status_code == 200
    page = docs.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in page
    assert "cdn" not in page.lower()
    # Our template (ADR 0018): in French, readable colours, no link nested in each button.
    assert '<html lang="fr">' in page and "/static/api/swagger-fixes.css" in page
    assert '"deepLinking": false' in page


def test_each_key_is_rate_limited_with_a_french_error_and_retry_after(client, cpts, auth, settings):
    from accesmt.api.services import api_key_create

    settings.API_RATE_LIMIT = "3/m"
    for _ in range(3):
        assert client.get(f"{CREATE}/MT-ZZZZ-ZZZZ", **auth).status_code == 404
    refused = client.get(f"{CREATE}/MT-ZZZZ-ZZZZ", **auth)
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) >= 1
    assert refused.json()["errors"][0]["message"].startswith("Trop de requêtes")
    # Another key has its own budget.
    _, other = api_key_create(cpts=cpts, name="Outil d'orientation")
    assert (
        client.get(f"{CREATE}/MT-ZZZZ-ZZZZ", HTTP_AUTHORIZATION=f"Bearer {other}").status_code
        == 404
    )
