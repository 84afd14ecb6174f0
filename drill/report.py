"""The drill's result: a table on the terminal and a section of RELIABILITY.md."""

from __future__ import annotations

import json
import os
import platform
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from drill.faults import Injected

# gunicorn's access line, or the service's own request line in text format (as `make run` logs);
# in JSON format (production) the request line is an object with "logger" and "status".
STATUS_LINE = re.compile(r'(?:"[A-Z]+ \S+ HTTP/[\d.]+"|oms\.requests: [A-Z]+ \S+) (\d{3}) ')

HEADER = """# Reliability

What `make drill` (`python -m drill`, see [Fault drills](docs/operations.md#fault-drills))
measured: the service's production processes under simulated load while faults are injected on a
seeded schedule, then checked once nothing moves any more. Each section is rewritten by the run of
its mode; every check must pass, and a change to event delivery must keep them passing.
"""


@dataclass(frozen=True)
class Row:
    name: str
    found: str
    ok: bool


@dataclass
class DrillResult:
    mode: str
    orders: int
    seed: int
    settings: dict[str, str]
    rows: list[Row] = field(default_factory=list)
    faults: list[Injected] = field(default_factory=list)
    load: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return all(row.ok for row in self.rows)

    @property
    def failed(self) -> list[str]:
        return [row.name for row in self.rows if not row.ok]


def http_statuses(log: Path) -> Counter[int]:
    """How many requests were answered with each status, from an access log (gunicorn's) or the
    web server's log, whichever format its request lines are in."""
    try:
        text = log.read_text(errors="replace")
    except OSError:
        return Counter()
    statuses: Counter[int] = Counter()
    for line in text.splitlines():
        if line.startswith("{"):
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if record.get("logger") == "oms.requests" and isinstance(record.get("status"), int):
                statuses[record["status"]] += 1
        else:
            statuses.update(int(code) for code in STATUS_LINE.findall(line))
    return statuses


def server_errors_row(statuses: Counter[int]) -> Row:
    """5xx answers during the drill. A 503 (the database dropped under a fault, retry invited) is
    the service's correct answer to an outage; a 500 is a bug and fails the drill."""
    answered = sum(statuses.values())
    errors = {code: n for code, n in sorted(statuses.items()) if code >= 500}
    found = f"{sum(errors.values())} of {answered}"
    if errors:
        found += " (" + ", ".join(f"{code}: {n}" for code, n in errors.items()) + ")"
    return Row("requests answered 5xx during the drill (500 fails)", found, 500 not in errors)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kib / 1024 / 1024:.1f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return (
        f"{platform.node()}: {os.cpu_count()} cores ({cpu}){memory}, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}"
    )


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def as_text(result: DrillResult) -> str:
    width = max(len(row.name) for row in result.rows) if result.rows else 10
    lines = [f"drill ({result.mode}, {result.orders} orders, seed {result.seed}):"]
    for record in result.faults:
        lines.append(
            f"  fault at {record.orders_before} orders, {record.seconds}s: {record.fault.value}: "
            f"{record.detail}"
        )
    for row in result.rows:
        lines.append(f"  {'PASS' if row.ok else 'FAIL'}  {row.name:<{width}}  {row.found}")
    verdict = "PASSED" if result.passed else f"FAILED: {', '.join(result.failed)}"
    lines.append(f"drill {result.mode}: {verdict} in {result.seconds:.0f} s")
    return "\n".join(lines)


def as_markdown(result: DrillResult) -> str:
    verdict = "every check passed" if result.passed else f"FAILED: {', '.join(result.failed)}"
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"## {result.mode} mode: {result.orders} orders, seed {result.seed}",
        "",
        f"Run {when} on {machine()}; {result.seconds:.0f} s in all; {verdict}.",
        "",
        "Settings: " + ", ".join(f"`{k}={v}`" for k, v in result.settings.items()) + ".",
        "",
        "| # | fault | injected at (orders placed) | s after the load started | what happened |",
        "| --- | --- | --- | --- | --- |",
    ]
    for n, record in enumerate(result.faults, 1):
        lines.append(
            f"| {n} | {record.fault.value} | {record.orders_before} | {record.seconds} | "
            f"{_cell(record.detail)} |"
        )
    lines += ["", "| check | found | result |", "| --- | --- | --- |"]
    for row in result.rows:
        lines.append(f"| {_cell(row.name)} | {_cell(row.found)} | {'pass' if row.ok else 'FAIL'} |")
    if result.load:
        lines += ["", "The load (`manage.py simulate`):", "", "```", *result.load, "```"]
    return "\n".join(lines) + "\n"


def write_section(path: Path, result: DrillResult) -> None:
    """Replace (or add) this mode's section of the report file."""
    begin, end = f"<!-- drill:{result.mode} -->", f"<!-- /drill:{result.mode} -->"
    section = f"{begin}\n{as_markdown(result)}{end}\n"
    text = path.read_text() if path.exists() else HEADER
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        tail = rest.split(end, 1)[1].lstrip("\n")
        text = f"{head}{section}{tail}"
    else:
        text = f"{text.rstrip()}\n\n{section}"
    path.write_text(text)
