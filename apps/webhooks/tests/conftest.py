"""Fixtures of the webhook tests."""

from __future__ import annotations

from typing import Any

import pytest

from apps.webhooks.tests.helpers import SECRETS


@pytest.fixture(autouse=True)
def webhook_secrets(settings: Any) -> dict[str, list[str]]:
    """Known secrets per provider (not the development defaults), restored after each test."""
    settings.OMS_WEBHOOK_SECRETS = {provider: [secret] for provider, secret in SECRETS.items()}
    secrets: dict[str, list[str]] = settings.OMS_WEBHOOK_SECRETS
    return secrets
