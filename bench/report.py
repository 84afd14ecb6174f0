"""BENCHMARKS.md: the machine, the table, the notes, the targets and the create path's profile."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from bench.config import BenchConfig
from bench.machine import describe
from bench.results import Row, escape, format_value, markdown_table, one_line
from bench.servers import web_configuration

# What the missed targets come from and what comes next: written from the figures and the
# profile, kept beside the code and appended to every report.
ANALYSIS = Path(__file__).with_name("missed_targets.md")

INTRO = """\
Measured by `make bench` on one machine, everything in the same run: the service, its ceilings and
its peer take turns, so a ratio compares numbers taken minutes apart under the same conditions.
Each value is the median of the runs, with the lowest and highest run in brackets. A ratio is our
median divided by the ceiling's or the peer's median. `bench/README.md` says what each figure
measures, how to run one figure alone and which environment variables size the runs. A figure
whose feature does not exist yet says so instead of showing a number."""


def _targets(rows: list[Row]) -> list[str]:
    lines = []
    for row in rows:
        if row.target is None:
            continue
        met = row.target_met
        if row.target_note:
            verdict = row.target_note
        elif row.unavailable:
            verdict = "not measurable yet"
        elif row.failed:
            verdict = "not measured (the figure failed)"
        elif met is None:
            verdict = "not measured"
        else:
            verdict = "met" if met else "**missed**"
            if not met and row.target.reason_if_missed:
                verdict += f" (stated reason: {row.target.reason_if_missed})"
        lines.append(f"- {row.figure} {row.name}: {row.target.text} → {verdict}")
    return lines


def render(
    cfg: BenchConfig,
    rows: list[Row],
    when: dt.datetime,
    duration: float,
    *,
    profile: Path | None,
    load_generator: str,
    load_average: tuple[float, float],
) -> str:
    parts = ["# Benchmarks", "", INTRO, ""]
    parts.append(f"- Date: {when:%Y-%m-%d %H:%M} UTC; the whole run took {duration / 60:.1f} min")
    for label, value in describe(cfg):
        parts.append(f"- {label}: {value}")
    start, end = load_average
    parts.append(
        f"- Load average (1 min) of the machine when the run started: {start:.2f}, when it "
        f"ended: {end:.2f}. Other work on the machine slows every figure, ours and the "
        "ceilings' and the peer's alike; the min-max spread shows how much it moved them."
    )
    parts.append(
        f"- Runs per figure: {cfg.runs}; orders carry {cfg.items_per_order} items; "
        f"{web_configuration(cfg)}; HTTP load: {load_generator}, "
        f"{cfg.http_concurrency} connections, {cfg.http_seconds:.0f} s per endpoint and run"
    )
    parts += ["", "## Results", "", markdown_table(rows), ""]
    notes = [
        f"- {row.figure}: {escape(row.note)}" for row in rows if row.note and not row.unavailable
    ]
    missing = [f"- {row.figure} {row.name}: {format_value(row)}" for row in rows if row.unavailable]
    failed = [f"- {row.figure} {row.name}: {one_line(row.failed)}" for row in rows if row.failed]
    if notes:
        parts += ["## Notes", "", *notes, ""]
    if missing:
        parts += ["## Not available yet", "", *missing, ""]
    if failed:
        parts += ["## Failed", "", *failed, ""]
    targets = _targets(rows)
    if targets:
        parts += ["## Targets", "", *targets, ""]
    if profile is not None and profile.exists():
        parts += [
            "## Where the request path spends its time",
            "",
            "cProfile of `POST /api/v1/orders/`, an order's detail and a page of the list,",
            "in-process (Django's test client, PostgreSQL), as in production (the reactions are",
            "left to the subscriptions, none runs here): the statements of one request, the",
            "share of each layer (cumulative time; a layer a request does not pass shows 0) and",
            "the functions with the most own time. `bench/profile_create.py` makes it; the",
            "profiler slows Python more than waiting on PostgreSQL, so the shares lean towards",
            "Python.",
            "",
            "```",
            profile.read_text().rstrip(),
            "```",
            "",
        ]
    if ANALYSIS.exists():
        parts += [ANALYSIS.read_text().rstrip(), ""]
    return "\n".join(parts)
