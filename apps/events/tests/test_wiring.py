"""The wiring is declared once and read by every runner: periodic jobs, subscriptions, describe."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command

from apps.events import periodic
from apps.events.tasks import run_periodic_job_task


@pytest.fixture(autouse=True)
def _declared_jobs_restored() -> Any:
    """Jobs these tests declare do not outlive them."""
    before = dict(periodic._jobs)
    yield
    periodic._jobs.clear()
    periodic._jobs.update(before)


def test_beat_sends_every_enabled_job_at_the_interval_the_worker_keeps(settings: Any) -> None:
    settings.OMS_SIMULATOR_ENABLED = True
    schedule = periodic.beat_schedule()
    jobs = periodic.jobs()
    assert {job.name for job in jobs} >= {
        "idempotency.purge_expired_keys",
        "payments.expire_overdue",
        "webhooks.send_simulated_webhooks",
    }
    for job in jobs:
        assert job.enabled()
        entry = schedule[f"periodic:{job.name}"]
        assert entry["task"] == run_periodic_job_task.name
        assert entry["args"] == (job.name,)
        assert entry["schedule"] == job.every_seconds
    by_name = {job.name: job for job in jobs}
    assert (
        by_name["payments.expire_overdue"].every_seconds
        == settings.OMS_PAYMENT_EXPIRY_INTERVAL_SECONDS
    )
    assert (
        by_name["idempotency.purge_expired_keys"].every_seconds
        == settings.OMS_IDEMPOTENCY_PURGE_INTERVAL_SECONDS
    )


def test_the_celery_task_runs_the_job_it_is_named_for() -> None:
    runs: list[str] = []
    periodic.periodic_job("test.wiring", every_seconds=5)(lambda: runs.append("ran"))
    run_periodic_job_task("test.wiring")
    assert runs == ["ran"]
    with pytest.raises(LookupError):
        run_periodic_job_task("test.no-such-job")


def test_a_disabled_job_runs_nowhere() -> None:
    runs: list[str] = []
    periodic.periodic_job("test.off", every_seconds=5, enabled=lambda: False)(
        lambda: runs.append("ran")
    )
    periodic.run_due_jobs(now=10_000.0)
    run_periodic_job_task("test.off")
    assert runs == []
    assert "periodic:test.off" not in periodic.beat_schedule()


def test_describe_prints_each_event_s_reactions_and_the_periodic_jobs(capsys: Any) -> None:
    call_command("describe")
    out = capsys.readouterr().out
    lines = {line.split("→")[0].strip(): line for line in out.splitlines() if "→" in line}
    assert "payments.request_payment" in lines["OrderCreated"]
    assert "order_summary" in lines["OrderCreated"]
    assert "shipping.create_shipment" in lines["OrderPaid"]
    assert "payments.expire_overdue" in out
    assert "every 300 s" in out
