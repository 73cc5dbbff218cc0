"""Overseas numbers typed the French national way keep their real country code (issue #8, 6)."""

import importlib

import pytest
from django.apps import apps

from accesmt.common.phones import format_phone_for_display, normalise_phone, overseas_e164
from accesmt.intake.models import Request
from tests.directory.factories import PracticeSiteFactory
from tests.intake.factories import RequestFactory
from tests.intake.test_public import form_data, url
from tests.territory.factories import CPTSFactory

# (national form, international form, E.164, display)
OVERSEAS = [
    ("0590 20 12 34", "+590 590 20 12 34", "+590590201234", "0590 20 12 34"),  # Guadeloupe
    ("0690 12 34 56", "+590 690 12 34 56", "+590690123456", "0690 12 34 56"),
    ("0691 23 45 67", "+590 691 23 45 67", "+590691234567", "0691 23 45 67"),
    ("0596 60 12 34", "+596 596 60 12 34", "+596596601234", "0596 60 12 34"),  # Martinique
    ("0696 12 34 56", "+596 696 12 34 56", "+596696123456", "0696 12 34 56"),
    ("0697 12 34 56", "+596 697 12 34 56", "+596697123456", "0697 12 34 56"),
    ("0594 10 12 34", "+594 594 10 12 34", "+594594101234", "0594 10 12 34"),  # Guyane
    ("0694 20 12 34", "+594 694 20 12 34", "+594694201234", "0694 20 12 34"),
    ("0262 16 12 34", "+262 262 16 12 34", "+262262161234", "0262 16 12 34"),  # La Réunion
    ("0692 12 34 56", "+262 692 12 34 56", "+262692123456", "0692 12 34 56"),
    ("0693 12 34 56", "+262 693 12 34 56", "+262693123456", "0693 12 34 56"),
    ("0269 61 12 34", "+262 269 61 12 34", "+262269611234", "0269 61 12 34"),  # Mayotte
    ("0639 01 23 45", "+262 639 01 23 45", "+262639012345", "0639 01 23 45"),
    ("0508 41 23 45", "+508 41 23 45", "+508412345", "+508 41 23 45"),  # Saint-Pierre-et-M.
]


@pytest.mark.parametrize(("national", "international", "e164", "display"), OVERSEAS)
def test_overseas_number_is_stored_under_its_own_country_code_whichever_way_typed(
    national, international, e164, display
):
    assert normalise_phone(national) == e164
    assert normalise_phone(international) == e164
    assert normalise_phone("00" + international[1:]) == e164
    # Read as metropolitan by mistake ("+33 596 60 12 34"): the same line.
    assert normalise_phone("+33 " + national[1:]) == e164
    assert overseas_e164("+33" + national[1:].replace(" ", "")) == e164
    assert format_phone_for_display(e164) == display


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("03 21 44 55 66", "+33321445566"),  # metropolitan landline
        ("06 12 34 56 78", "+33612345678"),
        ("09 76 00 12 34", "+33976001234"),  # VoIP shared with overseas: stays French
    ],
)
def test_metropolitan_numbers_stay_french(value, expected):
    assert normalise_phone(value) == expected
    assert overseas_e164(expected) == expected


def test_public_form_stores_martinique_landline_as_596(client, territory):
    client.post(url(territory["lievin"]), form_data(phone="0596 60 12 34"), follow=True)
    assert Request.objects.get().phone == "+596596601234"


@pytest.mark.django_db
def test_data_migration_renormalises_stored_overseas_phones():
    migration = importlib.import_module(
        "accesmt.intake.migrations.0008_overseas_phones_real_country_code"
    )
    mayotte = RequestFactory(phone="+33269611234")
    metropolitan = RequestFactory(phone="+33612345678")
    site = PracticeSiteFactory(phone="+33596601234")
    rpps_site = PracticeSiteFactory(phone="0596601234")  # as imported: left as it is
    cpts = CPTSFactory(phone="+33508412345")

    migration.renormalise_overseas_phones(apps, None)

    for obj in (mayotte, metropolitan, site, rpps_site, cpts):
        obj.refresh_from_db()
    assert mayotte.phone == "+262269611234"
    assert metropolitan.phone == "+33612345678"
    assert site.phone == "+596596601234"
    assert rpps_site.phone == "0596601234"
    assert cpts.phone == "+508412345"
