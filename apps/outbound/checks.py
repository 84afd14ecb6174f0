"""System checks of the outbound webhooks' settings (``manage.py check``, run at start-up)."""

from __future__ import annotations

import ipaddress
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, register


@register()
def check_outbound_settings(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    for value in settings.OMS_OUTBOUND_ALLOWED_NETWORKS:
        try:
            ipaddress.ip_network(value, strict=False)
        except ValueError as exc:
            messages.append(
                Error(
                    f"OMS_OUTBOUND_ALLOWED_NETWORKS holds {value!r}, not a network: {exc}.",
                    hint="Comma-separated networks, e.g. 10.0.0.0/8,fd00::/8.",
                    id="outbound.E001",
                )
            )
    if not settings.OMS_OUTBOUND_RETRY_SCHEDULE_SECONDS or any(
        step < 0 for step in settings.OMS_OUTBOUND_RETRY_SCHEDULE_SECONDS
    ):
        messages.append(
            Error(
                "OMS_OUTBOUND_RETRY_SCHEDULE_SECONDS must list at least one wait of 0 s or more.",
                id="outbound.E002",
            )
        )
    return messages
