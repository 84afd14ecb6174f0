"""``make run-prod`` as a user runs it: PostgreSQL, migrations, static files, gunicorn and the
subscription runners (a Celery worker and beat, or the project's own worker); then what
production needs from it, and a clean stop. Then its roles as compose.yaml runs them, one
process each: ``migrate`` once, then ``web``, ``worker`` and ``beat``.

The payment provider is played by the test: the simulator is off (as production requires), so
the test signs the provider's ``payment.succeeded`` webhook itself with the configured secret.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.db import connection
from standardwebhooks import Webhook

from scripts.services import ensure_postgres_database
from tests.integration.celery_worker import broker_url, require_broker

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[2]
PAYMENT_SECRET = "whsec_cHJvZHVjdGlvbi10ZXN0LXBheW1lbnQtc2VjcmV0LTAxMjM0NQ=="
SHIPPING_SECRET = "whsec_cHJvZHVjdGlvbi10ZXN0LXNoaXBwaW5nLXNlY3JldC0wMTIzNDU="


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def production_database_url() -> str:
    db = connection.settings_dict
    user = f"{db['USER']}@" if db.get("USER") else ""
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    # Named after the test database: concurrent runs against one server do not drop each other's.
    name = f"{db['NAME']}_run_prod"
    url = f"postgres://{user}{host}:{port}/{name}"
    import psycopg

    admin = f"postgres://{user}{host}:{port}/postgres"
    with psycopg.connect(admin, autocommit=True) as admin_connection:
        admin_connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    problem = ensure_postgres_database(url)
    assert problem is None, problem
    return url


class Production:
    def __init__(self, process: subprocess.Popen[str], log: Path, base: str, runner: str) -> None:
        self.process, self.log, self.base, self.runner = process, log, base, runner
        self.http = httpx.Client(base_url=base, timeout=10.0)

    def output(self) -> str:
        return self.log.read_text()

    def child_pids(self) -> list[int]:
        found = re.search(r"\(pids ([\d, ]+)\)", self.output())
        return [int(pid) for pid in found.group(1).split(", ")] if found else []

    def wait_ready(self, timeout: float = 180.0) -> httpx.Response:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"run-prod stopped:\n{self.output()[-5000:]}"
            try:
                answer = self.http.get("/readyz")
                if answer.status_code == 200:
                    return answer
            except httpx.TransportError:
                pass
            time.sleep(0.5)
        raise AssertionError(f"not ready within {timeout} s:\n{self.output()[-5000:]}")


def production_env(tmp_path: Path, port: int, runner: str) -> dict[str, str]:
    """The settings of every production process of a run, on a fresh database."""
    env = {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "DATABASE_URL": production_database_url(),
        "CELERY_BROKER_URL": broker_url(),
        "OMS_CELERY_QUEUE": f"oms-run-prod-{uuid.uuid4().hex[:8]}",
        "OMS_VAR_DIR": str(tmp_path / "var"),
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "2",
        # Plain HTTP on loopback: no TLS proxy in front here.
        "SECURE_SSL_REDIRECT": "0",
        "OMS_SIMULATOR_ENABLED": "0",
        # No real provider or carrier here: their simulated clients, declared (a demo).
        "OMS_ALLOW_SIMULATED_PROVIDERS": "1",
        "OMS_WEBHOOK_SECRETS_PAYMENT": PAYMENT_SECRET,
        "OMS_WEBHOOK_SECRETS_SHIPPING": SHIPPING_SECRET,
        "OMS_SUBSCRIPTION_DISPATCH_SECONDS": "0.5",
        "OMS_SUBSCRIPTIONS_RUN_AFTER_COMMIT": "0",
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    env.pop("OMS_LOG_FORMAT", None)
    if runner == "worker":  # no broker: readiness does not ask for one
        env.pop("CELERY_BROKER_URL")
    return env


def start(arguments: list[str], env: dict[str, str], log: Path, runner: str) -> Production:
    """``scripts/run_prod.py`` with ``arguments``, its output in ``log``."""
    with log.open("w") as sink:
        process = subprocess.Popen(
            [sys.executable, "scripts/run_prod.py", *arguments],
            cwd=ROOT,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            text=True,
        )
    started = Production(process, log, f"http://{env['GUNICORN_BIND']}", runner)
    started.env = env  # type: ignore[attr-defined]
    return started


def stop_leftovers(started: Production) -> None:
    """Whatever a failed test left running: run_prod.py and its children's sessions."""
    if started.process.poll() is None:
        started.process.kill()
        started.process.wait()
    for pid in started.child_pids():
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)


