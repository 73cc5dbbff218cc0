"""Imports run one way, lowest floor first (issue 9, docs/decisions/0011-layering.md).

Every module of every app under accesmt/ is parsed (AST) and each `import` / `from … import`
statement, those inside functions included, is checked against the floors below. An app may
import its own floor only where listed in SAME_FLOOR_ALLOWED. A lower app that needs a higher
one's behaviour receives it as an argument or a registered hook (see orientation/apps.py).

Three more rules: `core`, the shell, imports nothing but `common`; a `views*` module never
imports another app's `views*` module, and a `selectors` module never imports a `services`
module (reads do not depend on writes)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "accesmt"

FLOORS = [
    {"common"},
    {"territory", "notifications", "accounts"},
    {"directory", "intake"},
    {"matching"},
    {"orientation"},
    {"reporting", "api"},
    {"core", "demo"},
]
FLOOR = {app: level for level, apps in enumerate(FLOORS) for app in apps}
# The shell (base template, middleware, error pages, public home) imports no domain app.
SHELL = {"core"}

# Same-floor imports that exist today, each allowed on purpose (importer, imported). There are
# none between directory and intake.
SAME_FLOOR_ALLOWED = {
    # the tenant check (accounts.access.cpts_role_required) looks up the CPTS of the URL
    ("accounts", "territory"),
    # the password-reset e-mail goes through the notifications outbox
    ("accounts", "notifications"),
    # the outbox is scoped per CPTS member (TenantQuerySet)
    ("notifications", "accounts"),
    # the API's indicator endpoints call the reporting catalogue (one function per indicator
    # feeds the pages, the exports and the API); reporting never imports the API
    ("api", "reporting"),
}


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if len(parts) < 3:  # accesmt/__init__.py
            continue
        yield path, parts


def imports_of(source: str, parts: tuple[str, ...]) -> list[tuple[int, str]]:
    """(line, dotted name) of every module a source imports, relative imports resolved;
    `from a import b` yields both `a` and `a.b` (b may be a module)."""
    package = list(parts[:-1]) if parts[-1] != "__init__" else list(parts[:-1])
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.append((node.lineno, module))
            found += [(node.lineno, f"{module}.{alias.name}") for alias in node.names]
    return found


def violations(source: str, parts: tuple[str, ...]) -> list[str]:
    app, module_name = parts[1], parts[-1]
    where = "/".join(parts) + ".py"
    problems = []
    for line, name in imports_of(source, parts):
        target = name.split(".")
        if target[0] != "accesmt" or len(target) < 2 or target[1] not in FLOOR:
            continue
        other = target[1]
        last = target[-1]
        if app in SHELL and other not in SHELL | {"common"}:
            problems.append(f"{where}:{line} the shell ({app}) imports {name}: only common")
        if other != app:
            if FLOOR[other] > FLOOR[app]:
                problems.append(f"{where}:{line} {app} imports {name} (a higher floor)")
            elif FLOOR[other] == FLOOR[app] and (app, other) not in SAME_FLOOR_ALLOWED:
                problems.append(f"{where}:{line} {app} imports {name} (same floor, not listed)")
            if module_name.startswith("views") and last.startswith("views") and len(target) == 3:
                problems.append(f"{where}:{line} a view module imports {name}")
        if module_name == "selectors" and last == "services" and len(target) == 3:
            problems.append(f"{where}:{line} a selector imports {name}")
    return problems


def test_every_app_is_on_a_floor():
    apps = {p.name for p in PACKAGE.iterdir() if (p / "apps.py").exists() or p.name == "common"}
    assert apps - set(FLOOR) == set()


def test_imports_run_one_way():
    problems = []
    for path, parts in _modules():
        problems += violations(path.read_text(encoding="utf-8"), parts)
    assert problems == []


@pytest.mark.parametrize(
    "parts, source",
    [
        (
            ("accesmt", "matching", "services"),
            "def f():\n    from accesmt.orientation import services\n",
        ),
        (("accesmt", "matching", "services"), "import accesmt.orientation.selectors\n"),
        (("accesmt", "common", "links"), "from accesmt.accounts.models import User\n"),
        (
            ("accesmt", "directory", "models"),
            "from accesmt.territory import models\n"
            "from accesmt.notifications.services import x\nfrom accesmt.accounts import views\n"
            "from accesmt.matching.models import Run\n",
        ),
        (
            ("accesmt", "orientation", "views"),
            "from accesmt.directory.views_declaration import f\n",
        ),
        (("accesmt", "intake", "selectors"), "from .services import FOLLOWUP_SALT\n"),
        (("accesmt", "intake", "selectors"), "from . import services\n"),
        (("accesmt", "territory", "selectors"), "from ..intake.models import Request\n"),
        (("accesmt", "core", "middleware"), "from accesmt.accounts.access import LoginRequired\n"),
        (("accesmt", "notifications", "selectors"), "from accesmt.intake.models import Request\n"),
        (
            ("accesmt", "notifications", "views"),
            "def f():\n    from accesmt.orientation.letter import render_message_letter\n",
        ),
    ],
)
def test_the_checker_catches_imports_against_the_order(parts, source):
    assert violations(source, parts) != []


def test_the_checker_lets_downward_imports_through():
    source = (
        "from accesmt.intake.models import Request\nfrom .models import AllocationRun\n"
        "def f():\n    from accesmt.common.links import public_url\n"
    )
    assert violations(source, ("accesmt", "matching", "services")) == []
