"""Fixtures shared by the whole suite."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from apps.events.retry import use_policy

# Fixtures shared by several test modules: ``receiver`` (a merchant's webhook receiver).
pytest_plugins = ["tests.support.webhook_receiver"]


def on_postgres() -> bool:
    return settings.DATABASES["default"]["ENGINE"].endswith("postgresql")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if on_postgres():
        return
    skip = pytest.mark.skip(
        reason="needs PostgreSQL: runs in the PostgreSQL pass of `make test` "
        "(set DATABASE_URL to a PostgreSQL URL to run it alone)"
    )
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


def pytest_report_header(config: pytest.Config) -> str:
    db = settings.DATABASES["default"]
    return f"database: {db['ENGINE'].rsplit('.', 1)[-1]} {db.get('NAME')}"


@pytest.fixture(autouse=True)
def _default_retry_policy() -> Iterator[None]:
    yield
    use_policy(None)


@pytest.fixture(autouse=True)
def _reactions_after_commit(settings: Any) -> None:
    """Run the subscriptions right after each commit, in the test's process (see
    ``apps/events/after_commit.py``): a test sees its request's reactions without a worker.
    Tests of the runners themselves turn it off."""
    settings.OMS_SUBSCRIPTIONS_RUN_AFTER_COMMIT = True


@pytest.fixture(autouse=True)
def _no_rate_limits(settings: Any) -> None:
    """Tests send requests far faster than any client would: rate limits would turn them into
    429s at random. The throttling tests turn their limit back on (``with_rate``)."""
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": dict.fromkeys(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]),
    }


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    """Each test starts with nothing cached (authenticated tokens, statistics)."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def make_user(db: Any) -> Callable[..., Any]:
    counter = iter(range(1, 1_000_000))

    def make(*, staff: bool = False, username: str | None = None) -> Any:
        name = username or f"{'staff' if staff else 'customer'}-{next(counter)}"
        return get_user_model().objects.create_user(
            username=name, password="test-password-123", is_staff=staff
        )

    return make


@pytest.fixture
def customer(make_user: Callable[..., Any]) -> Any:
    return make_user(username="alice")


@pytest.fixture
def other_customer(make_user: Callable[..., Any]) -> Any:
    return make_user(username="bob")


@pytest.fixture
def staff(make_user: Callable[..., Any]) -> Any:
    return make_user(staff=True, username="operator")


def token_client(user: Any) -> APIClient:
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def customer_client(customer: Any) -> APIClient:
    return token_client(customer)


@pytest.fixture
def other_client(other_customer: Any) -> APIClient:
    return token_client(other_customer)


@pytest.fixture
def staff_client(staff: Any) -> APIClient:
    return token_client(staff)


@pytest.fixture
def anon_client() -> APIClient:
    return APIClient()


def require_services() -> bool:
    return os.environ.get("OMS_REQUIRE_SERVICES", "") in {"1", "true", "yes"}


@pytest.fixture
def instant_simulator(settings: Any) -> Any:
    """The provider simulator on, answering at once, approving every payment, without duplicates
    or reordered reports (tests that want chance or delay set it themselves)."""
    settings.OMS_SIMULATOR_ENABLED = True
    settings.OMS_SIMULATOR_MIN_DELAY_SECONDS = 0.0
    settings.OMS_SIMULATOR_MAX_DELAY_SECONDS = 0.0
    settings.OMS_SIMULATOR_APPROVAL_RATE = 1.0
    settings.OMS_SIMULATOR_DUPLICATE_RATE = 0.0
    settings.OMS_SIMULATOR_REORDER_RATE = 0.0
    return settings
