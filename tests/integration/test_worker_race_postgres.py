"""Runners racing for the same segments, with real parallel PostgreSQL connections."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from django.conf import LazySettings
from django.db import connection

from apps.events.models import ParkedEvent, StoredEvent
from apps.events.registry import registry
from apps.events.subscriptions import run_until_idle
from apps.orders.tests.factories import create_order
from tests.integration.celery_worker import worker_database_url
from tests.support.probe import ProbeHandled, ProbeSent, send_probe

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]


def runner(barrier: threading.Barrier, handled: list[int]) -> None:
    """What `manage.py worker` or a Celery drain task does, on its own connection."""
    try:
        barrier.wait()
        handled.append(run_until_idle())
    finally:
        connection.close()


def test_two_runners_racing_never_handle_one_event_twice(settings: LazySettings) -> None:
    settings.OMS_SUBSCRIPTIONS_RUN_AFTER_COMMIT = False
    settings.OMS_SUBSCRIPTION_BATCH_SIZE = 5  # many small batches: many chances to collide
    probes = 30
    for _ in range(probes):
        send_probe(mode="slow")
    assert StoredEvent.objects.filter(event_type=ProbeHandled.event_type).count() == 0

    barrier = threading.Barrier(2)
    handled: list[int] = []
    threads = [threading.Thread(target=runner, args=(barrier, handled)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    # Each event once for each subscription that reads it: the probe's handler and the outbound
    # fan-out on every probe, the fan-out on every ProbeHandled the handler appended.
    assert sum(handled) == probes * len(registry.handler_names_for(ProbeSent.event_type)) + (
        probes * len(registry.handler_names_for(ProbeHandled.event_type))
    )
    runs = Counter(
        event.payload["probe_event_id"]
        for event in StoredEvent.objects.filter(event_type=ProbeHandled.event_type)
    )
    assert len(runs) == probes
    assert set(runs.values()) == {1}
    assert not ParkedEvent.objects.exists()


def test_the_embedded_worker_handles_a_commit_and_stops_cleanly_on_sigterm(
    settings: LazySettings, customer: Any
) -> None:
    settings.OMS_SUBSCRIPTIONS_RUN_AFTER_COMMIT = False
    env = {
        **os.environ,
        "DATABASE_URL": worker_database_url(),
        "PYTHONUNBUFFERED": "1",
        "OMS_SUBSCRIPTIONS_RUN_AFTER_COMMIT": "0",
    }
    process = subprocess.Popen(
        [sys.executable, "manage.py", "worker", "--interval", "5"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    first_line = process.stdout.readline()
    assert "running subscriptions" in first_line
    time.sleep(1.0)
    # The commit wakes it (NOTIFY): the payment handler runs well within its 5-second poll.
    started = time.monotonic()
    create_order(customer)
    while not StoredEvent.objects.filter(event_type="PaymentRequested").exists():
        assert time.monotonic() - started < 4, "the worker did not wake on the commit"
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=20)
    assert process.returncode == 0
    assert "worker: stopped" in output
