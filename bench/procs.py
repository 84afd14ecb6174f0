"""Starting and always stopping the servers a figure needs (gunicorn, Celery workers).

Every process is started through :class:`Managed`, a context manager whose exit stops it (SIGTERM,
then SIGKILL after a grace period) whatever happened inside. A SIGTERM sent to a figure process
(the orchestrator's time limit) is turned into SystemExit so those exits run too; the
orchestrator also kills the figure's whole process group afterwards as a last resort.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType, TracebackType

from bench.config import ROOT, VAR_DIR


def stop_on_sigterm() -> None:
    """Make SIGTERM run the ``finally`` blocks and context exits that stop child processes."""

    def handler(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(f"stopped by signal {signum}")

    signal.signal(signal.SIGTERM, handler)


def free_port() -> int:
    """A TCP port nobody listens on at 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Managed:
    """A child process, logged to ``var/bench/<name>.log`` and stopped on exit."""

    def __init__(self, name: str, argv: Sequence[str], env: dict[str, str]) -> None:
        self.name = name
        self.argv = list(argv)
        self.env = env
        self.log_path = VAR_DIR / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def __enter__(self) -> Managed:
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            self.argv, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
        )
        log.close()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, grace: float = 15.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        children = descendants(self.process.pid)
        self.process.terminate()
        try:
            self.process.wait(grace)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
        for pid in children:  # a pool process that outlived its parent
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)

    def log_tail(self, lines: int = 15) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def wait_for(self, ready: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                raise RuntimeError(f"{self.name} exited while {what}:\n{self.log_tail()}")
            if ready():
                return
            time.sleep(0.2)
        raise RuntimeError(
            f"{self.name} not ready after {timeout:.0f}s ({what}):\n{self.log_tail()}"
        )


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def log_contains(path: Path, needle: str) -> bool:
    try:
        return needle in path.read_text(errors="replace")
    except OSError:
        return False


# --- /proc --------------------------------------------------------------------------------------


def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        with contextlib.suppress(OSError):
            found.extend(int(part) for part in task.read_text().split())
    return found


def descendants(pid: int) -> list[int]:
    found: list[int] = []
    pending = children(pid)
    while pending:
        child = pending.pop()
        found.append(child)
        pending.extend(children(child))
    return found


def peak_rss_mib(pid: int) -> float | None:
    """The process's peak resident set size (VmHWM), in MiB; None when it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return None


# --- CPU time, to say where the cores went during a measurement ---------------------------------

TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def machine_ticks() -> tuple[int, int]:
    """(busy, total) CPU ticks of the whole machine since boot (``/proc/stat``)."""
    fields = [int(part) for part in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return sum(fields[:8]) - idle, sum(fields[:8])


def process_ticks(pid: int) -> int:
    """User + system CPU ticks of one process; 0 when it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0
    fields = stat.rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def pids_named(name: str) -> list[int]:
    found = []
    for comm in Path("/proc").glob("[0-9]*/comm"):
        with contextlib.suppress(OSError):
            if comm.read_text().strip() == name:
                found.append(int(comm.parent.name))
    return found


class CpuMeter:
    """CPU used between :meth:`start` and :meth:`stop`, in cores (CPU seconds per second): the
    machine's, a process tree's, PostgreSQL's server processes' and this process's."""

    def __init__(self, tree_root: int) -> None:
        self.tree_root = tree_root
        self.cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1

    def _sample(
        self,
    ) -> tuple[float, tuple[int, int], dict[int, int], dict[int, int], dict[int, int]]:
        tree = [self.tree_root, *descendants(self.tree_root)]
        return (
            time.monotonic(),
            machine_ticks(),
            {pid: process_ticks(pid) for pid in tree},
            {pid: process_ticks(pid) for pid in pids_named("postgres")},
            {os.getpid(): process_ticks(os.getpid())},
        )

    def start(self) -> None:
        self.before = self._sample()

    def stop(self) -> dict[str, float]:
        after = self._sample()
        seconds = max(after[0] - self.before[0], 1e-6)
        busy = after[1][0] - self.before[1][0]
        total = max(after[1][1] - self.before[1][1], 1)

        def used(index: int) -> float:
            ticks = sum(t - self.before[index].get(pid, 0) for pid, t in after[index].items())
            return ticks / TICKS / seconds

        return {
            "machine_busy": busy / total,  # fraction of all cores
            "tree_cores": used(2),
            "postgres_cores": used(3),
            "self_cores": used(4),
        }
