"""Run the test suite on SQLite, then on PostgreSQL.

PostgreSQL comes from ``OMS_TEST_DATABASE_URL`` (default ``postgres://127.0.0.1:5432/oms``). When
it cannot be reached the second pass is skipped with the reason printed, unless
``OMS_REQUIRE_SERVICES=1``, which turns a missing service into a failure. Extra arguments are
passed to pytest (for example ``-k webhook`` or ``-x``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.services import (  # noqa: E402
    ensure_browser,
    ensure_postgres_database,
    require_services,
)

DEFAULT_PG_URL = "postgres://127.0.0.1:5432/oms"
DEFAULT_BROKER_URL = "redis://127.0.0.1:6379/15"


def pytest(env_overrides: dict[str, str], args: list[str]) -> int:
    env = {
        # The Celery suite's worker and the tests talk over a broker database and a queue of
        # their own, so a test run never takes (or leaves) tasks of a running service.
        "CELERY_BROKER_URL": os.environ.get("OMS_TEST_BROKER_URL", DEFAULT_BROKER_URL),
        "OMS_CELERY_QUEUE": f"oms-test-{os.getpid()}",
        **os.environ,
        **env_overrides,
    }
    code = subprocess.call([sys.executable, "-m", "pytest", *args], cwd=ROOT, env=env)
    return 0 if code == 5 else code  # 5: nothing collected by a filter, not a failure


def main() -> int:
    args = sys.argv[1:]
    only = os.environ.get("OMS_TEST_ONLY", "")  # "sqlite" or "postgres" to run one pass
    failures = 0
    if only in ("", "sqlite"):
        # The browser tests (SQLite pass) drive Debian's Chromium: installed here when missing.
        if (problem := ensure_browser()) is not None:
            print(f"no browser for the browser tests: {problem}", flush=True)
        print("=== pass 1: SQLite", flush=True)
        failures += pytest({"DATABASE_URL": "sqlite:///:memory:"}, args) != 0
    if only in ("", "postgres"):
        url = os.environ.get("OMS_TEST_DATABASE_URL", DEFAULT_PG_URL)
        print(f"=== pass 2: PostgreSQL ({url})", flush=True)
        problem = ensure_postgres_database(url)
        if problem is None:
            # The schema fuzzing runs more examples per operation on the production database.
            examples = os.environ.get("OMS_FUZZ_EXAMPLES", "100")
            failures += pytest({"DATABASE_URL": url, "OMS_FUZZ_EXAMPLES": examples}, args) != 0
        elif require_services():
            print(f"FAILED: PostgreSQL is required (OMS_REQUIRE_SERVICES=1): {problem}")
            failures += 1
        else:
            print(f"SKIPPED the PostgreSQL pass: {problem}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
