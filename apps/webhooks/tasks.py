"""Celery task of the webhooks app, run periodically by beat while the simulator is on."""

from __future__ import annotations

from celery import shared_task

from apps.webhooks.simulator import send_if_enabled


@shared_task(name="webhooks.send_simulated_webhooks", ignore_result=True)
def send_simulated_webhooks_task() -> int:
    return send_if_enabled()
