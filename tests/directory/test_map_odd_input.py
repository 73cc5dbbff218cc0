"""Odd filter values on the public GP list and its markers (a NUL byte, which PostgreSQL
refuses in text, a non-number, an overflowing number) give the page, never a server error."""

import pytest
from django.test import Client
from django.urls import reverse

from .test_map import gps  # noqa: F401 (fixture)


@pytest.mark.parametrize("value", ["\x00", "abc", "99999999999999999999", "1\x00"])
@pytest.mark.parametrize("name", ["commune", "profil"])
@pytest.mark.parametrize("view", ["directory:public_list", "directory:public_markers"])
def test_odd_filter_values_are_ignored(cpts, gps, value, name, view):  # noqa: F811
    client = Client(raise_request_exception=False)
    response = client.get(reverse(view, kwargs={"cpts_slug": cpts.slug}), {name: value})
    assert response.status_code == 200
