"""The public form's fields are rendered once per CPTS and served from the cache to every visitor
of an empty form (intake/form_cache.py); never to a form with data, never with another visitor's
CSRF token or submission key, never with another CPTS's communes."""

import datetime
import html
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from freezegun import freeze_time

from accesmt.intake import form_cache
from accesmt.intake.models import Request
from tests.territory.factories import TerritoryCommuneFactory

from .test_public import form_data

pytestmark = pytest.mark.django_db

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
KEY = re.compile(r'name="submission_key" value="([^"]+)"')


def url(cpts):
    return reverse("intake:register", kwargs={"cpts_slug": cpts.slug})


def page(response) -> str:
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def datalist(text: str) -> list[str]:
    block = text.split('<datalist id="communes">')[1].split("</datalist>")[0]
    return re.findall(r'<option value="([^"]*)">', block)


def test_cached_page_is_the_page_rendered_without_the_cache(client, territory):
    first = page(client.get(url(territory["lievin"])))
    second = page(client.get(url(territory["lievin"])))  # from the cache
    mask = lambda text: KEY.sub("KEY", CSRF.sub("CSRF", text))  # noqa: E731
    assert mask(first) == mask(second)
    assert 'name="consent_processing"' in second and "CPTS Liévin Pays d'Artois" in second


def test_csrf_token_and_submission_key_differ_between_two_visitors(territory):
    pages = [page(Client(enforce_csrf_checks=True).get(url(territory["lievin"]))) for _ in "ab"]
    assert CSRF.search(pages[0])[1] != CSRF.search(pages[1])[1]
    assert KEY.search(pages[0])[1] != KEY.search(pages[1])[1]


def test_a_page_served_from_the_cache_registers(territory):
    client = Client(enforce_csrf_checks=True)
    client.get(url(territory["lievin"]))
    text = page(client.get(url(territory["lievin"])))  # from the cache
    data = form_data(csrfmiddlewaretoken=CSRF.search(text)[1], submission_key=KEY.search(text)[1])
    response = client.post(url(territory["lievin"]), data)
    assert response.status_code == 302
    assert str(Request.objects.get().submission_key) == KEY.search(text)[1]


def test_a_form_with_errors_is_never_served_from_the_cache(client, territory):
    client.get(url(territory["lievin"]))  # fills the cache
    data = form_data(phone="", email="", address="7 impasse des Tilleuls")
    data["membres-0-first_name"] = "Clémentine"
    response = client.post(url(territory["lievin"]), data)
    text = page(response)
    assert "point à corriger" in text
    assert "Indiquez au moins un téléphone ou une adresse e-mail" in text
    assert 'value="7 impasse des Tilleuls"' in text and 'value="Clémentine"' in text
    assert 'aria-invalid="true"' in text
    # …and the next visitor still gets the empty form.
    empty = page(client.get(url(territory["lievin"])))
    assert "Clémentine" not in empty and "Tilleuls" not in empty
    assert "aria-invalid" not in empty


def test_each_cpts_gets_its_own_communes_and_consent_text(client, territory):
    lievin = page(client.get(url(territory["lievin"])))
    lens = page(client.get(url(territory["lens"])))
    assert datalist(lievin) == ["Angres", "Liévin", "Éleu-dit-Leauwette"]
    assert datalist(lens) == ["Lens"]
    assert "CPTS Lens Hénin" in lens and "CPTS Liévin Pays d'Artois" not in lens


def test_the_commune_of_the_home_page_is_prefilled_not_cached_for_others(client, territory):
    prefilled = page(client.get(url(territory["lievin"]) + "?commune=62032"))
    commune = re.compile(r'<input[^>]*name="commune_name"[^>]*>')
    assert 'value="Angres"' in commune.search(prefilled)[0] and 'value="62143"' in prefilled
    plain = page(client.get(url(territory["lievin"])))
    assert "value=" not in commune.search(plain)[0] and 'value="62143"' not in plain


def test_a_commune_joining_or_leaving_the_territory_shows_at_once(client, territory):
    assert "Arras" not in datalist(page(client.get(url(territory["lievin"]))))
    joined = TerritoryCommuneFactory(
        cpts=territory["lievin"], commune=territory["communes"]["Arras"]
    )
    assert "Arras" in datalist(page(client.get(url(territory["lievin"]))))
    joined.delete()
    assert "Arras" not in datalist(page(client.get(url(territory["lievin"]))))


def test_a_renamed_commune_shows_once_the_fragment_expired(client, territory):
    start = timezone.now()
    with freeze_time(start):
        client.get(url(territory["lievin"]))
        angres = territory["communes"]["Angres"]
        angres.name = "Angres-en-Artois"
        angres.save()
    later = start + datetime.timedelta(seconds=form_cache.TIMEOUT + 1)
    with freeze_time(later):
        assert "Angres-en-Artois" in datalist(page(client.get(url(territory["lievin"]))))


def test_a_new_cpts_name_shows_at_once(client, territory):
    client.get(url(territory["lens"]))
    territory["lens"].name = "CPTS du Grand Lens"
    territory["lens"].save()
    assert "CPTS du Grand Lens" in page(client.get(url(territory["lens"])))


def test_the_key_changes_with_the_code(territory, monkeypatch):
    before = form_cache.fragment_key(cpts=territory["lens"], channel="online", place={})
    form_cache.code_version.cache_clear()
    monkeypatch.setattr(form_cache, "_CODE", ("intake",))  # as if a template had changed
    try:
        after = form_cache.fragment_key(cpts=territory["lens"], channel="online", place={})
    finally:
        form_cache.code_version.cache_clear()
    assert before != after


def test_a_cached_page_reads_neither_the_communes_nor_the_form_twice(
    client, territory, django_assert_max_num_queries
):
    client.get(url(territory["lievin"]))
    with django_assert_max_num_queries(2):  # the CPTS and its communes' version
        client.get(url(territory["lievin"]))
