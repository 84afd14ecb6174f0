"""Reachability checks of the external services the tests may use."""

from __future__ import annotations

import os
import socket
from urllib.parse import urlparse


def require_services() -> bool:
    return os.environ.get("OMS_REQUIRE_SERVICES", "") in {"1", "true", "yes"}


def ensure_postgres_database(url: str) -> str | None:
    """Create the database named in ``url`` if missing; return why it is unusable, or None."""
    try:
        import psycopg
        from psycopg import sql
    except ImportError as exc:  # pragma: no cover - psycopg is a locked dependency
        return f"psycopg is not installed ({exc})"
    parsed = urlparse(url)
    name = parsed.path.lstrip("/") or "oms"
    admin_url = parsed._replace(path="/postgres").geturl()
    try:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=3) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (name,)
            ).fetchone()
            if not exists:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except Exception as exc:
        return f"cannot reach PostgreSQL at {url}: {exc}".strip()
    return None


def tcp_reachable(url: str, default_port: int) -> str | None:
    """None when something listens at the URL's host and port, else the reason."""
    parsed = urlparse(url)
    host, port = parsed.hostname or "127.0.0.1", parsed.port or default_port
    try:
        with socket.create_connection((host, port), timeout=2):
            return None
    except OSError as exc:
        return f"nothing answers at {host}:{port} ({exc})"


CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


def browser_problem() -> str | None:
    """None when Debian's Chromium and its driver are installed, else what is missing."""
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not os.path.exists(path)]
    return f"missing {', '.join(missing)}" if missing else None


def ensure_browser() -> str | None:
    """Install Debian's ``chromium`` and ``chromium-driver`` for the browser tests when they are
    missing and this user may (root with apt-get); return why there is no browser, or None."""
    problem = browser_problem()
    if problem is None:
        return None
    import shutil
    import subprocess

    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return f"{problem}, and apt-get cannot install them here (not root, or no apt-get)"
    print("installing Debian's chromium and chromium-driver for the browser tests", flush=True)
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (
        ["apt-get", "update", "-qq"],
        [
            "apt-get",
            "install",
            "-y",
            "-qq",
            "--no-install-recommends",
            "chromium",
            "chromium-driver",
        ],
    ):
        result = subprocess.run(command, env=environment, capture_output=True, text=True)
        if result.returncode != 0:
            return f"{problem}; {' '.join(command)} failed: {result.stderr.strip()[-500:]}"
    return browser_problem()
