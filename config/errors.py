"""Turn configuration mistakes into one French line instead of a stack trace."""

import sys
from collections.abc import Callable

from django.core.exceptions import ImproperlyConfigured


def _describe_database() -> str:
    from django.conf import settings

    db = settings.DATABASES["default"]
    if "sqlite" in db["ENGINE"]:
        return f"SQLite {db['NAME']}"
    return f"PostgreSQL {db.get('HOST') or 'socket'}:{db.get('PORT') or 5432}/{db.get('NAME')}"


def run_with_clear_errors(func: Callable, *args) -> None:
    from django.db.utils import OperationalError

    try:
        func(*args)
    except ImproperlyConfigured as exc:
        sys.exit(f"Erreur de configuration : {exc}")
    except OperationalError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        sys.exit(f"Base de données injoignable ({_describe_database()}) : {first}. {_hint(first)}")


def _hint(message: str) -> str:
    from django.conf import settings

    if "sqlite" in settings.DATABASES["default"]["ENGINE"]:
        return "Vérifiez DATABASE_URL et que le dossier du fichier existe et est accessible."
    if "does not exist" in message:
        return "Créez la base (createdb) ou corrigez son nom dans DATABASE_URL."
    return "Vérifiez DATABASE_URL et que le serveur est démarré."
