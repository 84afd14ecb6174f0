"""Fail when requirements-bench.lock pins a package at another version than requirements.lock.

The bench lock is compiled with the main lock as constraint, so both agree when it is fresh.
After the main lock changes, installing a stale bench lock would silently move the project's own
packages to other versions; this check stops ``make bench`` first and says how to regenerate it.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).absolute().parent.parent
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s\\;]+)", re.MULTILINE)
REGENERATE = (
    ".venv/bin/uv pip compile pyproject.toml --extra bench --python-version 3.11 "
    "--generate-hashes -c requirements.lock -o requirements-bench.lock"
)


def pins(path: Path) -> dict[str, str]:
    return {
        re.sub(r"[-_.]+", "-", name).lower(): version
        for name, version in PIN.findall(path.read_text())
    }


def main() -> int:
    main_pins = pins(ROOT / "requirements.lock")
    bench_pins = pins(ROOT / "requirements-bench.lock")
    stale = [
        f"{name}: {bench_pins[name]} in requirements-bench.lock, {version} in requirements.lock"
        for name, version in sorted(main_pins.items())
        if name in bench_pins and bench_pins[name] != version
    ]
    if stale:
        print("requirements-bench.lock is stale:\n  " + "\n  ".join(stale), file=sys.stderr)
        print(f"Regenerate it with:\n  {REGENERATE}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
