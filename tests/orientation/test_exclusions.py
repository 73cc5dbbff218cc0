"""The excluded GPs of a request: on the orientation page the count by reason and the nearest
few (a territory has ~2,000 GPs), all of them on their own paginated page."""

import html
import re

import pytest
from django.urls import reverse

from accesmt.accounts.models import AuditLog
from accesmt.orientation import views


def text(response) -> str:
    assert response.status_code == 200
    return " ".join(html.unescape(response.content.decode()).split())


def listed(page: str) -> list[str]:
    """The GPs' names in the list of excluded GPs (the selects of the page name them all)."""
    [block] = re.findall(r"<ul data-exclusions>(.*?)</ul>", page)
    return re.findall(r"MEDECIN\d", block)


def url(o, name):
    return reverse(
        f"orientation:{name}", kwargs={"cpts_slug": o.cpts.slug, "reference": o.request.reference}
    )


@pytest.fixture
def three_excluded(client, o, monkeypatch):
    """GPs 2 to 5 km away excluded (two not accepting, one without places, one too small for
    the household of two), the page showing 2 of them and the full list 2 a page."""
    monkeypatch.setattr(views, "EXCLUSIONS_SHOWN", 2)
    monkeypatch.setattr(views, "EXCLUSIONS_PAGE_SIZE", 2)
    for gp in o.gps[1:3]:
        gp.declarations.update(accepting="no", monthly_capacity=None)
    o.gps[3].declarations.update(monthly_capacity=0)
    o.gps[4].declarations.update(monthly_capacity=1)
    client.force_login(o.coordinator)
    return client


def test_orientation_page_counts_by_reason_and_lists_only_the_nearest(three_excluded, o):
    page = text(three_excluded.get(url(o, "request")))
    assert "Médecins du territoire exclus et pourquoi (4)" in page
    assert "N'acceptent pas de nouveaux patients : 2" in page
    assert "Capacité du mois atteinte : 1" in page
    assert "Pas assez de places pour ce foyer : 1" in page
    assert listed(page) == ["MEDECIN2", "MEDECIN3"]
    assert "Les 2 plus proches :" in page
    assert f'href="{url(o, "request_exclusions")}">Voir tous les médecins exclus (4)' in page


def test_no_link_when_every_excluded_gp_is_shown(client, o):
    o.gps[4].declarations.update(accepting="no", monthly_capacity=None)
    client.force_login(o.coordinator)
    page = text(client.get(url(o, "request")))
    assert listed(page) == ["MEDECIN5"]
    assert url(o, "request_exclusions") not in page
    assert "plus proches" not in page


def test_full_list_is_paginated_nearest_first_and_audited(three_excluded, o):
    first = text(three_excluded.get(url(o, "request_exclusions")))
    assert "exclus pour la demande" in first and "(4)" in first
    assert "N'acceptent pas de nouveaux patients : 2" in first
    assert listed(first) == ["MEDECIN2", "MEDECIN3"]
    assert "foyer de 2 personnes pour 1 place restante" not in first
    assert "Page 1 / 2" in first
    second = text(three_excluded.get(url(o, "request_exclusions") + "?page=2"))
    assert listed(second) == ["MEDECIN4", "MEDECIN5"]
    assert "foyer de 2 personnes pour 1 place restante" in second
    assert (
        AuditLog.objects.filter(
            actor=o.coordinator, action="read", object_id=str(o.request.pk)
        ).count()
        == 2
    )


def test_full_list_leaves_out_the_gps_already_asked(three_excluded, o):
    from accesmt.orientation.services import solicitations_send

    o.gps[1].declarations.update(accepting="yes", monthly_capacity=2)
    solicitations_send(request=o.request, practitioner_ids=[o.gps[1].pk])
    o.gps[1].declarations.update(accepting="no", monthly_capacity=None)  # asked, then excluded
    page = text(three_excluded.get(url(o, "request_exclusions")))
    assert "(3)" in page
    assert listed(page) == ["MEDECIN3", "MEDECIN4"]


def test_full_list_is_refused_to_a_referrer(client, o):
    client.force_login(o.referrer)
    assert client.get(url(o, "request_exclusions")).status_code in (403, 404)
