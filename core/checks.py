"""Deployment checks of the service's own settings (``manage.py check --deploy``).

The errors would let anyone who read this repository act as a trusted party, or have the books
record money and parcels that never moved. The warning (``/metrics`` open to loopback with no
token) may be intended, as a scraper on the machine is legitimate, so it does not stop a start.
"""

from __future__ import annotations

import ipaddress
import os
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, register
from django.core.checks import Warning as CheckWarning

from apps.webhooks.verification import InvalidSecret, decode_secret
from core.providers import ConfiguredClient, configured_clients


@register(Tags.security, deploy=True)
def check_production_secrets(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    if not settings.DEBUG and settings.OMS_SIMULATOR_ENABLED:
        messages.append(
            Error(
                "The provider simulator is on with DEBUG off: it approves payments and reports "
                "deliveries, signing them with the configured production webhook secrets.",
                hint="Unset OMS_SIMULATOR_ENABLED (or set it to 0) in production.",
                id="oms.E001",
            )
        )
    public = {_key(secret) for secret in settings.OMS_DEVELOPMENT_WEBHOOK_SECRETS.values()}
    for provider, secrets in settings.OMS_WEBHOOK_SECRETS.items():
        # Compared as keys: the prefix, padding and spaces do not make another secret.
        if public.intersection(_key(secret) for secret in secrets):
            messages.append(
                Error(
                    f"OMS_WEBHOOK_SECRETS_{provider.upper()} holds the public development "
                    "secret: anyone can sign webhooks that move orders.",
                    hint="Use the secret your provider issued (whsec_...).",
                    id="oms.E002",
                )
            )
    if settings.SECRET_KEY == settings.OMS_DEVELOPMENT_SECRET_KEY:
        messages.append(
            Error(
                "SECRET_KEY is the public development key: sessions and password reset links "
                "can be forged.",
                hint="Set SECRET_KEY to a long random value kept secret.",
                id="oms.E003",
            )
        )
    return messages


@register(Tags.security, deploy=True)
def check_simulated_clients(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    if settings.DEBUG or settings.OMS_ALLOW_SIMULATED_PROVIDERS:
        return []
    return [_simulated_client(client) for client in configured_clients() if client.simulated]


@register(Tags.security, deploy=True)
def check_metrics_behind_a_local_proxy(
    app_configs: Any = None, **kwargs: Any
) -> list[CheckMessage]:
    # A proxy on this machine that adds no proxy header (nginx's bare proxy_pass) connects from
    # loopback: /metrics cannot tell its clients from a local scraper. Only the default is
    # warned about: an operator who named the networks has chosen.
    if settings.DEBUG or settings.OMS_METRICS_TOKEN:
        return []
    if "OMS_METRICS_ALLOWED_NETWORKS" in os.environ:
        return []
    networks = settings.OMS_METRICS_ALLOWED_NETWORKS
    if not networks or not all(_loopback(network) for network in networks):
        return []
    return [
        CheckWarning(
            "/metrics is readable from loopback without a token (the default "
            "OMS_METRICS_ALLOWED_NETWORKS): a proxy on this machine that adds no proxy header "
            "(Via, Forwarded, X-Forwarded-For...) would expose it to everyone it serves.",
            hint=(
                "Set OMS_METRICS_TOKEN and scrape with Authorization: Bearer <token>, or set "
                "OMS_METRICS_ALLOWED_NETWORKS to the networks your scraper is in."
            ),
            id="oms.W001",
        )
    ]


def _loopback(network: str) -> bool:
    try:
        return ipaddress.ip_network(network, strict=False).is_loopback
    except ValueError:
        return False


def _simulated_client(client: ConfiguredClient) -> Error:
    role = client.role
    what = f"a simulated {role.noun}"
    if not client.declared:
        what = f"which does not declare simulated = False, so it is taken for {what}"
    return Error(
        f"{role.setting} is {client.path}, {what}: with DEBUG off, {role.consequence}.",
        hint=(
            f"Set {role.setting} to your real client (a class declaring simulated = False), or "
            "set OMS_ALLOW_SIMULATED_PROVIDERS=1 if this deployment is a demo."
        ),
        id="oms.E004",
    )


def _key(secret: str) -> bytes | None:
    try:
        return decode_secret(secret)
    except InvalidSecret:
        return None  # reported by webhooks.E001
