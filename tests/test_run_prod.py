"""``scripts/run_prod.py``'s roles and its probe, short of starting the production processes
(tests/integration/test_production_run.py starts them on PostgreSQL).

The probe is the web container's health check: it must pass against a ready server that allows
only the deployment's public name, and fail, saying why, when the server is not ready or absent.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest

from scripts import run_prod

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def run(*arguments: str, **environment: str) -> subprocess.CompletedProcess[str]:
    # Only what the test gives: the probe needs neither a secret nor a database.
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DATABASE_URL")}
    env.update(environment)
    return subprocess.run(
        [sys.executable, "scripts/run_prod.py", *arguments],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("role", "runner", "processes"),
    [
        ("all", "celery", ["web", "celery-worker", "celery-beat"]),
        ("all", "worker", ["web", "worker-1", "worker-2"]),
        ("web", "celery", ["web"]),
        ("web", "worker", ["web"]),
        ("worker", "celery", ["celery-worker"]),
        ("worker", "worker", ["worker-1", "worker-2"]),
        ("beat", "celery", ["celery-beat"]),
    ],
)
def test_each_role_starts_only_its_own_processes(
    role: str, runner: str, processes: list[str]
) -> None:
    assert list(run_prod.commands(role, runner, 2)) == processes


def test_the_migrate_role_starts_no_process_and_the_others_never_migrate() -> None:
    assert run_prod.commands("migrate", "celery", 2) == {}
    assert run_prod.STEPS["migrate"] == (run_prod.DEPLOY_CHECK, run_prod.MIGRATE)
    for role in ("web", "worker", "beat"):
        assert run_prod.MIGRATE not in run_prod.STEPS[role]
        assert run_prod.STEPS[role][:2] == (run_prod.DEPLOY_CHECK, run_prod.MIGRATIONS_APPLIED)
    assert run_prod.COLLECTSTATIC in run_prod.STEPS["web"]
    # Checked before anything changes, in every role.
    assert all(steps[0] == run_prod.DEPLOY_CHECK for steps in run_prod.STEPS.values())


def test_beat_without_celery_is_refused_before_anything_runs() -> None:
    refused = run("beat", "--runner", "worker")
    assert refused.returncode == 2
    assert "the worker processes run the periodic jobs themselves" in refused.stderr
    assert "manage.py" not in refused.stdout


@pytest.mark.parametrize("role", ["migrate", "web", "worker", "beat"])
def test_every_role_refuses_a_database_other_than_postgresql(role: str) -> None:
    refused = run(role, SECRET_KEY="x" * 50, DATABASE_URL="sqlite:///:memory:")
    assert refused.returncode == 1
    assert refused.stderr.strip() == (
        "run-prod: DATABASE_URL must name a PostgreSQL database (postgres://…)"
    )
    assert "manage.py" not in refused.stdout  # nothing was run


@pytest.mark.parametrize(
    ("bind", "url"),
    [
        ("0.0.0.0:8000", "http://127.0.0.1:8000/readyz"),
        ("127.0.0.1:9000", "http://127.0.0.1:9000/readyz"),
        ("[::]:8000", "http://[::1]:8000/readyz"),
        (":8000", "http://127.0.0.1:8000/readyz"),
        ("[2001:db8::5]:8000", "http://[2001:db8::5]:8000/readyz"),
        ("oms-web:8001", "http://oms-web:8001/readyz"),
    ],
)
def test_the_probe_asks_the_address_gunicorn_binds(
    bind: str, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GUNICORN_BIND", bind)
    assert run_prod.readiness_url() == url


@pytest.mark.parametrize(
    ("allowed", "host"),
    [
        (None, "127.0.0.1"),
        ("*", "127.0.0.1"),
        ("oms.example.com,localhost", "localhost"),
        ("oms.example.com", "oms.example.com"),
        (".example.com", "example.com"),
    ],
)
def test_the_probe_names_a_host_the_settings_allow(
    allowed: str | None, host: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if allowed is None:
        monkeypatch.delenv("ALLOWED_HOSTS", raising=False)
    else:
        monkeypatch.setenv("ALLOWED_HOSTS", allowed)
    assert run_prod.request_host() == host


@pytest.mark.django_db(transaction=True)
def test_the_probe_passes_on_a_ready_server_that_allows_only_the_public_name(
    live_server: Any, settings: Any
) -> None:
    settings.ALLOWED_HOSTS = ["oms.example.com"]
    settings.OMS_READY_CHECK_BROKER = False
    bind = live_server.url.removeprefix("http://")
    passed = run("probe", GUNICORN_BIND=bind, ALLOWED_HOSTS="oms.example.com")
    assert passed.returncode == 0, passed.stderr
    assert f"http://{bind}/readyz ready" in passed.stdout
    # The Host matters: a name the server does not allow is answered 400 before /readyz.
    refused = run("probe", GUNICORN_BIND=bind, ALLOWED_HOSTS="other.example.com")
    assert refused.returncode == 1
    assert "answered 400" in refused.stderr


@pytest.mark.django_db(transaction=True)
def test_the_probe_fails_and_says_which_check_failed_when_the_server_is_not_ready(
    live_server: Any, settings: Any, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    settings.OMS_READY_CHECK_BROKER = True
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens
    monkeypatch.setenv("GUNICORN_BIND", live_server.url.removeprefix("http://"))
    monkeypatch.delenv("ALLOWED_HOSTS", raising=False)
    assert run_prod.main(["probe"]) == 1
    said = capsys.readouterr().err
    assert "answered 503" in said
    assert "broker:" in said


def test_the_probe_fails_on_a_success_other_than_200_without_saying_ready(
    monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    # Something other than OMS on the port (a stub, a proxy's placeholder) answering 204.
    class NoContent(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), NoContent)
    serving = threading.Thread(target=server.serve_forever, daemon=True)
    serving.start()
    try:
        monkeypatch.setenv("GUNICORN_BIND", f"127.0.0.1:{server.server_port}")
        monkeypatch.delenv("ALLOWED_HOSTS", raising=False)
        assert run_prod.main(["probe"]) == 1
    finally:
        server.shutdown()
        server.server_close()
    said = capsys.readouterr()
    assert "ready" not in said.out
    assert f"http://127.0.0.1:{server.server_port}/readyz answered 204, not 200" in said.err


def test_the_probe_fails_when_nothing_listens(monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    port = free_port()
    monkeypatch.setenv("GUNICORN_BIND", f"127.0.0.1:{port}")
    assert run_prod.main(["probe"]) == 1
    assert f"cannot reach http://127.0.0.1:{port}/readyz" in capsys.readouterr().err


def test_the_probe_refuses_a_unix_socket_it_cannot_ask(
    monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    monkeypatch.setenv("GUNICORN_BIND", "unix:/run/oms.sock")
    assert run_prod.main(["probe"]) == 1
    assert "does not listen on a TCP port" in capsys.readouterr().err
