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
