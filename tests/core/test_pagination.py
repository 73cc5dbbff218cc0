"""The one pagination partial: previous / next links that keep the list's filters."""

from django.core.paginator import Paginator
from django.template import Context, Template

PARTIAL = Template('{% include "core/_pagination.html" with page=page query=query %}')


def render(number, query=""):
    page = Paginator(range(30), 10).page(number)
    return PARTIAL.render(Context({"page": page, "query": query}))


def test_middle_page_links_both_ways_keeping_the_filters():
    html = render(2, "lignes=sans")
    assert 'href="?lignes=sans&amp;page=1"' in html
    assert 'href="?lignes=sans&amp;page=3"' in html
    assert "Page 2 / 3" in html


def test_without_filters_the_links_carry_only_the_page():
    html = render(1)
    assert 'href="?page=2"' in html and "précédente" not in html


def test_a_single_page_shows_no_navigation():
    page = Paginator(range(3), 10).page(1)
    assert PARTIAL.render(Context({"page": page})).strip() == ""
