"""Log lines as a log pipeline reads them: one JSON object per line, from the web process and
from Celery's worker and beat alike (banner, warnings and shutdown included), each line with
the ids of what it is about, every id a string; no secret on any line; and no line per task
beat sends."""

from __future__ import annotations

import copy
import io
import json
import logging.config
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import LazySettings
from django.conf import settings as django_settings
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from apps.webhooks.tests.helpers import SECRETS, post_webhook
from core.celery import app
from tests.integration.celery_worker import (
    ROOT,
    broker_url,
    require_broker,
    running_worker,
    wait_until,
)
from tests.integration.test_operability import create_order

# Commits for real: the reactions, and their lines, follow them.
pytestmark = pytest.mark.django_db(transaction=True)


# --- the web process's lines --------------------------------------------------------------------


@pytest.fixture
def json_log() -> Iterator[Callable[[], list[dict[str, Any]]]]:
    """The service's own logging configuration, in production's JSON format, at DEBUG, into a
    buffer: returns the lines logged so far, parsed."""
    stream = io.StringIO()
    config: dict[str, Any] = copy.deepcopy(django_settings.LOGGING)
    config["handlers"]["console"]["formatter"] = "json"
    config["handlers"]["console"]["stream"] = stream
    config["root"]["level"] = "DEBUG"
    logging.config.dictConfig(config)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        logging.config.dictConfig(django_settings.LOGGING)


def test_a_request_is_one_json_line_carrying_its_correlation_id(
    json_log: Callable[[], list[dict[str, Any]]], customer_client: APIClient, customer: Any
) -> None:
    correlation_id = str(uuid.uuid4())
    response = create_order(customer_client, **{"X-Correlation-ID": correlation_id})
    assert response.status_code == 201
    lines = json_log()
    requests_ = [line for line in lines if line["logger"] == "oms.requests"]
    assert len(requests_) == 1, lines
    line = requests_[0]
    assert line["correlation_id"] == correlation_id
    assert line["status"] == 201
    assert line["method"] == "POST"
    assert line["route"] == "/api/v1/orders/"
    assert line["user_id"] == str(customer.pk)
    assert datetime.fromisoformat(line["time"]).utcoffset() == timedelta(0)
    command = next(line for line in lines if line.get("command") == "CreateOrder")
    assert command["order_id"] == response.json()["id"]
    # Everything it caused (the payment requested after the commit) carries the same id.
    assert {line["correlation_id"] for line in lines} == {correlation_id}
    delivery = next(line for line in lines if line["logger"] == "apps.events.subscriptions")
    assert delivery["order_id"] == response.json()["id"]
    assert delivery["event_type"] == "OrderCreated"


def test_request_and_command_lines_name_the_user_and_the_order_alike(
    json_log: Callable[[], list[dict[str, Any]]], customer_client: APIClient, customer: Any
) -> None:
    order_id = create_order(customer_client).json()["id"]
    cancelled = customer_client.post(f"/api/v1/orders/{order_id}/cancel/", {}, format="json")
    assert cancelled.status_code == 200
    lines = json_log()
    requests_ = [line for line in lines if line["logger"] == "oms.requests"]
    commands = {line["command"]: line for line in lines if line["logger"] == "oms.commands"}
    customers = [requests_[0], requests_[1], commands["CreateOrder"], commands["CancelOrder"]]
    # One JSON type for a field on every line: a string, as the other ids.
    assert [line["user_id"] for line in customers] == [str(customer.pk)] * 4
    # The create's URL names no order; its line names the one it created, as its command's does.
    assert [line["order_id"] for line in customers] == [order_id] * 4


def test_a_webhook_request_line_names_the_order_its_command_concerned(
    json_log: Callable[[], list[dict[str, Any]]],
    settings: LazySettings,
    customer_client: APIClient,
    anon_client: APIClient,
) -> None:
    settings.OMS_WEBHOOK_SECRETS = {provider: [secret] for provider, secret in SECRETS.items()}
    created = create_order(customer_client).json()
    paid = customer_client.post(f"/api/v1/orders/{created['id']}/pay/", {}, format="json")
    assert paid.status_code == 202, paid.content
    message = {
        "type": "payment.succeeded",
        "timestamp": datetime.now(UTC).isoformat(),
        "data": {
            "provider_reference": paid.json()["provider_reference"],
            "amount": created["total"],
            "currency": "EUR",
        },
    }
    assert post_webhook(anon_client, "payment", message).status_code == 200
    webhook = [line for line in json_log() if line["logger"] == "oms.requests"][-1]
    assert webhook["path"] == "/api/v1/webhooks/payment/"
    assert webhook["order_id"] == created["id"]  # the URL names none; the payment's order


def test_error_answers_are_logged_once(
    json_log: Callable[[], list[dict[str, Any]]], anon_client: APIClient, customer_client: APIClient
) -> None:
    anon_client.get("/api/v1/no-such-thing/")
    anon_client.get("/api/v1/orders/", headers={"Authorization": "Token not-a-real-token"})
    order_id = create_order(customer_client).json()["id"]
    customer_client.post(f"/api/v1/orders/{order_id}/cancel/", {}, format="json")
    refused = customer_client.post(f"/api/v1/orders/{order_id}/cancel/", {}, format="json")
    assert refused.status_code == 409
    lines = json_log()
    assert [line["status"] for line in lines if line["logger"] == "oms.requests"] == [
        404,
        401,
        201,
        200,
        409,
    ]
    messages = [line["message"] for line in lines]
    assert not [line for line in lines if line["logger"].startswith("django")], lines
    assert len(messages) == len(set(messages)), messages


