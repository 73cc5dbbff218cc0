"""What the fuzzing found, kept as plain tests (each failed before its fix)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accesmt.intake.models import Request
from tests.intake.test_public import form_data

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("value", ["²", "١", "𝟙", "٣"])
def test_remove_member_with_a_digit_that_is_not_ascii(client, territory, value):
    """str.isdigit() is true for "²" but int() refuses it: the page must show again (200)."""
    url = reverse("intake:register", kwargs={"cpts_slug": "lievin"})
    data = form_data(**{"membres-TOTAL_FORMS": "2", "remove_member": value})
    response = client.post(url, data)
    assert response.status_code == 200
    assert Request.objects.count() == 0
