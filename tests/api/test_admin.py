"""API keys in the admin: the key is shown once, only its hash is stored, revoked not deleted."""

import html

import pytest

from accesmt.api.models import ApiKey
from accesmt.api.services import api_key_authenticate
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_create_show_once_and_revoke(client, cpts):
    admin = UserFactory(platform_admin=True)
    client.force_login(admin)
    response = client.post(
        "/admin/api/apikey/add/", {"cpts": cpts.pk, "name": "Site web de la CPTS"}, follow=True
    )
    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    raw = page.split("Clé d'API créée : ")[1].split(" ")[0]
    key = ApiKey.objects.get()
    assert raw.startswith(f"amt_{key.prefix}_")
    assert key.created_by == admin and raw not in key.key_hash
    assert api_key_authenticate(raw) == key
    # Shown once: the change page and the list never show it again.
    for url in ("/admin/api/apikey/", f"/admin/api/apikey/{key.pk}/change/"):
        assert raw not in client.get(url).content.decode()
    assert client.get(f"/admin/api/apikey/{key.pk}/delete/").status_code == 403
    client.post(
        "/admin/api/apikey/", {"action": "revoke", "_selected_action": [key.pk]}, follow=True
    )
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert api_key_authenticate(raw) is None