def test_tokens_passwords_and_webhook_secrets_are_never_logged(
    json_log: Callable[[], list[dict[str, Any]]],
    settings: Any,
    customer: Any,
    customer_client: APIClient,
    anon_client: APIClient,
) -> None:
    settings.OMS_WEBHOOK_SECRETS = {provider: [secret] for provider, secret in SECRETS.items()}
    token = Token.objects.get_or_create(user=customer)[0].key
    bad_token = "0123456789abcdef0123456789abcdef01234567"
    order_id = create_order(customer_client).json()["id"]
    anon_client.get("/api/v1/orders/", headers={"Authorization": f"Token {bad_token}"})
    message = {
        "type": "payment.failed",
        "timestamp": "2026-01-31T12:00:00Z",
        "data": {"provider_reference": "card_unknown", "reason": "declined"},
    }
    webhook = post_webhook(anon_client, "payment", message)
    signature = webhook.wsgi_request.headers["webhook-signature"]
    password = "the-Wrong-password-42"
    Client().post("/admin/login/", {"username": customer.username, "password": password})
    text = json.dumps(json_log())
    assert order_id in text  # the lines were captured
    for secret in (token, bad_token, password, SECRETS["payment"], signature.split(",", 1)[1]):
        assert secret not in text


def test_a_request_for_a_host_not_allowed_is_one_line(
    json_log: Callable[[], list[dict[str, Any]]], anon_client: APIClient
) -> None:
    anon_client.get("/api/v1/orders/?token=query-secret", HTTP_HOST="evil.example")
    lines = json_log()
    assert [(line["logger"], line.get("status")) for line in lines] == [("oms.requests", 400)]
    assert "query-secret" not in json.dumps(lines)


# --- Celery's lines -----------------------------------------------------------------------------


def json_lines(text: str) -> list[dict[str, Any]]:
    """Every line of ``text`` parsed; the test fails on the first that is not a JSON object."""
    parsed = []
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            parsed.append(json.loads(line))
        except ValueError:
            pytest.fail(f"not a JSON line: {line!r}\nin:\n{text[-3000:]}")
    return parsed


@pytest.mark.postgres
@pytest.mark.celery
def test_a_celery_worker_and_its_beat_in_json_mode_write_only_json_lines(
    settings: LazySettings,
) -> None:
    settings.OMS_SUBSCRIPTIONS_RUN_AFTER_COMMIT = False  # the worker runs them
    with running_worker(extra_env={"OMS_LOG_FORMAT": "json", "LOG_LEVEL": "INFO"}) as log:
        # Each dispatch beat sends is received and run by the worker: two lines naming it.
        wait_until(
            lambda: log().count("events.dispatch_subscriptions[") >= 6, what="three dispatches"
        )
    lines = json_lines(log())  # read after the worker stopped: its shutdown lines included
    messages = [line["message"] for line in lines]
    assert any(message.endswith(" ready.") for message in messages)
    starting = next(line for line in lines if line["logger"] == "oms.celery")
    assert "starting" in starting["message"]
    assert "events.drain_segment" in starting["tasks"]
    assert starting["queues"] == [settings.CELERY_TASK_DEFAULT_QUEUE]
    assert "beat: Starting..." in messages
    assert "worker: Warm shutdown (SIGTERM)" in messages
    assert not [message for message in messages if "Sending due task" in message]
    if os.geteuid() == 0:  # Celery warns a worker run as root, before it sets up logging
        assert any("SecurityWarning" in line["message"] for line in lines)


@pytest.mark.celery
def test_celery_beat_in_json_mode_writes_only_json_lines_and_not_one_per_task_sent(
    tmp_path: Path,
) -> None:
    require_broker()
    queue = f"oms-test-beat-{uuid.uuid4().hex[:8]}"
    log = tmp_path / "beat.log"
    env = {
        **os.environ,
        "OMS_LOG_FORMAT": "json",
        "LOG_LEVEL": "INFO",
        "CELERY_BROKER_URL": broker_url(),
        "OMS_CELERY_QUEUE": queue,  # no worker reads it: the tasks sent wait there
        "OMS_SUBSCRIPTION_DISPATCH_SECONDS": "0.5",
    }
    command = [sys.executable, "-m", "celery", "-A", "core", "beat", "--loglevel=INFO"]
    command.append(f"--schedule={tmp_path / 'schedule'}")
    with log.open("w") as sink:
        beat = subprocess.Popen(command, cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: waiting_in(queue) >= 3, timeout=60, what="beat to send tasks")
    finally:
        beat.send_signal(signal.SIGTERM)
        try:
            beat.wait(timeout=20)
        except subprocess.TimeoutExpired:
            beat.kill()
            beat.wait()
        delete_queue(queue)
    lines = json_lines(log.read_text())
    messages = [line["message"] for line in lines]
    assert "beat: Starting..." in messages  # what the drills wait for
    assert not [message for message in messages if "Sending due task" in message]


def waiting_in(queue: str) -> int:
    with app.connection_for_write() as connection:
        channel: Any = connection.default_channel
        try:
            declared = channel.queue_declare(queue=queue, passive=True)
        except connection.channel_errors:
            return 0  # not declared yet
    return int(declared.message_count)


def delete_queue(queue: str) -> None:
    with app.connection_for_write() as connection:
        channel: Any = connection.default_channel
        channel.queue_delete(queue=queue)
