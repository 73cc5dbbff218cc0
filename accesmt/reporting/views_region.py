"""The region: the indicators of every CPTS of the platform together (`Scope(cpts=None)`), for
the platform admin only, counts as they are. Same pages as a CPTS's (`views_indicators`), under
`espace/plateforme/` — a word a CPTS slug cannot take (`territory.models.RESERVED_CPTS_SLUGS`)."""

from __future__ import annotations

from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from accesmt.common.errors import LoginRequired

from . import snapshots
from .access import region_scope
from .models import default_contract_start
from .views_indicators import Place, catalogue_page, section_page

REGION_NAME = "la plateforme (toutes les CPTS)"


def _require_platform_admin(http_request) -> None:
    user = http_request.user
    if not user.is_authenticated or not user.is_active:
        raise LoginRequired
    if not user.is_platform_admin:
        raise Http404("Page introuvable.")


def region_place() -> Place:
    return Place(
        name=REGION_NAME,
        home_url=reverse("reporting:espace"),
        indicators_url=reverse("reporting:region_indicators"),
        catalogue_url=reverse("reporting:region_catalogue"),
        section_url=lambda slug: reverse(
            "reporting:region_indicators_section", kwargs={"section_slug": slug}
        ),
    )


def _snapshot(section: str, period):
    """The worker's tables of `section` for the default period (`snapshots.py`); computed and
    stored now when the worker has not run yet, so that the next visit is quick."""
    if period != snapshots.region_default_period(default_contract_start()):
        return None
    found = snapshots.snapshot_read(section, period)
    if found is None:
        now = timezone.now()
        tables = snapshots.region_tables(region_scope(), section, period)
        snapshots.snapshot_store(section, period, tables, now=now)
        found = tables, now
    return found


def region_indicators(http_request, section_slug: str = "demande"):
    """Periods default to the calendar year: CPTS contracts start on different days. The
    default period is read from the worker's snapshot; another one is computed on the spot."""
    _require_platform_admin(http_request)
    return section_page(
        http_request,
        section_slug,
        scope=region_scope(),
        contract_start=default_contract_start(),
        place=region_place(),
        precomputed=_snapshot,
    )


def region_catalogue(http_request):
    _require_platform_admin(http_request)
    return catalogue_page(http_request, place=region_place())
