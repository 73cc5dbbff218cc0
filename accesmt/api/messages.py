"""French messages for the schema errors that django-ninja (pydantic) reports in English."""

from __future__ import annotations

from collections.abc import Iterable

MESSAGES = {
    "missing": "Ce champ est obligatoire.",
    "extra_forbidden": "Champ inconnu : vérifiez son nom dans la documentation de l'API.",
    "string_type": "Texte attendu.",
    "string_too_long": "Texte trop long ({max_length} caractères au plus).",
    "bool_type": "Valeur attendue : true ou false.",
    "bool_parsing": "Valeur attendue : true ou false.",
    "date_type": "Date attendue au format AAAA-MM-JJ.",
    "date_parsing": "Date non reconnue : format attendu AAAA-MM-JJ.",
    "date_from_datetime_parsing": "Date non reconnue : format attendu AAAA-MM-JJ.",
    "date_from_datetime_inexact": "Date attendue sans heure, au format AAAA-MM-JJ.",
    "list_type": "Liste attendue.",
    "too_short": "Au moins {min_length} élément(s) attendu(s).",
    "too_long": "Au plus {max_length} élément(s).",
    "model_type": "Objet JSON attendu.",
    "model_attributes_type": "Objet JSON attendu.",
    "dict_type": "Objet JSON attendu.",
    "literal_error": "Valeur non autorisée. Valeurs possibles : {expected}.",
}


def field_path(loc: Iterable) -> str:
    """("body", "payload", "members", 0, "birth_date") → "members[0].birth_date"."""
    parts = list(loc)
    if parts[:1] == ["body"]:
        parts = parts[2:]
    elif parts[:1] in (["header"], ["path"], ["query"]):
        parts = parts[1:]
    path = ""
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path


def _message(error: dict) -> str:
    template = MESSAGES.get(error.get("type", ""))
    if template is None:
        return "Valeur invalide."
    context = dict(error.get("ctx") or {})
    try:
        return template.format(**context)
    except (KeyError, IndexError):
        return template.split(" ({")[0].split(" Valeurs")[0]


def pydantic_errors(errors: list[dict]) -> list[tuple[str, str]]:
    result = []
    for error in errors:
        path = field_path(error.get("loc", ()))
        if error.get("type") == "json_invalid" or (not path and error.get("type") == "missing"):
            result.append(("", "Le corps de la requête doit être un objet JSON."))
            continue
        if path.lower() == "idempotency-key":
            path = "Idempotency-Key"
        result.append((path, _message(error)))
    return result
