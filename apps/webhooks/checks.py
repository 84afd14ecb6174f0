"""System checks of the webhook configuration (``manage.py check``, also run at start-up)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register

from apps.webhooks.models import Provider
from apps.webhooks.verification import InvalidSecret, decode_secret, secrets_for


@register(Tags.security)
def check_webhook_secrets(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    for provider in Provider:
        secrets = secrets_for(provider)
        variable = f"OMS_WEBHOOK_SECRETS_{provider.upper()}"
        if not secrets and not settings.DEBUG:
            messages.append(
                Warning(
                    f"No webhook secret is configured for the {provider} provider: every "
                    f"{provider} webhook will be rejected with 401.",
                    hint=f"Set {variable} to the provider's whsec_... secret.",
                    id="webhooks.W001",
                )
            )
        for position, secret in enumerate(secrets, start=1):
            try:
                decode_secret(secret)
            except InvalidSecret as exc:
                messages.append(
                    Error(
                        f"Secret {position} of {variable} is not valid: {exc}.",
                        hint="A secret is whsec_ followed by base64, as the provider issues it.",
                        id="webhooks.E001",
                    )
                )
    return messages


@register()
def check_simulator_settings(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    for name in (
        "OMS_SIMULATOR_APPROVAL_RATE",
        "OMS_SIMULATOR_DUPLICATE_RATE",
        "OMS_SIMULATOR_REORDER_RATE",
    ):
        if not 0.0 <= getattr(settings, name) <= 1.0:
            messages.append(Error(f"{name} must be between 0 and 1.", id="webhooks.E002"))
    low, high = settings.OMS_SIMULATOR_MIN_DELAY_SECONDS, settings.OMS_SIMULATOR_MAX_DELAY_SECONDS
    if not 0.0 <= low <= high:
        messages.append(
            Error(
                "OMS_SIMULATOR_MIN_DELAY_SECONDS must be at least 0 and at most "
                "OMS_SIMULATOR_MAX_DELAY_SECONDS.",
                id="webhooks.E003",
            )
        )
    return messages
