"""The API's operations in the route declarations (tests/tenant_matrix.py), each asked by
tests/api/test_api_matrix.py with the key of its CPTS, of another CPTS, a revoked key and none."""

import itertools

from tests.tenant_matrix import ApiCall, api, public

_postcodes = itertools.count(100)


def _commune_in(cpts) -> dict:
    from accesmt.territory.models import PostalCode
    from tests.directory.factories import territory_with
    from tests.territory.factories import CommuneFactory

    commune = CommuneFactory(name=f"Ville-{cpts.slug}")
    PostalCode.objects.create(code=f"59{next(_postcodes):03d}", commune=commune)
    territory_with(cpts, commune)
    return {"commune": commune, "postcode": commune.postal_codes.get().code, "secrets": []}


def _request_in(cpts) -> dict:
    from tests.intake.factories import HouseholdMemberFactory, RequestFactory

    request = RequestFactory(cpts=cpts, email=f"api-{cpts.slug}@exemple.fr")
    member = HouseholdMemberFactory(request=request, last_name=f"Api-{cpts.slug}")
    return {"request": request, "secrets": [request.reference, request.email, member.last_name]}


def _person(objs) -> dict:
    return {
        "address": "3 rue Jean Jaurès",
        "postcode": objs["postcode"],
        "commune_name": objs["commune"].name,
        "phone": "06 11 22 33 44",
    }


api(
    "api:create_request",
    call=ApiCall(
        "post",
        lambda objs: "/api/v1/requests",
        ok_status=201,
        other_status=422,  # B's key files for B: the commune is not on B's territory
        setup=_commune_in,
        body=lambda objs: {
            **_person(objs),
            "email": "famille@exemple.fr",
            "coverage": "css",
            "reason": "mt_retired",
            "consent_processing": True,
            "consent_sharing": True,
            "members": [
                {"first_name": "Jeanne", "last_name": "Dubois", "birth_date": "1947-02-11"}
            ],
        },
    ),
)
api(
    "api:request_status",
    call=ApiCall(
        "get",
        lambda objs: f"/api/v1/requests/{objs['request'].reference}",
        ok_status=200,
        other_status=404,
        setup=_request_in,
    ),
)
api(
    "api:import_cpam_list",
    call=ApiCall(
        "post",
        lambda objs: "/api/v1/listes-cpam",
        ok_status=201,
        other_status=422,
        setup=_commune_in,
        body=lambda objs: {
            "campaign_name": "Plan ALD",
            "list_date": "2026-01-05",
            "rows": [
                {
                    **_person(objs),
                    "last_name": "Martin",
                    "first_name": "Jeanne",
                    "birth_date": "1948-05-17",
                    "sex": "F",
                    "ald": True,
                }
            ],
        },
    ),
)
# The catalogue is the same for every key; a table is computed for the key's CPTS only.
api(
    "api:indicator_list",
    call=ApiCall("get", lambda objs: "/api/v1/indicateurs", ok_status=200, other_status=200),
)
api(
    "api:indicator_table",
    call=ApiCall(
        "get",
        lambda objs: "/api/v1/indicateurs/demand.summary",
        ok_status=200,
        other_status=200,
        setup=_request_in,
    ),
)
# The documentation (public); /api/ itself answers 404 (django-ninja's root, no page).
api("api:openapi-json")
api("api:openapi-view")
public("api:api-root", statuses=(404,))
