"""What the benchmark ran on: printed at the top of BENCHMARKS.md."""

from __future__ import annotations

import os
import platform
import sys
from importlib import metadata
from pathlib import Path

from bench.config import BenchConfig
from bench.database import server_version


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _memory_gib() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return 0.0


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def _redis_version(url: str) -> str:
    try:
        import redis

        info = redis.Redis.from_url(url, socket_connect_timeout=2).info("server")
        return str(info.get("redis_version", "unknown"))
    except Exception as exc:
        return f"unreachable ({type(exc).__name__})"


def describe(cfg: BenchConfig) -> list[tuple[str, str]]:
    try:
        postgres = server_version(cfg.database_url)
    except Exception as exc:
        postgres = f"unreachable ({type(exc).__name__})"
    return [
        ("Cores", f"{os.cpu_count()} ({cfg.cores} usable) · {_cpu_model()}"),
        ("Memory", f"{_memory_gib():.1f} GiB"),
        ("OS", f"{platform.system()} {platform.release()} ({platform.machine()})"),
        ("Python", sys.version.split()[0]),
        ("PostgreSQL", postgres),
        ("Redis", _redis_version(cfg.broker_url)),
        (
            "Packages",
            f"Django {_version('django')}, DRF {_version('djangorestframework')}, "
            f"psycopg {_version('psycopg')}, gunicorn {_version('gunicorn')}, "
            f"Celery {_version('celery')}, eventsourcing {_version('eventsourcing')}",
        ),
    ]
