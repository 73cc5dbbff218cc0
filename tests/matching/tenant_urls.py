"""The queue-wide allocation pages of `espace/<cpts_slug>/repartition/` in the tenant matrix."""

from tests.tenant_matrix import COORDINATION, register_page


def _run_in(cpts) -> dict:
    from accesmt.matching.services import allocation_run_create
    from tests.worlds import gp_at, waiting_request

    commune = _commune_of(cpts)
    gp = gp_at(cpts, commune, capacity=2)
    gp.practitioner.last_name = f"MEDECIN-{cpts.slug}"
    gp.practitioner.save()
    request = waiting_request(cpts, commune, priority=True)
    run = allocation_run_create(cpts=cpts, by=None)
    return {"run": run, "secrets": [request.reference, gp.practitioner.last_name]}


def _commune_of(cpts):
    from tests.directory.factories import territory_with
    from tests.territory.factories import CommuneFactory
    from tests.worlds import point_at

    lat, lon = point_at(0, 0)
    commune = CommuneFactory(latitude=lat, longitude=lon)
    territory_with(cpts, commune)
    return commune


register_page(
    "matching:runs",
    allowed=COORDINATION,
    setup=_run_in,
)
register_page(
    "matching:runs (launch)",
    url_name="matching:runs",
    method="post",
    data=lambda cpts, objs: {"method": "exact"},
    allowed=COORDINATION,
    setup=_run_in,
    ok_statuses=(302,),
)
register_page("matching:run", pk="run", allowed=COORDINATION, setup=_run_in)
register_page(
    "matching:run_discard",
    pk="run",
    method="post",
    allowed=COORDINATION,
    setup=_run_in,
    ok_statuses=(302,),
)
register_page(
    "orientation:allocation_run_send",
    pk="run",
    method="post",
    data=lambda cpts, objs: {"scope": "all"},
    allowed=COORDINATION,
    setup=_run_in,
    ok_statuses=(302,),
)
