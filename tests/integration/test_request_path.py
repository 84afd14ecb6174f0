"""The request path's own round trips: trusted tokens from the cache, health checks after idle."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.db import close_old_connections, connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from conftest import token_client

pytestmark = pytest.mark.django_db(transaction=True)

LIST = "/api/v1/orders/"


def new_request(client: APIClient) -> Any:
    """A request as a server makes it: Django's test client leaves out the connection upkeep
    that starts every request (``close_old_connections`` on ``request_started``)."""
    close_old_connections()
    return client.get(LIST)


def token_queries(client: APIClient, expected_status: int = 200) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(LIST)
    assert response.status_code == expected_status, response.content
    return sum('"authtoken_token"' in query["sql"] for query in captured.captured_queries)


def test_a_token_is_looked_up_once_then_trusted_from_the_cache(customer: Any) -> None:
    client = token_client(customer)
    assert token_queries(client) == 1
    assert token_queries(client) == 0
    assert token_queries(client) == 0


def test_a_deleted_token_stops_working_at_once(customer: Any) -> None:
    client = token_client(customer)
    assert token_queries(client) == 1
    Token.objects.filter(user=customer).get().delete()
    assert token_queries(client, expected_status=401) == 1


def test_a_deactivated_user_is_refused_at_once(customer: Any) -> None:
    client = token_client(customer)
    token_queries(client)
    customer.is_active = False
    customer.save()
    assert token_queries(client, expected_status=401) == 1


def test_staff_rights_taken_away_apply_to_the_next_request(staff: Any) -> None:
    client = token_client(staff)
    assert client.get("/api/v1/orders/stats/").status_code == 200
    staff.is_staff = False
    staff.save()
    assert client.get("/api/v1/orders/stats/").status_code == 403


def test_a_deleted_user_cannot_use_a_cached_token(make_user: Any) -> None:
    user = make_user()
    client = token_client(user)
    token_queries(client)
    user.delete()
    assert token_queries(client, expected_status=401) == 1


def test_unknown_tokens_are_never_cached(customer: Any) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token " + "f" * 40)
    assert token_queries(client, expected_status=401) == 1
    assert token_queries(client, expected_status=401) == 1


def test_the_cache_can_be_turned_off(customer: Any, settings: Any) -> None:
    settings.OMS_AUTH_CACHE_SECONDS = 0
    client = token_client(customer)
    assert token_queries(client) == 1
    assert token_queries(client) == 1


@pytest.mark.postgres
def test_the_health_check_runs_only_after_the_connection_sat_idle(
    customer: Any, settings: Any, monkeypatch: Any
) -> None:
    settings.OMS_DB_HEALTH_CHECK_AFTER_IDLE_SECONDS = 5.0
    wrapper: Any = connection  # the PostgreSQL wrapper of core/postgresql
    wrapper.health_check_enabled = True
    checks: list[bool] = []
    real_is_usable = connection.is_usable

    def counted_is_usable() -> bool:
        usable = real_is_usable()
        checks.append(usable)
        return usable

    monkeypatch.setattr(connection, "is_usable", counted_is_usable)
    client = token_client(customer)
    assert new_request(client).status_code == 200
    checks.clear()
    assert new_request(client).status_code == 200
    assert new_request(client).status_code == 200
    assert checks == []  # used moments ago: no SELECT 1 before the request's queries
    wrapper.last_used = time.monotonic() - 60
    assert new_request(client).status_code == 200
    assert checks == [True]


@pytest.mark.postgres
def test_a_connection_killed_while_idle_is_replaced_before_the_request_uses_it(
    customer: Any, settings: Any
) -> None:
    import psycopg

    settings.OMS_DB_HEALTH_CHECK_AFTER_IDLE_SECONDS = 5.0
    wrapper: Any = connection  # the PostgreSQL wrapper of core/postgresql
    wrapper.health_check_enabled = True
    client = token_client(customer)
    assert new_request(client).status_code == 200
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    params = connection.get_connection_params()
    with psycopg.connect(**params, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])
    wrapper.last_used = time.monotonic() - 60  # as if it had sat idle since
    assert new_request(client).status_code == 200
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] != pid
