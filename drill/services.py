"""The drill's own database and its own broker (a Redis it may kill)."""

from __future__ import annotations

import re
import shutil
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

from drill.procs import Managed, free_port

PROTECTED = re.compile(r"^(oms|postgres|template\d*|test_.*|root)$")
# Connections of the load generator and of the drill itself: not the service's, never terminated.
LOAD_APP = "oms-drill-load"
CONTROL_APP = "oms-drill-control"


class DrillError(RuntimeError):
    """The drill cannot run (a missing service, a refused database name)."""


def database_name(url: str) -> str:
    name = urlparse(url).path.lstrip("/")
    if not name or PROTECTED.match(name) or "drill" not in name:
        raise DrillError(
            f"refusing to use database {name!r}: the drill drops and recreates its database, so "
            "its name must contain 'drill' and must not be oms, postgres, template* or test_*"
        )
    return name


def _admin_url(url: str) -> str:
    return urlparse(url)._replace(path="/postgres", query="").geturl()


def recreate_database(url: str) -> None:
    """Drop and create the drill database (refusing names that belong to anything else)."""
    import psycopg
    from psycopg import sql

    name = database_name(url)
    try:
        with psycopg.connect(_admin_url(url), autocommit=True, connect_timeout=5) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.OperationalError as exc:
        raise DrillError(f"cannot reach PostgreSQL for {url}: {exc}".strip()) from exc


def terminate_service_connections(url: str) -> int:
    """Terminate every connection to the drill database but the drill's and the load's."""
    import psycopg

    name = database_name(url)
    with psycopg.connect(
        _admin_url(url), autocommit=True, connect_timeout=5, application_name=CONTROL_APP
    ) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid() "
            "AND application_name NOT IN (%s, %s)",
            (name, LOAD_APP, CONTROL_APP),
        ).fetchall()
    return sum(1 for (done,) in rows if done)


def with_application_name(url: str, app: str) -> str:
    parsed = urlparse(url)
    query = "&".join(part for part in (parsed.query, f"application_name={app}") if part)
    return parsed._replace(query=query).geturl()


class Broker:
    """A ``redis-server`` on a spare port with no persistence: killing it loses every message."""

    def __init__(self, run_dir: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise DrillError(
                "redis-server is not installed (the drill starts its own broker so it can kill "
                "it): install it, e.g. apt-get install redis-server"
            )
        self.port = free_port()
        self.data_dir = Path(tempfile.mkdtemp(prefix="broker-", dir=run_dir))
        argv = [
            binary,
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(self.data_dir),
        ]
        self.process = Managed("broker", argv, {}, run_dir / "broker.log")

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process.start()
        self.process.wait_for(self.ping, 20, "starting")

    def ping(self) -> bool:
        import redis

        try:
            return bool(redis.Redis(port=self.port, socket_timeout=1).ping())
        except redis.RedisError:
            return False

    def queued(self, queue: str) -> int:
        """Messages waiting in the queue plus those delivered but not acknowledged."""
        import redis

        client = redis.Redis(port=self.port, socket_timeout=2)
        try:
            return int(client.llen(queue)) + int(client.hlen("unacked"))
        except redis.RedisError:
            return -1

    def crash_and_restart(self, down_seconds: float) -> None:
        """SIGKILL the broker (everything queued is lost), wait, start an empty one."""
        self.process.kill()
        time.sleep(down_seconds)
        self.start()

    def stop(self) -> None:
        self.process.stop()
