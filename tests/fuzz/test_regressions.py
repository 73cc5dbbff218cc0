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


@pytest.mark.parametrize(
    "tampered",
    [
        {"membres-INITIAL_FORMS": None},
        {"membres-TOTAL_FORMS": "abc"},
        {"membres-TOTAL_FORMS": None},
    ],
)
def test_a_tampered_member_list_gets_a_message_a_person_understands(client, territory, tampered):
    """Django's message named "ManagementForm" and asked for a bug report."""
    url = reverse("intake:register", kwargs={"cpts_slug": "lievin"})
    data = {k: v for k, v in {**form_data(), **tampered}.items() if v is not None}
    response = client.post(url, data)
    page = response.content.decode()
    assert response.status_code == 200
    assert "ManagementForm" not in page and "rapport de bogue" not in page
    assert "champ masqué" not in page.lower() and "INITIAL_FORMS)" not in page
    assert (
        "rechargez la page et saisissez-les de nouveau" in page
        or "Indiquez au moins une personne du foyer." in page
    )
    assert Request.objects.count() == 0


@pytest.mark.parametrize("value", ["²", "٣", "1²"])
def test_non_ascii_digits_are_not_postcodes(value):
    from django.core.exceptions import ValidationError

    from accesmt.intake.validation import validate_postcode

    with pytest.raises(ValidationError):
        validate_postcode(("6280" + value)[-5:] if len(value) == 1 else "628" + value)
    from accesmt.territory.codes import canonical_insee_code

    assert canonical_insee_code("7510" + value) == "7510" + value  # no crash, unchanged


def test_a_body_too_big_gets_the_api_json_error_not_an_html_page(client, auth, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
    rows = [{"last_name": "Martin", "first_name": "Anne", "address": "x" * 200}] * 6000
    response = client.post(
        "/api/v1/listes-cpam",
        {"list_date": "2026-11-02", "rows": rows},
        content_type="application/json",
        **auth,
    )
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    assert "trop volumineux" in response.json()["errors"][0]["message"]
