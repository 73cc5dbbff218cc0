"""Every figure of the demo's indicator page (the demand section for the current ACI contract
year, as its coordinator sees it), checked against counts written here in plain Python over the
demo's rows — not through the reporting code."""

from __future__ import annotations

import datetime
from collections import Counter

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from accesmt.accounts.models import Membership, Profession, User
from accesmt.intake.models import Channel, HomeVisits, Reason, Request
from accesmt.intake.priority import RULE_TITLES
from accesmt.territory.models import CPTS

BANDS = [(6, "0 à 5 ans"), (18, "6 à 17 ans"), (40, "18 à 39 ans"), (60, "40 à 59 ans")]
BANDS += [(70, "60 à 69 ans"), (80, "70 à 79 ans"), (999, "80 ans et plus")]
MONTHS = "janvier février mars avril mai juin juillet août septembre octobre novembre décembre"


def share(part, whole):
    return round(100 * part / whole, 1) if whole else "—"


def change(now, before):
    return round(100 * (now - before) / before, 1) if before else "—"


def age_on(born: datetime.date, day: datetime.date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def band_of(age: int) -> str:
    return next(label for limit, label in BANDS if age < limit)


def registered(cpts, period):
    """The households of the period, by hand: created in it (local time), not duplicates."""
    found = []
    for request in Request.objects.filter(cpts=cpts).prefetch_related("members"):
        day = timezone.localtime(request.created_at).date()
        if period.start <= day < period.end and request.closed_reason != "duplicate":
            found.append(request)
    return found


def figures(cpts, period) -> dict:
    requests = registered(cpts, period)
    members = [(r, m) for r in requests for m in r.members.all()]
    professions = Counter()
    for r in requests:
        if r.referrer_id:
            membership = Membership.objects.filter(user_id=r.referrer_id, cpts=cpts).first()
            code = membership.profession if membership and membership.profession else "autre"
            professions[code if code in Profession.values else "autre"] += 1
    rules = Counter()
    for r in requests:
        for code in {reason.rule_code for reason in r.priority_reasons.all()}:
            rules[code] += 1
    ages = Counter()
    for r, m in members:
        ages[band_of(age_on(m.birth_date, timezone.localtime(r.created_at).date())), m.sex] += 1
    return {
        "households": len(requests),
        "persons": len(members),
        "priority": sum(r.is_priority for r in requests),
        "home": sum(m.home_visits != HomeVisits.NEVER for _, m in members),
        "by_month": Counter(
            timezone.localtime(r.created_at).date().replace(day=1) for r in requests
        ),
        "persons_by_month": Counter(
            timezone.localtime(r.created_at).date().replace(day=1) for r, _ in members
        ),
        "channels": Counter(r.channel for r in requests),
        "professions": professions,
        "referred": sum(professions.values()),
        "rules": rules,
        "reasons": Counter(r.reason for r in requests),
        "ages": ages,
        "visits": Counter(m.home_visits for _, m in members),
        "communes": Counter(r.commune_id for r, _ in members),
    }


def compared(labels, now, before, whole_now, whole_before):
    return {
        label: [
            now.get(key, 0),
            share(now.get(key, 0), whole_now),
            before.get(key, 0),
            share(before.get(key, 0), whole_before),
        ]
        for key, label in labels
    }


@pytest.mark.django_db
def test_every_figure_of_the_demo_demand_page(client):
    call_command("load_demo", households=60, history=40)
    cpts = CPTS.objects.get(slug="cpts-lievin")
    client.force_login(User.objects.get(email="coordination@cpts-lievin.example.org"))
    response = client.get(reverse("reporting:indicators", kwargs={"cpts_slug": cpts.slug}))
    assert response.status_code == 200
    period = response.context["period"]
    assert period.kind == "aci"
    shown = {r["indicator"].code: r["rows"] for r in response.context["results"]}
    now, before = figures(cpts, period), figures(cpts, period.previous())
    assert now["households"] > 20 and before["households"] > 10  # two years of history

    summary = {row[0]: row[1:] for row in shown["demand.summary"]}
    for label, key in [
        ("Foyers inscrits", "households"),
        ("Personnes inscrites", "persons"),
        ("Foyers prioritaires", "priority"),
        ("Personnes ayant besoin de visites à domicile", "home"),
    ]:
        assert summary[label] == [now[key], before[key], change(now[key], before[key])], label

    months = {row[0]: row[1:] for row in shown["demand.by_month"]}
    assert len(months) == len(period.months())
    for month in period.months():
        label = f"{MONTHS.split()[month.month - 1]} {month.year}"
        assert months[label] == [now["by_month"][month], now["persons_by_month"][month]], label

    def table(code):
        return {row[0]: row[1:] for row in shown[code]}

    assert table("demand.channels") == {
        label: [
            now["channels"][key],
            share(now["channels"][key], now["households"]),
            before["channels"][key],
            share(before["channels"][key], before["households"]),
        ]
        for key, label in Channel.choices
    }
    assert table("demand.referrer_professions") == compared(
        [*Profession.choices, ("autre", "autre")],
        now["professions"],
        before["professions"],
        now["referred"],
        before["referred"],
    )
    assert table("demand.priority_rules") == compared(
        RULE_TITLES.items(), now["rules"], before["rules"], now["households"], before["households"]
    )
    assert table("demand.reasons") == compared(
        Reason.choices, now["reasons"], before["reasons"], now["households"], before["households"]
    )
    assert table("demand.home_visits") == compared(
        HomeVisits.choices, now["visits"], before["visits"], now["persons"], before["persons"]
    )

    ages = table("demand.ages")
    for _, label in BANDS:
        counts = [now["ages"][label, sex] for sex in ("F", "M", "")]
        assert ages[label] == [*counts, sum(counts), share(sum(counts), now["persons"])], label
    assert ages["total"][3] == now["persons"]

    communes = shown["demand.communes"]
    territory = {
        link.commune.name: link.commune for link in cpts.territory.select_related("commune")
    }
    assert len(communes) == len(territory)
    for name, persons, population, per_thousand in communes:
        commune = territory[name]
        expected = now["communes"][commune.pk]
        assert [persons, population] == [expected, commune.population], name
        assert per_thousand == (
            round(1000 * expected / commune.population, 2) if commune.population else "—"
        )
    rates = [row[3] for row in communes if row[3] != "—"]
    assert rates == sorted(rates, reverse=True)
