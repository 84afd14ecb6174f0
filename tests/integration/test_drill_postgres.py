"""The fault drill, small: production processes, each fault once, nothing lost.

Runs ``python -m drill`` as a subprocess against a PostgreSQL database of its own (``oms_drill_ci``,
on the test database's server) and a Redis broker it starts and kills. The full drill
(``make drill``) is run by hand; its table is in RELIABILITY.md.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from drill.faults import FAULTS_BY_MODE
from scripts.services import require_services

pytestmark = [pytest.mark.postgres, pytest.mark.drill]

ROOT = Path(__file__).resolve().parents[2]


def drill_database_url() -> str:
    db = connection.settings_dict
    user = f"{db['USER']}@" if db.get("USER") else ""
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{user}{host}:{port}/oms_drill_ci"


def run_drill(*args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    if shutil.which("redis-server") is None:
        message = "the fault drill needs redis-server (it starts and kills its own broker)"
        if require_services():
            pytest.fail(f"{message} (OMS_REQUIRE_SERVICES=1)")
        pytest.skip(message)
    command = [sys.executable, "-m", "drill", "--database-url", drill_database_url(), *args]
    return subprocess.run(
        command,
        cwd=ROOT,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_the_small_drill_injects_every_fault_and_loses_nothing() -> None:
    done = run_drill("--mode", "celery", "--small", "--concurrency", "2", timeout=300)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    for fault in FAULTS_BY_MODE["celery"]:
        assert f": {fault.value}: " in done.stdout, f"{fault} was not injected:\n{output}"
    assert "could not inject" not in done.stdout, output
    assert "PASS  faults injected" in done.stdout, output
    assert "drill celery: PASSED" in done.stdout, output


def test_a_handler_that_breaks_an_invariant_fails_the_drill() -> None:
    done = run_drill("--mode", "celery", "--orders", "15", "--no-faults", "--sabotage", timeout=240)
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    # Delivered orders' rows now say CANCELLED without an event: the fold disagrees.
    assert "FAIL  verify_event_store" in done.stdout, output
    assert "FAIL  orders per final state" in done.stdout, output
    verdict = [line for line in done.stdout.splitlines() if line.startswith("drill celery: ")][-1]
    assert "FAILED" in verdict, output
    assert "verify_event_store" in verdict, output
