"""Secrets and simulator settings: development defaults, production defaults, system checks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from apps.webhooks.checks import check_simulator_settings, check_webhook_secrets
from apps.webhooks.tests.helpers import PAYMENT_SECRET

ROOT = Path(__file__).resolve().parents[3]
PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "k" * 20 + "production-secret-with-enough-entropy-0123456789",
    "ALLOWED_HOSTS": "oms.example.com",
    "DATABASE_URL": "sqlite:///:memory:",
}
SHOW_SETTINGS = (
    "import json; from django.conf import settings as s; from core.celery import app; "
    "app.finalize(); print(json.dumps("
    "[s.OMS_SIMULATOR_ENABLED, s.OMS_WEBHOOK_SECRETS, 'periodic:webhooks.send_simulated_webhooks'"
    " in app.conf.beat_schedule]))"
)


def manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("OMS_WEBHOOK_SECRETS", "OMS_SIMULATOR"))
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**environment, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def last_line(output: str) -> Any:
    # Django's shell may print a note about automatic imports first.
    return json.loads(output.strip().splitlines()[-1])


def test_production_has_no_default_secret_no_simulator_and_warns() -> None:
    shown = manage("shell", "-c", SHOW_SETTINGS, **PRODUCTION)
    assert shown.returncode == 0, shown.stderr
    assert last_line(shown.stdout) == [False, {"payment": [], "shipping": []}, False]
    checked = manage("check", **PRODUCTION)
    assert "webhooks.W001" in checked.stderr + checked.stdout
    assert "payment provider" in checked.stderr + checked.stdout


def test_development_has_default_secrets_and_the_simulator_on() -> None:
    shown = manage("shell", "-c", SHOW_SETTINGS, DEBUG="1", DATABASE_URL="sqlite:///:memory:")
    assert shown.returncode == 0, shown.stderr
    enabled, secrets, scheduled = last_line(shown.stdout)
    assert enabled is True
    assert scheduled is True
    assert all(len(values) == 1 and values[0].startswith("whsec_") for values in secrets.values())


def test_secrets_come_from_comma_separated_environment_lists() -> None:
    shown = manage(
        "shell",
        "-c",
        SHOW_SETTINGS,
        **PRODUCTION,
        OMS_WEBHOOK_SECRETS_PAYMENT=f"{PAYMENT_SECRET}, whsec_b2xk",
        OMS_SIMULATOR_ENABLED="1",
    )
    assert shown.returncode == 0, shown.stderr
    enabled, secrets, scheduled = last_line(shown.stdout)
    assert (enabled, scheduled) == (True, True)
    assert secrets == {"payment": [PAYMENT_SECRET, "whsec_b2xk"], "shipping": []}


def test_a_missing_secret_warns_only_in_production(settings: Any) -> None:
    settings.OMS_WEBHOOK_SECRETS = {"payment": [PAYMENT_SECRET], "shipping": []}
    settings.DEBUG = True
    assert check_webhook_secrets() == []
    settings.DEBUG = False
    assert [(m.id, "shipping" in m.msg) for m in check_webhook_secrets()] == [
        ("webhooks.W001", True)
    ]


def test_a_malformed_secret_is_an_error(settings: Any) -> None:
    settings.OMS_WEBHOOK_SECRETS = {"payment": [PAYMENT_SECRET, "whsec_%%"], "shipping": ["x"]}
    assert [m.id for m in check_webhook_secrets()] == ["webhooks.E001", "webhooks.E001"]


def test_simulator_rates_and_delays_are_checked(settings: Any) -> None:
    assert check_simulator_settings() == []
    settings.OMS_SIMULATOR_DUPLICATE_RATE = 1.5
    settings.OMS_SIMULATOR_MIN_DELAY_SECONDS = 5.0
    settings.OMS_SIMULATOR_MAX_DELAY_SECONDS = 1.0
    assert [m.id for m in check_simulator_settings()] == ["webhooks.E002", "webhooks.E003"]


def test_the_sender_runs_in_the_embedded_worker_and_as_the_beat_task(settings: Any) -> None:
    from apps.events.periodic import beat_schedule, registered_jobs
    from apps.events.tasks import run_periodic_job_task

    assert "webhooks.send_simulated_webhooks" in registered_jobs()
    settings.OMS_SIMULATOR_ENABLED = True
    beat = beat_schedule()["periodic:webhooks.send_simulated_webhooks"]
    assert beat["task"] == run_periodic_job_task.name
    assert beat["args"] == ("webhooks.send_simulated_webhooks",)
    assert beat["schedule"] == settings.OMS_SIMULATOR_INTERVAL_SECONDS
    settings.OMS_SIMULATOR_ENABLED = False
    assert "periodic:webhooks.send_simulated_webhooks" not in beat_schedule()
