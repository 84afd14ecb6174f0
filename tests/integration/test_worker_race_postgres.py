"""Workers racing for the same due deliveries, with real parallel PostgreSQL connections."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from django.conf import LazySettings
from django.db import connection

from apps.events.dispatcher import due_delivery_ids
from apps.events.models import Delivery, DeliveryStatus, StoredEvent
from apps.events.runner import Outcome, run_delivery
from tests.integration.celery_worker import worker_database_url
from tests.support.probe import ProbeHandled, send_probe

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]


def worker_loop(outcomes: Counter[str], barrier: threading.Barrier) -> None:
    """What `manage.py worker` does, on its own connection."""
    try:
        barrier.wait()
        while ids := due_delivery_ids():
            for delivery_id in ids:
                outcomes[run_delivery(delivery_id)] += 1
    finally:
        connection.close()


def test_two_workers_racing_never_run_one_delivery_twice(settings: LazySettings) -> None:
    settings.OMS_SWEEPER_GRACE_SECONDS = 0
    probes = 30
    for _ in range(probes):
        send_probe(mode="slow")  # the inline backend runs each once right after commit
    assert StoredEvent.objects.filter(event_type=ProbeHandled.event_type).count() == probes
    # Make every delivery due again, as if none had run: each must now run exactly once more.
    Delivery.objects.update(status=DeliveryStatus.PENDING, attempts=0)

    barrier = threading.Barrier(2)
    outcomes: Counter[str] = Counter()
    threads = [threading.Thread(target=worker_loop, args=(outcomes, barrier)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert outcomes[Outcome.SUCCEEDED] == probes
    runs = Counter(
        event.payload["probe_event_id"]
        for event in StoredEvent.objects.filter(event_type=ProbeHandled.event_type)
    )
    assert len(runs) == probes
    assert set(runs.values()) == {2}  # the inline run plus exactly one of the racing workers
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.SUCCEEDED}
    assert set(Delivery.objects.values_list("attempts", flat=True)) == {1}


def test_the_embedded_worker_stops_cleanly_on_sigterm() -> None:
    env = {**os.environ, "DATABASE_URL": worker_database_url(), "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "manage.py", "worker", "--interval", "0.2"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    first_line = process.stdout.readline()
    assert "running due deliveries" in first_line
    time.sleep(0.5)
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=20)
    assert process.returncode == 0
    assert "worker: stopped" in output
