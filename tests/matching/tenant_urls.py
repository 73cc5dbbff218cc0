"""The queue-wide allocation pages of `espace/<cpts_slug>/repartition/` in the tenant matrix."""

from django.urls import reverse

from tests.tenant_matrix import COORDINATION, TenantURL, register, register_page


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


def _on_run(name):
    return lambda cpts, objs: reverse(
        f"matching:{name}", kwargs={"cpts_slug": cpts.slug, "pk": objs["run"].pk}
    )


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
register(TenantURL(name="matching:run", url=_on_run("run"), allowed=COORDINATION, setup=_run_in))
register(
    TenantURL(
        name="matching:run_discard",
        url=_on_run("run_discard"),
        method="post",
        allowed=COORDINATION,
        setup=_run_in,
        ok_statuses=(302,),
    )
)
register(
    TenantURL(
        name="matching:run_send",
        url=_on_run("run_send"),
        method="post",
        data=lambda cpts, objs: {"scope": "all"},
        allowed=COORDINATION,
        setup=_run_in,
        ok_statuses=(302,),
    )
)
