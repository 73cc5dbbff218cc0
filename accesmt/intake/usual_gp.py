"""The GP a person already sees without having declared them as médecin traitant (issue 12).

A request may name that GP by RPPS number (picked in the directory) or by name (typed). Intake
and directory sit on the same floor and never import each other (docs/decisions/0011): the
directory's reads reach the intake forms through a provider that a higher app registers at
start-up (`OrientationConfig.ready()`), as matching receives orientation's monthly counts.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import ValidationError

RPPS = re.compile(r"[0-9]{11}")
HINT = "Médecin que vous consultez déjà sans l'avoir déclaré comme médecin traitant."


@dataclass(frozen=True)
class UsualGPDirectory:
    """`choices(cpts)`: (RPPS, label) of the GPs of the CPTS, for the form's list;
    `is_known(rpps)`: a present GP of the directory holds this RPPS (any territory: the GP a
    person sees may practise just outside it)."""

    choices: Callable[[object], list[tuple[str, str]]]
    is_known: Callable[[str], bool]


_directory: UsualGPDirectory | None = None


def usual_gp_directory_register(directory: UsualGPDirectory) -> None:
    global _directory
    _directory = directory


def usual_gp_choices(cpts) -> list[tuple[str, str]]:
    if _directory is None or cpts is None:
        return []
    return _directory.choices(cpts)


def validate_usual_gp_rpps(value: str) -> str:
    """ "" or an RPPS number of a GP of the directory, with a French message otherwise."""
    value = (value or "").strip().replace(" ", "")
    if not value:
        return ""
    if not RPPS.fullmatch(value):
        raise ValidationError(
            "Le numéro RPPS du médecin compte 11 chiffres.", code="usual_gp_rpps_format"
        )
    if _directory is not None and not _directory.is_known(value):
        raise ValidationError(
            "Ce numéro RPPS ne correspond à aucun médecin de l'annuaire : indiquez plutôt son "
            "nom et sa commune.",
            code="usual_gp_rpps_unknown",
        )
    return value
