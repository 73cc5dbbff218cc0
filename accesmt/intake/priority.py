"""Priority rules: the only place that decides whether a request is "prioritaire".

A request is prioritaire when at least one rule fires for the household or one of its members.
Rules are switched on/off and their age thresholds set per CPTS in `IntakeSettings` (the seeds
use 70+ in Sud Est Grenoblois and 75+ elsewhere). `evaluate()` is pure (no database writes): it
works on unsaved objects too; `services.request_recompute_priority` stores its result, one
`RequestPriorityReason` per fired rule, with the French label shown as a badge.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from .models import Coverage, HomeVisits, HouseholdMember, IntakeSettings, Request


@dataclass(frozen=True)
class Rule:
    code: str
    title: str  # for filters and the documentation
    setting: str  # the IntakeSettings boolean that switches it on


RULES: tuple[Rule, ...] = (
    Rule("senior", "Personne âgée", "rule_senior"),
    Rule("young_child", "Jeune enfant", "rule_young_child"),
    Rule("ald", "Affection de longue durée (ALD)", "rule_ald"),
    Rule("coverage", "CSS, AME ou sans couverture", "rule_coverage"),
    Rule("urgent", "Suivi à débuter dans le mois", "rule_urgent"),
    Rule("home_visits", "Visites à domicile", "rule_home_visits"),
    Rule("disability", "Handicap", "rule_disability"),
)
RULE_TITLES = {rule.code: rule.title for rule in RULES}


@dataclass(frozen=True)
class FiredRule:
    code: str
    label: str
    member: HouseholdMember | None = None


def _age_label(member: HouseholdMember, today: datetime.date) -> tuple[int, str]:
    age = member.age_on(today)
    if age >= 1:
        return age, f"{age} an{'s' if age > 1 else ''}"
    born = member.birth_date
    months = (today.year - born.year) * 12 + today.month - born.month - (today.day < born.day)
    return 0, f"{max(months, 0)} mois"


def evaluate(
    *,
    request: Request,
    members: Iterable[HouseholdMember],
    config: IntakeSettings,
    today: datetime.date,
) -> list[FiredRule]:
    """Every rule that fires, in the order of RULES, member by member."""
    members = list(members)
    fired: list[FiredRule] = []
    on = {rule.code for rule in RULES if getattr(config, rule.setting)}

    for member in members:
        if member.birth_date is None:
            continue
        age, age_text = _age_label(member, today)
        if "senior" in on and age >= config.senior_age:
            fired.append(FiredRule("senior", f"Personne de {age_text}", member))
        if "young_child" in on and age < config.child_age_below:
            fired.append(FiredRule("young_child", f"Enfant de {age_text}", member))
    if "ald" in on:
        fired += [FiredRule("ald", "ALD", m) for m in members if m.has_ald]
    if "coverage" in on:
        label = {
            Coverage.CSS: "Complémentaire santé solidaire (CSS)",
            Coverage.AME: "Aide médicale de l'État (AME)",
            Coverage.NONE: "Sans couverture sociale",
        }.get(request.coverage)
        if label:
            fired.append(FiredRule("coverage", label))
    if "urgent" in on and request.urgent_follow_up:
        fired.append(FiredRule("urgent", "Suivi médical à débuter dans le mois"))
    if "home_visits" in on:
        for member in members:
            if member.home_visits == HomeVisits.EXCLUSIVELY:
                fired.append(FiredRule("home_visits", "Visites à domicile uniquement", member))
            elif member.home_visits == HomeVisits.OCCASIONALLY:
                fired.append(FiredRule("home_visits", "Visites à domicile parfois", member))
    if "disability" in on:
        fired += [FiredRule("disability", "Handicap", m) for m in members if m.has_disability]
    return fired
