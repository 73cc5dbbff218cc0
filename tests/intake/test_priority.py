"""Each priority rule, its thresholds per CPTS, and its storage."""

import datetime

import pytest

from accesmt.intake import priority
from accesmt.intake.models import (
    Coverage,
    HomeVisits,
    HouseholdMember,
    IntakeSettings,
    Request,
    RequestPriorityReason,
)
from accesmt.intake.services import request_recompute_priority

from .factories import HouseholdMemberFactory, RequestFactory

TODAY = datetime.date(2025, 6, 15)


def born(years, months=0):
    return datetime.date(TODAY.year - years, TODAY.month, TODAY.day) - datetime.timedelta(
        days=31 * months
    )


def fire(*, members, config=None, **request_fields):
    request = Request(coverage=request_fields.pop("coverage", Coverage.GENERAL), **request_fields)
    people = [HouseholdMember(**{"birth_date": born(40), **m}) for m in members]
    return priority.evaluate(
        request=request, members=people, config=config or IntakeSettings(), today=TODAY
    )


def codes(fired):
    return [f.code for f in fired]


@pytest.mark.parametrize(
    ("members", "request_fields", "expected_codes", "expected_label"),
    [
        ([{"birth_date": born(78)}], {}, ["senior"], "Personne de 78 ans"),
        ([{"birth_date": born(70)}], {}, ["senior"], "Personne de 70 ans"),
        ([{"birth_date": born(69)}], {}, [], None),
        ([{"birth_date": born(3)}], {}, ["young_child"], "Enfant de 3 ans"),
        ([{"birth_date": born(0, 8)}], {}, ["young_child"], "Enfant de 8 mois"),
        ([{"birth_date": born(6)}], {}, [], None),
        ([{"has_ald": True}], {}, ["ald"], "ALD"),
        ([{}], {"coverage": Coverage.CSS}, ["coverage"], "Complémentaire santé solidaire (CSS)"),
        ([{}], {"coverage": Coverage.AME}, ["coverage"], "Aide médicale de l'État (AME)"),
        ([{}], {"coverage": Coverage.NONE}, ["coverage"], "Sans couverture sociale"),
        ([{}], {"coverage": Coverage.UNKNOWN}, [], None),
        ([{}], {"urgent_follow_up": True}, ["urgent"], "Suivi médical à débuter dans le mois"),
        (
            [{"home_visits": HomeVisits.EXCLUSIVELY}],
            {},
            ["home_visits"],
            "Visites à domicile uniquement",
        ),
        (
            [{"home_visits": HomeVisits.OCCASIONALLY}],
            {},
            ["home_visits"],
            "Visites à domicile parfois",
        ),
        ([{"home_visits": HomeVisits.NEVER}], {}, [], None),
        ([{"has_disability": True}], {}, ["disability"], "Handicap"),
    ],
)
def test_each_rule(members, request_fields, expected_codes, expected_label):
    fired = fire(members=members, **request_fields)
    assert codes(fired) == expected_codes
    if expected_label:
        assert fired[0].label == expected_label


def test_senior_threshold_is_per_cpts():
    seventy_two = [{"birth_date": born(72)}]
    assert codes(fire(members=seventy_two)) == ["senior"]
    assert codes(fire(members=seventy_two, config=IntakeSettings(senior_age=75))) == []
    assert codes(fire(members=[{"birth_date": born(75)}], config=IntakeSettings(senior_age=75)))


@pytest.mark.parametrize("rule", priority.RULES, ids=lambda r: r.code)
def test_each_rule_can_be_switched_off(rule):
    members = [
        {
            "birth_date": born(80),
            "has_ald": True,
            "has_disability": True,
            "home_visits": HomeVisits.EXCLUSIVELY,
        },
        {"birth_date": born(2)},
    ]
    fields = {"coverage": Coverage.AME, "urgent_follow_up": True}
    assert rule.code in codes(fire(members=members, **fields))
    config = IntakeSettings(**{rule.setting: False})
    remaining = codes(fire(members=members, config=config, **fields))
    assert rule.code not in remaining
    assert len(set(remaining)) == len(priority.RULES) - 1


def test_several_members_each_fire():
    fired = fire(
        members=[{"birth_date": born(81)}, {"birth_date": born(77)}, {"birth_date": born(30)}]
    )
    assert [f.label for f in fired] == ["Personne de 81 ans", "Personne de 77 ans"]


@pytest.mark.django_db
def test_recompute_stores_reasons_and_flag():
    request = RequestFactory(coverage=Coverage.CSS)
    HouseholdMemberFactory(request=request, birth_date=born(40), has_ald=True)
    request_recompute_priority(request=request, today=TODAY)
    request.refresh_from_db()
    assert request.is_priority and request.priority_rule_count == 2
    assert set(RequestPriorityReason.objects.values_list("rule_code", flat=True)) == {
        "ald",
        "coverage",
    }
    Request.objects.filter(pk=request.pk).update(coverage=Coverage.GENERAL)
    HouseholdMember.objects.update(has_ald=False)
    request.refresh_from_db()
    request_recompute_priority(request=request, today=TODAY)
    request.refresh_from_db()
    assert not request.is_priority and request.priority_rule_count == 0
    assert not RequestPriorityReason.objects.exists()
    assert Request.objects.filter(priority_reasons__rule_code="ald").count() == 0
