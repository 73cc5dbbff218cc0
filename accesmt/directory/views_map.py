"""Lists of GPs taking new patients: public (`<cpts_slug>/medecins/`, public listing only, never
the capacity) and professionals (`espace/<cpts_slug>/medecins-disponibles/`, adds the
professionals-only listing and the capacity). The list is the accessible version and works
without JavaScript; `…/carte.json` gives the markers of the same selection, which the Leaflet
map (static/core/map.js) shows next to the list. Tiles come from `MAP_TILE_URL` (none when
empty), whose host is added to the CSP img-src of these two pages only (ADR 0009)."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.db.models import Avg
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from accesmt.accounts.access import cpts_role_required
from accesmt.accounts.models import Role
from accesmt.territory.models import CPTS, Commune

from .installations import installations_of
from .models import AvailabilityDeclaration, PracticeSite, Practitioner
from .selectors import planned_departures

PROFILES = {
    "enfants": ("accepts_children_under_6", "enfants de moins de 6 ans"),
    "70-ans": ("accepts_aged_70_plus", "personnes de 70 ans et plus"),
    "ald": ("accepts_ald", "patients en ALD"),
    "css-ame": ("accepts_css_ame", "bénéficiaires de la CSS ou de l'AME"),
    "visites": ("accepts_home_visits", "visites à domicile"),
}
PROFESSIONAL_ROLES = (
    Role.COORDINATOR,
    Role.REFERRER,
    Role.GP,
    Role.CPAM_MEDIATOR,
    Role.CPAM_AGENT,
)


def available_entries(cpts, *, professionals: bool, profile: str = "", commune: str = ""):
    """Rows (declaration, sites) of GPs with a current accepting declaration listed to the
    audience, filtered by profile key (PROFILES) and commune INSEE code."""
    declarations = AvailabilityDeclaration.objects.accepting().filter(cpts=cpts)
    declarations = (
        declarations.listed_to_professionals() if professionals else declarations.listed_publicly()
    )
    if profile in PROFILES:
        declarations = declarations.filter(**{PROFILES[profile][0]: True})
    rows = []
    for declaration in declarations.select_related("practitioner").order_by(
        "practitioner__last_name", "practitioner__first_name"
    ):
        sites = list(
            PracticeSite.objects.present()
            .in_cpts(cpts)
            .filter(practitioner=declaration.practitioner)
            .select_related("commune")
        )
        if commune:
            sites = [s for s in sites if s.commune_id == commune]
        if sites:
            rows.append((declaration, sites))
    return rows


def tile_csp_source(tile_url: str) -> str:
    """The CSP source of a Leaflet tile URL template: scheme and host, `{s}` as a wildcard."""
    parts = urlsplit(tile_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return ""
    return f"{parts.scheme}://{parts.netloc.replace('{s}', '*')}"


def _map_context(request, cpts, *, markers_view) -> dict:
    communes = Commune.objects.filter(territory__cpts=cpts, latitude__isnull=False)
    centre = communes.aggregate(lat=Avg("latitude"), lon=Avg("longitude"))
    markers_url = reverse(markers_view, kwargs={"cpts_slug": cpts.slug})
    if request.GET:
        markers_url += "?" + request.GET.urlencode()
    return {
        "markers_url": markers_url,
        "map_centre": centre if centre["lat"] is not None else None,
        "tile_url": settings.MAP_TILE_URL if tile_csp_source(settings.MAP_TILE_URL) else "",
        "tile_attribution": settings.MAP_TILE_ATTRIBUTION,
    }


def _render_with_map(request, context):
    response = render(request, "directory/available.html", context)
    source = tile_csp_source(context["tile_url"])
    if source:  # only the map pages may load images from the tile server
        response._csp_update = {"img-src": [source]}
    return response


def _context(request, cpts, *, professionals):
    profile = request.GET.get("profil", "")
    commune = request.GET.get("commune", "")
    return {
        "cpts": cpts,
        "professionals": professionals,
        "rows": available_entries(
            cpts, professionals=professionals, profile=profile, commune=commune
        ),
        "profiles": [(key, label) for key, (_, label) in PROFILES.items()],
        "communes": Commune.objects.filter(territory__cpts=cpts).order_by("name"),
        "selected_profile": profile,
        "selected_commune": commune,
    }


def _markers(rows, *, professionals):
    markers = []
    for declaration, sites in rows:
        for site in sites:
            if site.latitude is None:
                continue
            marker = {
                "name": declaration.practitioner.display_name,
                "lat": site.latitude,
                "lon": site.longitude,
                "commune": site.commune.name if site.commune_id else site.commune_name,
                "accepting": declaration.get_accepting_display(),
                "anchor": f"medecin-{declaration.practitioner_id}",
            }
            if professionals:
                marker["monthly_capacity"] = declaration.monthly_capacity
            markers.append(marker)
    return markers


def _public_cpts(cpts_slug):
    cpts = CPTS.objects.filter(slug=cpts_slug, is_active=True).first()
    if cpts is None:
        raise Http404("Page introuvable.")
    return cpts


def public_list(request, cpts_slug):
    cpts = _public_cpts(cpts_slug)
    context = _context(request, cpts, professionals=False)
    context |= _map_context(request, cpts, markers_view="directory:public_markers")
    return _render_with_map(request, context)


def public_markers(request, cpts_slug):
    context = _context(request, _public_cpts(cpts_slug), professionals=False)
    return JsonResponse({"markers": _markers(context["rows"], professionals=False)})


@cpts_role_required(*PROFESSIONAL_ROLES)
def professional_list(request, cpts_slug):
    context = _context(request, request.cpts, professionals=True)
    context |= _map_context(request, request.cpts, markers_view="directory:professional_markers")
    return _render_with_map(request, context)


@cpts_role_required(*PROFESSIONAL_ROLES)
def professional_markers(request, cpts_slug):
    context = _context(request, request.cpts, professionals=True)
    return JsonResponse({"markers": _markers(context["rows"], professionals=True)})


@cpts_role_required(Role.COORDINATOR)
def coordinator_directory(request, cpts_slug):
    """Every present GP of the territory, with their current declaration (listed or not)."""
    cpts = request.cpts
    current = {
        d.practitioner_id: d for d in AvailabilityDeclaration.objects.current().filter(cpts=cpts)
    }
    departures = {
        d.practitioner_id: d
        for d in planned_departures([cpts.pk], on_or_after=timezone.localdate())
    }
    rows = [
        (practitioner, current.get(practitioner.pk), departures.get(practitioner.pk))
        for practitioner in Practitioner.objects.present().in_cpts(cpts)
    ]
    return render(
        request,
        "directory/directory.html",
        {
            "cpts": cpts,
            "rows": rows,
            "installations": installations_of(cpts).filter(date__gte=timezone.localdate()),
        },
    )
