"""Fixtures for the contract tests: schemathesis fuzzing and the generated OpenAPI client.

Both suites need real commits (the inline event backend dispatches on ``transaction.on_commit``),
so they use ``transactional_db`` rather than ``db``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from rest_framework.authtoken.models import Token


def fuzz_examples() -> int:
    """Examples per operation and phase (OMS_FUZZ_EXAMPLES, default 25)."""
    return int(os.environ.get("OMS_FUZZ_EXAMPLES") or 25)


def fuzz_seed() -> int:
    """Seed of the schemathesis run (OMS_FUZZ_SEED, default fixed so runs are reproducible)."""
    return int(os.environ.get("OMS_FUZZ_SEED") or 20240611)


@dataclass(frozen=True)
class Identity:
    role: str
    username: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Token {self.token}"}


def make_identity(role: str) -> Identity:
    username = f"contract-{role}"
    user = get_user_model().objects.create_user(
        username=username, password="contract-password-123", is_staff=role == "staff"
    )
    token, _ = Token.objects.get_or_create(user=user)
    return Identity(role=role, username=username, token=token.key)


@pytest.fixture
def in_process_wsgi() -> Iterator[None]:
    """Keep the test's database connection across in-process WSGI requests.

    Django's WSGI handler calls ``close_old_connections`` around every request; with
    ``CONN_MAX_AGE=0`` (the SQLite setting) that closes the connection the test holds. Django's own
    test client disconnects these receivers in the same way.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def contract_customer(transactional_db: Any) -> Identity:
    return make_identity("customer")


@pytest.fixture
def contract_staff(transactional_db: Any) -> Identity:
    return make_identity("staff")


# --- Distinct schemathesis failures, collected across the run ----------------------------------


@dataclass
class FoundFailure:
    operation: str
    check: str
    code: str
    title: str
    roles: set[str]
    status_code: int
    message: str
    curl: str


# (operation, check, code, title) → the smallest example seen (by length of its curl command).
FUZZ_FAILURES: dict[tuple[str, str, str, str], FoundFailure] = {}


def record_failure(
    *,
    role: str,
    operation: str,
    check: str,
    code: str,
    title: str,
    status: int,
    msg: str,
    curl: str,
) -> None:
    key = (operation, check, code, title)
    found = FUZZ_FAILURES.get(key)
    if found is None:
        FUZZ_FAILURES[key] = FoundFailure(operation, check, code, title, {role}, status, msg, curl)
        return
    found.roles.add(role)
    if len(curl) < len(found.curl):
        found.status_code, found.message, found.curl = status, msg, curl


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not FUZZ_FAILURES:
        return
    write = terminalreporter.write_line
    terminalreporter.section(f"schemathesis: {len(FUZZ_FAILURES)} distinct failures")
    for found in sorted(FUZZ_FAILURES.values(), key=lambda f: (f.operation, f.check, f.code)):
        roles = ",".join(sorted(found.roles))
        write(f"{found.operation}  [{found.check} {found.code}] {found.title}  ({roles})")
        first_line = found.message.splitlines()[0][:200] if found.message else ""
        write(f"    -> {found.status_code}: {first_line}")
        write(f"    $ {found.curl[:400]}")
    report = os.environ.get("OMS_FUZZ_REPORT")
    if report:
        import json

        with open(report, "w") as fh:
            json.dump(
                [
                    {**vars(found), "roles": sorted(found.roles)}
                    for found in sorted(
                        FUZZ_FAILURES.values(), key=lambda f: (f.operation, f.check)
                    )
                ],
                fh,
                indent=2,
            )
        write(f"written to {report}")


# --- Continue-on-failure for the schemathesis items -------------------------------------------
# Hypothesis stops an operation at its first failing example, and the first failure (often the
# same undocumented problem+json content type) hides every later one. With OMS_FUZZ_CONTINUE=1
# (the default) the test records failures instead of raising, all examples run, and the item
# fails at the end of its call phase with the list of distinct failures it saw.

ITEM_FAILURES = pytest.StashKey[list[str]]()


def fuzz_continue() -> bool:
    return os.environ.get("OMS_FUZZ_CONTINUE", "1") not in {"0", "false", "no"}


@pytest.fixture
def item_failures(request: pytest.FixtureRequest) -> list[str]:
    failures: list[str] = []
    request.node.stash[ITEM_FAILURES] = failures
    return failures


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Any:
    result = yield
    failures = item.stash.get(ITEM_FAILURES, None)
    if failures:
        distinct = sorted(set(failures))
        raise AssertionError(
            f"schemathesis: {len(distinct)} distinct failure(s):\n" + "\n".join(distinct)
        )
    return result
