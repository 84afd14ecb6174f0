"""Keeping a figure inside its share of the time budget (its deadline, from run.py)."""

from __future__ import annotations

import time
from collections.abc import Iterator

from bench.config import BenchConfig


class Runs:
    """Up to ``cfg.runs`` runs; stops early when the next one would not end before the deadline.

    ``reserve`` is the time to keep for what the figure does after its runs. The first run always
    happens (a figure without a single run has nothing to report).
    """

    def __init__(self, cfg: BenchConfig, reserve: float = 0.0) -> None:
        self.cfg = cfg
        self.reserve = reserve
        self.done = 0
        self.longest = 0.0
        self.cut = False

    def __iter__(self) -> Iterator[int]:
        for run in range(self.cfg.runs):
            if run and self.cfg.time_left() - self.reserve < self.longest * 1.2:
                self.cut = True
                print(f"  time budget: stopping after {self.done} of {self.cfg.runs} runs")
                return
            started = time.monotonic()
            yield run
            self.longest = max(self.longest, time.monotonic() - started)
            self.done += 1

    def note(self) -> str:
        if not self.cut:
            return ""
        return f"only {self.done} of {self.cfg.runs} runs fitted in the time budget"


def join(*parts: str) -> str:
    return "; ".join(part for part in parts if part)
