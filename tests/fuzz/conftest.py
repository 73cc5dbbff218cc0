"""Fuzzing kept as tests (ADR 0028): schemathesis over the API, hypothesis over the public forms.

FUZZ_EXAMPLES sets the number of examples per operation and mode (short by default, in the
normal suite); `make fuzz` raises it. Every case run is counted and the total printed at the
end of the session, with the number of server errors and partial writes found (each is also a
test failure)."""

from __future__ import annotations

import os
from collections import Counter

import pytest
from django.apps import apps
from hypothesis import HealthCheck, settings

from tests.api.conftest import api_key, auth, cpts  # noqa: F401  (fixtures)
from tests.intake.conftest import territory  # noqa: F401  (fixture)

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "20"))
CASES: Counter = Counter()

FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,  # nothing written in the work tree; a failure prints its reproduction
    suppress_health_check=list(HealthCheck),
)

# Every table a submission may write (a refused one must leave all of them untouched).
WRITTEN_TABLES = (
    "intake.Request",
    "intake.HouseholdMember",
    "intake.RequestPriorityReason",
    "intake.RequestTransition",
    "intake.DuplicateFlag",
    "intake.IntakeAttempt",
    "intake.CpamList",
    "notifications.OutboxMessage",
    "accounts.AuditLog",
)


def table_counts() -> dict[str, int]:
    return {label: apps.get_model(label).objects.count() for label in WRITTEN_TABLES}


def written(before: dict[str, int]) -> dict[str, int]:
    after = table_counts()
    return {
        label: after[label] - before[label] for label in before if after[label] != before[label]
    }


@pytest.fixture(autouse=True)
def _no_rate_limit_on_the_key(settings):
    """A fuzz run sends thousands of calls with one key: the 429 is tested in tests/api."""
    settings.API_RATE_LIMIT = "1000000/m"
    settings.API_FAILED_AUTH_LIMIT = "1000000/m"


@pytest.fixture(autouse=True)
def _progress(request):
    """`make fuzz` (-s) prints each test's cases as it ends: a long run shows where it is."""
    before = CASES["cases"]
    yield
    if request.config.getoption("capture") == "no":
        print(f"\nfuzz: {request.node.name}: {CASES['cases'] - before} cases", flush=True)


def pytest_terminal_summary(terminalreporter):
    if not CASES:
        return
    total = CASES.pop("cases", 0)
    terminalreporter.section("fuzz")
    terminalreporter.write_line(
        f"FUZZ_EXAMPLES={EXAMPLES}: {total} cases run, "
        f"{CASES['server_errors']} server errors, {CASES['partial_writes']} partial writes"
    )
    for name, count in sorted(CASES.items()):
        if name.startswith("target:"):
            terminalreporter.write_line(f"  {name[7:]}: {count}")
