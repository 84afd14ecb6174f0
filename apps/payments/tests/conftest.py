"""Fixtures of the payments tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from apps.payments.tests.providers import RECORDING_PROVIDER, RecordingProvider


@pytest.fixture
def provider(settings: Any) -> Iterator[type[RecordingProvider]]:
    """Route every provider call through :class:`RecordingProvider` (reset per test)."""
    settings.OMS_PAYMENT_PROVIDER = RECORDING_PROVIDER
    RecordingProvider.reset()
    yield RecordingProvider
    RecordingProvider.reset()
