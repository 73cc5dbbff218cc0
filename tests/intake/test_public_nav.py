"""The public pages of a CPTS link to each other (core/_cpts_public_nav.html, issue 13)."""

import html
import re

import pytest
from django.urls import reverse

from tests.accounts.factories import MembershipFactory

from .test_public import form_data

pytestmark = pytest.mark.django_db


def _nav(response) -> str:
    assert response.status_code == 200
    found = re.search(r'<nav class="cpts-nav".*?</nav>', response.content.decode(), re.S)
    assert found, "the CPTS's public pages are not linked"
    return html.unescape(found.group(0))


def _links(cpts) -> list[str]:
    return [
        reverse("intake:register", kwargs={"cpts_slug": cpts.slug}),
        reverse("directory:public_list", kwargs={"cpts_slug": cpts.slug}),
        reverse("intake:privacy", kwargs={"cpts_slug": cpts.slug}),
    ]


@pytest.mark.parametrize(
    ("page", "current"),
    [
        ("intake:register", "intake:register"),
        ("intake:privacy", "intake:privacy"),
        ("directory:public_list", "directory:public_list"),
    ],
)
def test_each_public_page_links_the_others_and_marks_itself(client, territory, page, current):
    cpts = territory["lievin"]
    nav = _nav(client.get(reverse(page, kwargs={"cpts_slug": cpts.slug})))
    for link in _links(cpts):
        assert f'href="{link}"' in nav
    marked = re.findall(r'href="([^"]+)"\s+aria-current="page"', nav)
    assert marked == [reverse(current, kwargs={"cpts_slug": cpts.slug})]
    assert 'href="tel:+33321000000"' in nav and "03 21 00 00 00" in nav


def test_the_acknowledgment_links_the_public_pages(client, territory):
    cpts = territory["lievin"]
    response = client.post(_links(cpts)[0], form_data(), follow=True)
    nav = _nav(response)
    for link in _links(cpts):
        assert f'href="{link}"' in nav


def test_a_cpts_without_phone_shows_no_call_link(client, territory):
    nav = _nav(client.get(_links(territory["lens"])[2]))
    assert "tel:" not in nav


def test_the_professionals_forms_and_lists_do_not_show_the_public_links(client, territory):
    cpts = territory["lievin"]
    client.force_login(MembershipFactory(cpts=cpts, role="referrer").user)
    for name in ("intake:refer", "directory:professional_list"):
        response = client.get(reverse(name, kwargs={"cpts_slug": cpts.slug}))
        assert response.status_code == 200
        assert 'class="cpts-nav"' not in response.content.decode()
