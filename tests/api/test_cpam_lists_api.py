"""POST /api/v1/listes-cpam: the rows of a CPAM list as JSON, the same checks as the file, all or
nothing (201 with the counts, or 422 naming every refused field and nothing written)."""

import datetime
import json

import pytest
from django.utils import timezone

from accesmt.intake.models import Channel, CpamList, Request, Status
from accesmt.notifications.models import OutboxMessage
from tests.intake.factories import HouseholdMemberFactory, RequestFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/listes-cpam"


def row(**overrides):
    return {
        "last_name": "Martin",
        "first_name": "Jeanne",
        "birth_date": "1948-05-17",
        "sex": "F",
        "address": "12 rue des Lilas",
        "postcode": "62800",
        "commune_name": "Liévin",
        "phone": "06 12 34 56 78",
        "ald": True,
        "usual_gp": "10001234567",
        **overrides,
    }


def body(*rows, **overrides):
    return {"campaign_name": "Plan ALD 2026", "list_date": "2026-11-02", "rows": list(rows)} | (
        overrides
    )


def post(client, data, auth):
    return client.post(URL, data=json.dumps(data), content_type="application/json", **auth)


def test_a_valid_list_is_imported_with_its_duplicates_reported(client, auth, cpts):
    waiting = RequestFactory(cpts=cpts, commune=cpts.territory.first().commune)
    HouseholdMemberFactory(
        request=waiting,
        last_name="Lefèvre",
        first_name="Paul",
        birth_date=datetime.date(1950, 2, 3),
    )
    response = post(
        client,
        body(
            row(),
            row(last_name="Lefèvre", first_name="Paul", birth_date="03/02/1950", phone=""),
            row(last_name="Roux", first_name="Léa", phone="", insee_code="62032", postcode=""),
        ),
        auth,
    )
    assert response.status_code == 201, response.content
    answer = response.json()
    assert (answer["rows"], answer["imported"]) == (3, 2)
    assert answer["duplicates"] == [
        {"row": 1, "message": answer["duplicates"][0]["message"], "reference": waiting.reference}
    ]
    cpam_list = CpamList.objects.get(pk=answer["id"])
    assert cpam_list.source == CpamList.Source.API and cpam_list.imported_by is None
    roux = cpam_list.requests.get(members__last_name="Roux")
    assert roux.commune_id == "62032" and roux.postcode == "62143"
    assert {r.status for r in cpam_list.requests.all()} == {Status.OPT_OUT_PENDING}
    assert {r.channel for r in cpam_list.requests.all()} == {Channel.CPAM_LIST}
    assert timezone.localtime(roux.waiting_since).date() == datetime.date(2026, 11, 2)


def test_one_refused_row_refuses_the_whole_list(client, auth, cpts):
    before = (Request.objects.count(), OutboxMessage.objects.count())
    response = post(
        client,
        body(
            row(),
            row(last_name="Petit", birth_date="2026-31-12"),
            row(last_name="Roux", postcode="62300", commune_name="Lens", nir="123"),
        ),
        auth,
    )
    assert response.status_code == 422
    fields = {e["field"]: e["message"] for e in response.json()["errors"]}
    assert "Date de naissance non reconnue" in fields["rows[1].birth_date"]
    assert "Lens n'est pas sur le territoire" in fields["rows[2].postcode"]
    assert "15 caractères" in fields["rows[2].nir"]
    assert (Request.objects.count(), OutboxMessage.objects.count()) == before
    assert not CpamList.objects.exists()


def test_schema_errors_are_french_and_name_the_field(client, auth):
    response = post(client, body(row(), opt_out_days=3), auth)
    assert response.status_code == 422
    assert any(e["field"].endswith("opt_out_days") for e in response.json()["errors"])
    future = (timezone.localdate() + datetime.timedelta(days=2)).isoformat()
    response = post(client, body(row(), list_date=future), auth)
    assert response.json()["errors"][0]["field"] == "list_date"
    assert post(client, body(row()), {}).status_code == 401


def test_documented_in_openapi(client):
    schema = client.get("/api/openapi.json").json()
    operation = schema["paths"]["/api/v1/listes-cpam"]["post"]
    assert operation["summary"] == "Importer une liste de la CPAM"
    assert "422" in operation["responses"] and "201" in operation["responses"]
