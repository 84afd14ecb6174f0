"""Benchmark results: rows with their runs, their comparison and their target; JSON and Markdown.

A row holds every run's value, so the table can show the median with min and max. A row whose
feature does not exist yet carries ``unavailable`` instead of numbers: never a made-up value.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench.stats import median


@dataclass
class Target:
    """What the issue asks of a figure: ``subject`` ("ratio" or "value") ``op`` ``threshold``."""

    subject: str
    op: str  # ">=", "<=", "<", "=="
    threshold: float
    text: str
    # Where the issue accepts a stated reason instead of the number (printed when missed).
    reason_if_missed: str = ""

    def met(self, value: float | None, ratio: float | None) -> bool | None:
        subject = ratio if self.subject == "ratio" else value
        if subject is None:
            return None
        if self.op == ">=":
            return subject >= self.threshold
        if self.op == "<=":
            return subject <= self.threshold
        if self.op == "<":
            return subject < self.threshold
        if self.op == "==":
            return abs(subject - self.threshold) < 1e-9
        raise ValueError(self.op)


@dataclass
class Row:
    figure: str
    name: str
    unit: str = ""
    samples: list[float] = field(default_factory=list)
    compare_label: str = ""
    compare_samples: list[float] = field(default_factory=list)
    compare_unit: str = ""
    target: Target | None = None
    note: str = ""
    unavailable: str = ""
    failed: str = ""
    # Set when the target cannot be judged from this row (say, a size was not reached).
    target_note: str = ""

    @property
    def value(self) -> float | None:
        return median(self.samples) if self.samples else None

    @property
    def compare_value(self) -> float | None:
        return median(self.compare_samples) if self.compare_samples else None

    @property
    def ratio(self) -> float | None:
        value, other = self.value, self.compare_value
        if value is None or other is None or other == 0:
            return None
        return value / other

    @property
    def target_met(self) -> bool | None:
        if self.target is None or self.target_note or self.unavailable or self.failed:
            return None
        return self.target.met(self.value, self.ratio)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(value=self.value, ratio=self.ratio, target_met=self.target_met)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Row:
        known = {key: data[key] for key in cls.__dataclass_fields__ if key in data}
        if known.get("target"):
            known["target"] = Target(**known["target"])
        return cls(**known)


def unavailable(figure: str, name: str, reason: str, target: Target | None = None) -> Row:
    return Row(figure=figure, name=name, unavailable=reason, target=target)


def write_rows(path: Path, rows: list[Row]) -> None:
    """Append rows to a JSON-lines file (one figure process may write several times)."""
    with path.open("a", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row.to_json()) + "\n")


def read_rows(path: Path) -> list[Row]:
    if not path.exists():
        return []
    return [Row.from_json(json.loads(line)) for line in path.read_text().splitlines() if line]


def emit(*rows: Row) -> None:
    """Hand rows to the orchestrator (through the file it named) and print them for the log."""
    target = os.environ.get("OMS_BENCH_RESULTS_FILE")
    if target:
        write_rows(Path(target), list(rows))
    for row in rows:
        print(f"    {row.figure} {row.name}: {format_value(row)}", flush=True)


# --- Markdown ---------------------------------------------------------------------------------


def _number(value: float, unit: str = "") -> str:
    if unit == "ms":
        text = f"{value:.2f}" if value < 10 else f"{value:.1f}"
    elif unit == "MiB":
        text = f"{value:.0f}"
    elif value >= 100 or float(value).is_integer():
        text = f"{value:,.0f}"
    else:
        text = f"{value:.1f}"
    return f"{text} {unit}".strip()


def one_line(text: str, limit: int = 200) -> str:
    """Error text fit for a table cell: one line, spaces collapsed, cut at ``limit``."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def format_value(row: Row) -> str:
    if row.unavailable:
        return f"not available yet: {row.unavailable}"
    if row.failed:
        return f"failed: {one_line(row.failed)}"
    if row.value is None:
        return "—"
    text = _number(row.value, row.unit)
    if len(row.samples) > 1:
        low, high = min(row.samples), max(row.samples)
        text += f" ({_number(low)}-{_number(high)})"
    return text


def format_compare(row: Row) -> str:
    if not row.compare_label:
        return ""
    if row.compare_value is None:
        return row.compare_label
    text = f"{row.compare_label}: {_number(row.compare_value, row.compare_unit or row.unit)}"
    if len(row.compare_samples) > 1:
        low, high = min(row.compare_samples), max(row.compare_samples)
        text += f" ({_number(low)}-{_number(high)})"
    return text


def format_ratio(row: Row) -> str:
    # Three significant digits: 0.995 is not "1.00" when the target is 1.0.
    return "" if row.ratio is None else f"{row.ratio:.3g}"


def format_target(row: Row) -> str:
    if row.target is None:
        return ""
    met = row.target_met
    if row.target_note:
        return f"{row.target.text}: {row.target_note}"
    verdict = "" if met is None else (" ✅ met" if met else " ❌ missed")
    return f"{row.target.text}{verdict}"


def escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown_table(rows: list[Row]) -> str:
    lines = [
        "| # | figure | value: median (min-max) | ceiling or peer: median (min-max) "
        "| ratio | target |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        cells = [
            row.figure,
            row.name,
            format_value(row),
            format_compare(row),
            format_ratio(row),
            format_target(row),
        ]
        lines.append("| " + " | ".join(escape(cell) for cell in cells) + " |")
    return "\n".join(lines)


def figure_key(figure: str) -> tuple[int, ...]:
    return tuple(int(part) if part.isdigit() else 0 for part in figure.split("."))