@pytest.fixture(
    params=[pytest.param("celery", marks=pytest.mark.celery), "worker"],
    ids=["celery-worker-and-beat", "embedded-workers"],
)
def production(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Production]:
    runner = request.param
    if runner == "celery":
        require_broker()
    env = production_env(tmp_path, free_port(), runner)
    arguments = ["--runner", runner, "--workers", "1", "--grace", "20"]
    running = start(arguments, env, tmp_path / "run-prod.log", runner)
    try:
        yield running
    finally:
        stop_leftovers(running)


def tokens(env: dict[str, str]) -> dict[str, str]:
    printed = subprocess.run(
        [sys.executable, "manage.py", "bootstrap_demo"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return dict(re.findall(r"^(\w+)\s+\S+\s+token (\w+)$", printed, re.MULTILINE))


def counter(exposition: str, name: str, **labels: str) -> float:
    """The sum of the samples of ``name`` whose labels include ``labels``."""
    total = 0.0
    for line in exposition.splitlines():
        match = re.match(rf"^{re.escape(name)}(?:\{{(.*)\}})? (\S+)$", line)
        if not match:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', match.group(1) or ""))
        if all(found.get(key) == value for key, value in labels.items()):
            total += float(match.group(2))
    return total


def wait_for_state(http: httpx.Client, order_url: str, headers: dict[str, str], state: str) -> Any:
    deadline = time.monotonic() + 60
    body: Any = None
    while time.monotonic() < deadline:
        body = http.get(order_url, headers=headers).json()
        if body["state"] == state:
            return body
        time.sleep(0.3)
    raise AssertionError(f"order never reached {state}: {body}")


def test_the_production_command_serves_and_reacts_then_stops_cleanly(
    production: Production,
) -> None:
    ready = production.wait_ready()
    checks = ready.json()["checks"]
    assert ready.json()["providers"]["payment"]["simulated"] is True  # and says so
    if production.runner == "celery":
        assert checks["broker"]["status"] == "ok"
    else:
        assert "broker" not in checks
    http = production.http

    # Static files: the Swagger UI's scripts (hashed names from the page) and the admin's CSS.
    docs = http.get("/api/docs/")
    assert docs.status_code == 200
    scripts_ = re.findall(r'src="(/static/[^"]+\.js)"', docs.text)
    assert any("swagger-ui-bundle" in src for src in scripts_), docs.text
    for src in scripts_:
        script = http.get(src)
        assert script.status_code == 200, src
        assert "javascript" in script.headers["content-type"]
        assert len(script.content) > 1000
    login = http.get("/admin/login/")
    assert login.status_code == 200
    css = re.search(r'href="(/static/admin/css/base[^"]*\.css)"', login.text)
    assert css is not None, login.text
    stylesheet = http.get(css.group(1))
    assert stylesheet.status_code == 200
    assert stylesheet.headers["content-type"].startswith("text/css")

    # An order created (and its create replayed with the same key), paid, and the provider's
    # approval received by webhook; the runners react (shipment requested → PROCESSING).
    keys = tokens(production.env)  # type: ignore[attr-defined]
    customer = {"Authorization": f"Token {keys['customer']}"}
    order = {
        "currency": "EUR",
        "items": [{"sku": "BOOK-1", "name": "A book", "quantity": 2, "unit_price": "12.50"}],
    }
    created = http.post(
        "/api/v1/orders/", json=order, headers={**customer, "Idempotency-Key": "prod-create-1"}
    )
    assert created.status_code == 201, created.text
    replayed = http.post(
        "/api/v1/orders/", json=order, headers={**customer, "Idempotency-Key": "prod-create-1"}
    )
    assert replayed.headers.get("Idempotent-Replayed") == "true"
    order_url = f"/api/v1/orders/{created.json()['id']}/"
    deadline = time.monotonic() + 60
    while True:
        paid = http.post(f"{order_url}pay/", json={}, headers=customer)
        if paid.status_code == 202 or time.monotonic() > deadline:
            break
        time.sleep(0.3)  # the payment is requested by a reaction after the create commits
    assert paid.status_code == 202, paid.text
    reference = paid.json()["provider_reference"]
    # The payment captures the order's total, shipping included.
    assert paid.json()["amount"] == created.json()["total"] == "30.40"
    body = json.dumps(
        {
            "type": "payment.succeeded",
            "timestamp": datetime.now(UTC).isoformat(),
            "data": {"provider_reference": reference, "amount": "30.40", "currency": "EUR"},
        }
    )
    webhook_id = f"msg_{uuid.uuid4().hex}"
    now = datetime.now(UTC)
    delivered = http.post(
        "/api/v1/webhooks/payment/",
        content=body,
        headers={
            "Content-Type": "application/json",
            "webhook-id": webhook_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": Webhook(PAYMENT_SECRET).sign(webhook_id, now, body),
        },
    )
    assert delivered.status_code == 200, delivered.text
    assert delivered.json()["outcome"] == "processed"
    wait_for_state(http, order_url, customer, "PROCESSING")

    assert production.wait_ready().status_code == 200
    # Scraped once the runners have handled everything (the outbound fan-out reads every event).
    deadline = time.monotonic() + 30
    while True:
        metrics = http.get("/metrics")
        assert metrics.status_code == 200
        text = metrics.text
        if counter(text, "oms_subscription_lag_events") == 0 or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert counter(text, "oms_http_requests_total", route="/api/v1/orders/", status="201") == 2
    assert counter(text, "oms_http_request_duration_seconds_count", route="/api/v1/orders/") >= 2
    assert counter(text, "oms_commands_total", command="CreateOrder", outcome="ok") == 1
    assert counter(text, "oms_commands_total", command="SubmitPayment", outcome="ok") == 1
    assert counter(text, "oms_events_appended_total", event_type="OrderCreated") == 1
    assert counter(text, "oms_events_appended_total", event_type="OrderPaid") == 1
    # Appended by the runners' reactions, counted in their own processes.
    assert counter(text, "oms_events_appended_total", event_type="ShipmentRequested") == 1
    # The payment requested after the create, the shipment after the payment.
    for subscription in ("payments.request_payment", "shipping.create_shipment"):
        assert counter(text, "oms_event_deliveries_total", subscription=subscription) == 1
    assert counter(text, "oms_event_deliveries_total", outcome="failed") == 0
    assert (
        counter(text, "oms_webhooks_received_total", provider="payment", outcome="processed") == 1
    )
    assert counter(text, "oms_idempotent_replays_total") == 1
    head = counter(text, "oms_log_head_position")
    assert head >= 5
    assert counter(text, "oms_subscription_lag_events") == 0
    assert counter(text, "oms_subscription_dead_events") == 0

    # Each request is one JSON line with its correlation id; so is each command it issued.
    def lines_of(correlation_id: str) -> list[dict[str, Any]]:
        return [
            json.loads(line)
            for line in production.output().splitlines()
            if line.startswith("{") and correlation_id in line
        ]

    # The create's lines: its command, its request (once), then the worker's reaction, which
    # carries the same correlation id, the event it handled and the order.
    create_lines = lines_of(created.headers["X-Correlation-ID"])
    order_id = created.json()["id"]
    requests_ = [line for line in create_lines if line["logger"] == "oms.requests"]
    assert len(requests_) == 1, create_lines
    assert requests_[0]["status"] == 201
    assert requests_[0]["user_id"]
    command = next(line for line in create_lines if line.get("command") == "CreateOrder")
    assert command["order_id"] == order_id
    assert command["outcome"] == "ok"
    reaction = next(
        line for line in create_lines if line.get("subscription") == "payments.request_payment"
    )
    assert reaction["order_id"] == order_id
    assert reaction["event_type"] == "OrderCreated"
    assert uuid.UUID(reaction["event_id"])
    pay_request = lines_of(paid.headers["X-Correlation-ID"])
    assert [line["logger"] for line in pay_request].count("oms.requests") == 1
    request_line = next(line for line in pay_request if line["logger"] == "oms.requests")
    assert request_line["order_id"] == order_id
    assert request_line["user_id"]
    assert request_line["route"] == "/api/v1/orders/<uuid:order_id>/pay/"
    assert keys["customer"] not in production.output()

    # A clean stop: SIGTERM, every process gone, status 0.
    children = production.child_pids()
    assert len(children) == (3 if production.runner == "celery" else 2)
    production.process.send_signal(signal.SIGTERM)
    assert production.process.wait(timeout=60) == 0, production.output()[-3000:]
    for pid in children:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    assert "run-prod: stopped" in production.output()
    # Without a role, everything: the migrations too.
    assert "run-prod: manage.py migrate --noinput" in production.output()


@pytest.mark.celery
def test_the_roles_run_apart_as_compose_runs_them(tmp_path: Path) -> None:
    """compose.yaml's shape: ``migrate`` once, then ``web``, ``worker`` and ``beat``, each a
    run_prod.py of its own; only ``migrate`` changes the schema, and nothing starts before it."""
    require_broker()
    env = production_env(tmp_path, free_port(), "celery")

    def one_off(role: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "scripts/run_prod.py", role],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )

    # The database is empty: web refuses to start on a schema older than its code.
    early = one_off("web")
    assert early.returncode == 1, early.stdout + early.stderr
    assert "run `scripts/run_prod.py migrate` first" in early.stderr
    assert "manage.py migrate --noinput" not in early.stdout
    assert "running" not in early.stdout
    migrated = one_off("migrate")
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr
    assert "run-prod: manage.py migrate --noinput" in migrated.stdout
    assert "run-prod: the database is migrated" in migrated.stdout
    assert "running" not in migrated.stdout

    roles = {
        role: start(
            [role, "--workers", "1", "--grace", "20"], env, tmp_path / f"{role}.log", "celery"
        )
        for role in ("web", "worker", "beat")
    }
    try:
        web = roles["web"]
        web.wait_ready()
        # compose.yaml's health check of web, as Docker runs it.
        probe = one_off("probe")
        assert probe.returncode == 0, probe.stderr

        # The payment is requested by a reaction: beat's dispatch task, run by the worker.
        keys = tokens(env)
        customer = {"Authorization": f"Token {keys['customer']}"}
        created = web.http.post(
            "/api/v1/orders/",
            json={
                "currency": "EUR",
                "items": [{"sku": "BOOK-1", "name": "A book", "quantity": 1, "unit_price": "9.00"}],
            },
            headers=customer,
        )
        assert created.status_code == 201, created.text
        deadline = time.monotonic() + 60
        while True:
            paid = web.http.post(
                f"/api/v1/orders/{created.json()['id']}/pay/", json={}, headers=customer
            )
            if paid.status_code == 202 or time.monotonic() > deadline:
                break
            time.sleep(0.3)
        assert paid.status_code == 202, paid.text
        # Each role ran its own process only, after checking the schema without changing it.
        for role, process in {
            "web": "web",
            "worker": "celery-worker",
            "beat": "celery-beat",
        }.items():
            output = roles[role].output()
            assert f"run-prod: running {process} (pids " in output, output
            assert len(roles[role].child_pids()) == 1
            assert "run-prod: manage.py migrate --check" in output
            assert "manage.py migrate --noinput" not in output

        # Each stops cleanly on its own SIGTERM, as `docker compose stop` sends it.
        for started in roles.values():
            children = started.child_pids()
            started.process.send_signal(signal.SIGTERM)
            assert started.process.wait(timeout=60) == 0, started.output()[-3000:]
            for pid in children:
                with pytest.raises(ProcessLookupError):
                    os.kill(pid, 0)
    finally:
        for started in roles.values():
            stop_leftovers(started)
