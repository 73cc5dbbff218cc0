"""Bounded pages (common.pagination, decision 0029): the rows of one page and a count that stops
at a cap, whatever the length of the list."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accesmt.accounts.models import User
from accesmt.common import pagination
from accesmt.common.pagination import bounded_count, bounded_page, bounded_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def users():
    for n in range(7):
        User.objects.create_user(email=f"u{n}@exemple.fr", password=None)
    return User.objects.order_by("email")


def emails(page) -> list[str]:
    return [user.email for user in page]


def test_within_the_cap_the_count_and_the_pages_are_exact(users):
    page = bounded_page(users, 2, 3, cap=10)
    assert emails(page) == ["u3@exemple.fr", "u4@exemple.fr", "u5@exemple.fr"]
    assert (page.paginator.count, page.paginator.num_pages) == (7, 3)
    assert page.has_next() and page.has_previous()


def test_above_the_cap_more_than_until_the_last_page(users):
    first = bounded_page(users, 1, 2, cap=3)
    assert emails(first) == ["u0@exemple.fr", "u1@exemple.fr"]
    assert first.paginator.count == "plus de 3"
    assert first.paginator.num_pages == "plus de 1"
    assert first.has_next() and not first.has_previous()
    third = bounded_page(users, 3, 2, cap=3)
    assert third.paginator.num_pages == "plus de 3"
    last = bounded_page(users, 4, 2, cap=3)
    assert emails(last) == ["u6@exemple.fr"]
    assert (last.paginator.count, last.paginator.num_pages) == (7, 4)
    assert not last.has_next()


def test_a_page_past_the_end_or_not_a_number(users):
    assert emails(bounded_page(users, 99, 2, cap=3)) == ["u6@exemple.fr"]  # counted, the last
    assert emails(bounded_page(users, 99, 2, cap=10)) == ["u6@exemple.fr"]
    assert emails(bounded_page(users, "abc", 2, cap=3)) == ["u0@exemple.fr", "u1@exemple.fr"]
    assert emails(bounded_page(users, "-4", 2, cap=3)) == ["u0@exemple.fr", "u1@exemple.fr"]


def test_the_count_reads_at_most_one_more_than_the_cap(users, monkeypatch):
    monkeypatch.setattr(pagination, "COUNT_CAP", 5)
    with CaptureQueriesContext(connection) as queries:
        assert bounded_count(users) == 6
    assert "LIMIT 6" in queries[0]["sql"]
    assert bounded_count(users.filter(email__startswith="u1")) == 1
    assert (bounded_text(5), bounded_text(6)) == ("5", "plus de 5")
