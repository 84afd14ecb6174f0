"""The benchmark's PostgreSQL databases: created fresh for every full run (no Django here)."""

from __future__ import annotations

from urllib.parse import urlparse

import psycopg
from psycopg import sql

from bench.config import check_database_name


def _admin_url(url: str) -> str:
    return urlparse(url)._replace(path="/postgres").geturl()


def recreate_database(url: str) -> None:
    """Drop and create the database named in ``url`` (never one the project's tests use)."""
    name = urlparse(url).path.lstrip("/")
    check_database_name(name)
    with psycopg.connect(_admin_url(url), autocommit=True, connect_timeout=5) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def server_version(url: str) -> str:
    """The server's version and the settings that weigh most on commit-heavy work."""
    with psycopg.connect(_admin_url(url), autocommit=True, connect_timeout=5) as conn:
        row = conn.execute("SHOW server_version").fetchone()
        version = str(row[0]) if row else "unknown"
        settings = conn.execute(
            "SELECT name, setting, unit FROM pg_settings WHERE name IN "
            "('fsync', 'synchronous_commit', 'shared_buffers') ORDER BY name"
        ).fetchall()
    described = []
    for name, setting, unit in settings:
        if unit == "8kB":
            setting, unit = f"{int(setting) * 8 // 1024}", "MiB"
        described.append(f"{name}={setting}{unit or ''}")
    return f"{version} ({', '.join(described)})"
