"""What operators rely on in production: health and readiness, metrics, rate limits.

The production command itself (gunicorn, Celery, static files) is tested end to end in
``test_production_run.py``, the log lines in ``test_logging.py``; these tests hold each piece to
its promise in process.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from prometheus_client import REGISTRY
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from apps.events.subscriptions import run_until_idle
from apps.orders.models import Order
from apps.webhooks.tests.helpers import SECRETS, post_webhook
from core.problems import PROBLEM_CONTENT_TYPE
from shared.clock import frozen_clock
from tests.integration.celery_worker import require_broker

# Commits for real: the reactions and the counts of committed events follow them.
pytestmark = pytest.mark.django_db(transaction=True)

ORDER = {
    "currency": "EUR",
    "items": [{"sku": "BOOK-1", "name": "A book", "quantity": 1, "unit_price": "12.50"}],
}


def create_order(client: APIClient, **headers: str) -> Any:
    return client.post("/api/v1/orders/", ORDER, format="json", headers=headers)


def with_rates(settings: Any, **rates: str) -> None:
    """Turn the named throttles on (the suite runs with every rate off)."""
    current = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**current, **rates},
    }


def assert_problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM_CONTENT_TYPE
    body: dict[str, Any] = json.loads(response.content)
    assert body["code"] == code
    return body


# --- health and readiness -----------------------------------------------------------------------


def test_healthz_answers_without_asking_the_database(
    anon_client: APIClient, django_assert_num_queries: Any
) -> None:
    with django_assert_num_queries(0):
        response = anon_client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_is_ready_when_the_database_the_broker_and_the_subscriptions_are(
    settings: Any, anon_client: APIClient
) -> None:
    require_broker()
    settings.OMS_READY_CHECK_BROKER = True
    response = anon_client.get("/readyz")
    assert response.status_code == 200, response.content
    checks = response.json()["checks"]
    assert {name: check["status"] for name, check in checks.items()} == {
        "database": "ok",
        "broker": "ok",
        "subscriptions": "ok",
    }


def test_readyz_fails_with_a_clear_problem_when_the_broker_is_down(
    settings: Any, anon_client: APIClient
) -> None:
    settings.OMS_READY_CHECK_BROKER = True
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    body = assert_problem(anon_client.get("/readyz"), 503, "not_ready")
    assert body["detail"].startswith("broker: ")
    assert body["checks"]["broker"]["status"] == "failing"
    assert body["checks"]["database"] == {"status": "ok"}
    assert body["checks"]["subscriptions"]["status"] == "ok"


def test_readyz_fails_when_a_subscription_is_stalled_and_recovers_when_it_moves(
    settings: Any, customer_client: APIClient, anon_client: APIClient
) -> None:
    settings.OMS_SUBSCRIPTIONS_RUN_AFTER_COMMIT = False  # no runner: the events wait
    settings.OMS_READY_CHECK_BROKER = False
    settings.OMS_READY_STALL_SECONDS = 60.0
    settings.OMS_READY_MAX_LAG_SECONDS = 600.0
    # From now on: the checkpoints the migrations made are of today.
    with frozen_clock(datetime.now(UTC)) as clock:
        assert create_order(customer_client).status_code == 201
        clock.advance(timedelta(seconds=30))
        young = anon_client.get("/readyz")
        assert young.status_code == 200, young.content
        assert young.json()["checks"]["subscriptions"]["events_behind"] >= 1

        clock.advance(timedelta(seconds=31))
        body = assert_problem(anon_client.get("/readyz"), 503, "not_ready")
        assert "stalled for over 60 s with events waiting" in body["detail"]
        assert "payments.request_payment[" in body["detail"]
        assert body["checks"]["database"] == {"status": "ok"}

        clock.advance(timedelta(seconds=600))
        lagging = assert_problem(anon_client.get("/readyz"), 503, "not_ready")
        assert "the oldest unhandled event is 661 s old (bound 600 s)" in lagging["detail"]

        settings.OMS_READY_CHECK_SUBSCRIPTIONS = False  # a web tier that leaves it to alerts
        assert set(anon_client.get("/readyz").json()["checks"]) == {"database"}
        settings.OMS_READY_CHECK_SUBSCRIPTIONS = True

        run_until_idle()
        assert anon_client.get("/readyz").status_code == 200


class RealCarrier:
    """Stands for the client of a real carrier: it says so. Never called here."""

    simulated = False


def test_readyz_names_the_provider_clients_in_use_and_whether_they_are_simulated(
    settings: Any, anon_client: APIClient
) -> None:
    settings.OMS_READY_CHECK_BROKER = False
    settings.OMS_CARRIER_CLIENT = f"{__name__}.RealCarrier"
    ready = anon_client.get("/readyz")
    assert ready.status_code == 200, ready.content
    assert ready.json()["providers"] == {
        "payment": {"client": "apps.webhooks.ledger.LedgerPaymentProvider", "simulated": True},
        "carrier": {"client": f"{__name__}.RealCarrier", "simulated": False},
    }
    # Named when the service is not ready too: that is when an operator reads the answer.
    settings.OMS_READY_CHECK_BROKER = True
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    body = assert_problem(anon_client.get("/readyz"), 503, "not_ready")
    assert body["providers"] == ready.json()["providers"]


# --- metrics ------------------------------------------------------------------------------------


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_requests_commands_events_and_replays_are_counted(customer_client: APIClient) -> None:
    route = {"route": "/api/v1/orders/", "method": "POST", "status": "201"}
    before = {
        "requests": sample("oms_http_requests_total", **route),
        "latency": sample(
            "oms_http_request_duration_seconds_count", route="/api/v1/orders/", method="POST"
        ),
        "commands": sample("oms_commands_total", command="CreateOrder", outcome="ok"),
        "events": sample("oms_events_appended_total", event_type="OrderCreated"),
        "replays": sample("oms_idempotent_replays_total", route="/api/v1/orders/"),
        "deliveries": sample(
            "oms_event_deliveries_total",
            subscription="payments.request_payment",
            outcome="succeeded",
        ),
    }
    key = f"metrics-{uuid.uuid4()}"
    assert create_order(customer_client, **{"Idempotency-Key": key}).status_code == 201
    assert create_order(customer_client, **{"Idempotency-Key": key}).status_code == 201
    assert sample("oms_http_requests_total", **route) == before["requests"] + 2
    assert (
        sample("oms_http_request_duration_seconds_count", route="/api/v1/orders/", method="POST")
        == before["latency"] + 2
    )
    assert sample("oms_commands_total", command="CreateOrder", outcome="ok") == (
        before["commands"] + 1
    )
    assert sample("oms_events_appended_total", event_type="OrderCreated") == before["events"] + 1
    assert sample("oms_idempotent_replays_total", route="/api/v1/orders/") == before["replays"] + 1
    assert (
        sample(
            "oms_event_deliveries_total",
            subscription="payments.request_payment",
            outcome="succeeded",
        )
        == before["deliveries"] + 1
    )


def test_a_refused_command_is_counted_as_refused(customer_client: APIClient) -> None:
    order_id = create_order(customer_client).json()["id"]
    before = sample("oms_commands_total", command="CancelOrder", outcome="refused")
    customer_client.post(f"/api/v1/orders/{order_id}/cancel/", {}, format="json")
    second = customer_client.post(f"/api/v1/orders/{order_id}/cancel/", {}, format="json")
    assert second.status_code == 409
    assert sample("oms_commands_total", command="CancelOrder", outcome="refused") == before + 1


def test_metrics_show_the_backlog_of_each_subscription(
    settings: Any, customer_client: APIClient, anon_client: APIClient
) -> None:
    settings.OMS_SUBSCRIPTIONS_RUN_AFTER_COMMIT = False

    def backlog() -> float:
        text = anon_client.get("/metrics").content.decode()
        return sum(
            float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith("oms_subscription_lag_events{")
            and 'subscription="payments.request_payment"' in line
        )

    assert backlog() == 0
    create_order(customer_client)
    create_order(customer_client)
    assert backlog() == 2
    run_until_idle()
    assert backlog() == 0


def test_webhook_outcomes_are_counted_by_provider(settings: Any, anon_client: APIClient) -> None:
    settings.OMS_WEBHOOK_SECRETS = {provider: [secret] for provider, secret in SECRETS.items()}
    before = sample("oms_webhooks_received_total", provider="payment", outcome="rejected")
    message = {"type": "payment.failed", "timestamp": "2026-01-31T12:00:00Z", "data": {}}
    response = post_webhook(anon_client, "payment", message, secret="whsec_d3Jvbmc=")
    assert response.status_code == 401
    assert sample("oms_webhooks_received_total", provider="payment", outcome="rejected") == (
        before + 1
    )


def test_metrics_are_refused_outside_the_allowed_networks_unless_the_token_is_presented(
    settings: Any, anon_client: APIClient
) -> None:
    settings.OMS_METRICS_ALLOWED_NETWORKS = ["10.0.0.0/8"]  # the test client is 127.0.0.1
    settings.OMS_METRICS_TOKEN = ""
    assert_problem(anon_client.get("/metrics"), 403, "permission_denied")
    settings.OMS_METRICS_TOKEN = "scrape-secret-123"
    assert_problem(
        anon_client.get("/metrics", headers={"Authorization": "Bearer wrong"}),
        403,
        "permission_denied",
    )
    allowed = anon_client.get("/metrics", headers={"Authorization": "Bearer scrape-secret-123"})
    assert allowed.status_code == 200
    assert b"oms_log_head_position" in allowed.content
    assert anon_client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200
    settings.OMS_METRICS_ALLOWED_NETWORKS = []
    settings.OMS_METRICS_TOKEN = ""
    assert_problem(anon_client.get("/metrics"), 404, "not_found")


# --- rate limits --------------------------------------------------------------------------------


def test_bad_tokens_get_429_after_the_configured_number_from_one_address(
    settings: Any, anon_client: APIClient, customer: Any, other_customer: Any
) -> None:
    with_rates(settings, auth_failures="5/m")
    known = f"Token {Token.objects.get_or_create(user=customer)[0].key}"
    unseen = f"Token {Token.objects.get_or_create(user=other_customer)[0].key}"
    assert anon_client.get("/api/v1/orders/", headers={"Authorization": known}).status_code == 200
    for attempt in range(5):
        response = anon_client.get(
            "/api/v1/orders/", headers={"Authorization": f"Token wrong-{attempt}"}
        )
        assert_problem(response, 401, "authentication_failed")
    refused = anon_client.get("/api/v1/orders/", headers={"Authorization": "Token wrong-6"})
    assert_problem(refused, 429, "throttled")
    assert 1 <= int(refused["Retry-After"]) <= 60
    # Refused before any lookup: a token the cache does not vouch for waits too...
    assert_problem(
        anon_client.get("/api/v1/orders/", headers={"Authorization": unseen}), 429, "throttled"
    )
    # ...but a client whose token authenticated lately is not locked out by someone else.
    assert anon_client.get("/api/v1/orders/", headers={"Authorization": known}).status_code == 200
    # Another address is counted on its own.
    elsewhere = anon_client.get(
        "/api/v1/orders/", headers={"Authorization": "Token wrong-7"}, REMOTE_ADDR="10.9.8.7"
    )
    assert_problem(elsewhere, 401, "authentication_failed")
    assert (
        anon_client.get(
            "/api/v1/orders/", headers={"Authorization": unseen}, REMOTE_ADDR="10.9.8.7"
        ).status_code
        == 200
    )


def test_behind_declared_proxies_the_forwarded_client_is_counted(
    settings: Any, anon_client: APIClient
) -> None:
    with_rates(settings, auth_failures="2/m")
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    proxy = "10.0.0.5"
    for _ in range(2):
        anon_client.get(
            "/api/v1/orders/",
            headers={"Authorization": "Token wrong", "X-Forwarded-For": "203.0.113.7"},
            REMOTE_ADDR=proxy,
        )
    blocked = anon_client.get(
        "/api/v1/orders/",
        headers={"Authorization": "Token wrong", "X-Forwarded-For": "203.0.113.7"},
        REMOTE_ADDR=proxy,
    )
    assert_problem(blocked, 429, "throttled")
    # Another client behind the same proxy is not.
    other = anon_client.get(
        "/api/v1/orders/",
        headers={"Authorization": "Token wrong", "X-Forwarded-For": "198.51.100.9"},
        REMOTE_ADDR=proxy,
    )
    assert_problem(other, 401, "authentication_failed")


def test_writes_are_limited_per_user_and_a_refused_write_changes_nothing(
    settings: Any, customer_client: APIClient, other_client: APIClient
) -> None:
    with_rates(settings, writes="3/m")
    for _ in range(3):
        assert create_order(customer_client).status_code == 201
    refused = create_order(customer_client)
    assert_problem(refused, 429, "throttled")
    assert int(refused["Retry-After"]) >= 1
    assert Order.objects.count() == 3
    assert customer_client.get("/api/v1/orders/").status_code == 200  # reads are not limited
    assert create_order(other_client).status_code == 201  # another user has their own budget


def test_webhooks_are_limited_per_sending_address(settings: Any, anon_client: APIClient) -> None:
    with_rates(settings, webhooks="2/m")
    message = {"type": "payment.failed", "timestamp": "2026-01-31T12:00:00Z", "data": {}}
    for _ in range(2):
        response = post_webhook(anon_client, "payment", message, secret="whsec_d3Jvbmc=")
        assert response.status_code == 401
    refused = post_webhook(anon_client, "payment", message, secret="whsec_d3Jvbmc=")
    assert_problem(refused, 429, "throttled")


def test_admin_login_is_refused_after_repeated_wrong_passwords_even_with_the_right_one(
    settings: Any, staff: Any
) -> None:
    settings.AXES_FAILURE_LIMIT = 5
    browser = Client()
    for _ in range(5):
        wrong = browser.post("/admin/login/", {"username": staff.username, "password": "nope"})
        assert wrong.status_code in {200, 429}
    right = browser.post(
        "/admin/login/", {"username": staff.username, "password": "test-password-123"}
    )
    assert right.status_code == 429
    assert "_auth_user_id" not in browser.session
    # Another address is not locked out of the same account.
    elsewhere = Client(REMOTE_ADDR="10.9.8.7")
    accepted = elsewhere.post(
        "/admin/login/", {"username": staff.username, "password": "test-password-123"}
    )
    assert accepted.status_code == 302
    assert elsewhere.session["_auth_user_id"] == str(staff.pk)


def test_behind_a_declared_proxy_admin_lockouts_are_per_client(settings: Any, staff: Any) -> None:
    settings.AXES_FAILURE_LIMIT = 3
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    attacker = Client(REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="203.0.113.7")
    for _ in range(3):
        attacker.post("/admin/login/", {"username": staff.username, "password": "nope"})
    locked = attacker.post(
        "/admin/login/", {"username": staff.username, "password": "test-password-123"}
    )
    assert locked.status_code == 429
    # The staff member, behind the same proxy, still gets in.
    colleague = Client(REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="198.51.100.9")
    accepted = colleague.post(
        "/admin/login/", {"username": staff.username, "password": "test-password-123"}
    )
    assert accepted.status_code == 302


def test_an_unknown_method_is_counted_as_other(anon_client: APIClient) -> None:
    labels = {"route": "/api/v1/orders/", "status": "401"}
    before = sample("oms_http_requests_total", method="other", **labels)
    anon_client.generic("FROBNICATE", "/api/v1/orders/")
    anon_client.generic("QWERTYUIOP", "/api/v1/orders/")
    assert sample("oms_http_requests_total", method="other", **labels) == before + 2
    assert sample("oms_http_requests_total", method="FROBNICATE", **labels) == 0


def test_metrics_through_an_undeclared_proxy_need_the_token(
    settings: Any, anon_client: APIClient
) -> None:
    settings.OMS_METRICS_TOKEN = "scrape-secret-123"
    # A proxy on the same machine: the connection is from loopback, the client is not.
    proxied = anon_client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.7"})
    assert_problem(proxied, 403, "permission_denied")
    with_token = anon_client.get(
        "/metrics",
        headers={"X-Forwarded-For": "203.0.113.7", "Authorization": "Bearer scrape-secret-123"},
    )
    assert with_token.status_code == 200
    assert anon_client.get("/metrics").status_code == 200  # loopback, no proxy


@pytest.mark.parametrize(
    "proxy_header",
    [
        {"Forwarded": "for=203.0.113.7;proto=https"},
        {"X-Real-IP": "203.0.113.7"},
        {"X-Forwarded-For": "203.0.113.7"},
        # Every HTTP proxy must add Via (RFC 9110 section 7.6.3), even one that names no client.
        {"Via": "1.1 edge-proxy"},
        {"X-Forwarded-Host": "oms.example.com"},
        {"X-Forwarded-Proto": "https"},
        {"X-Forwarded-Port": "443"},
        {"X-Cluster-Client-IP": "203.0.113.7"},
        {"Fastly-Client-IP": "203.0.113.7"},
        {"True-Client-IP": "203.0.113.7"},
        {"CF-Connecting-IP": "203.0.113.7"},
        {"X-Client-IP": "203.0.113.7"},
    ],
    ids=lambda header: next(iter(header)).lower(),
)
def test_metrics_through_an_undeclared_proxy_of_any_kind_need_the_token(
    settings: Any, anon_client: APIClient, proxy_header: dict[str, str]
) -> None:
    settings.OMS_METRICS_TOKEN = "scrape-secret-123"
    # nginx (X-Real-IP) or an RFC 7239 proxy on the same machine: the connection is loopback.
    assert_problem(anon_client.get("/metrics", headers=proxy_header), 403, "permission_denied")
    with_token = anon_client.get(
        "/metrics", headers={**proxy_header, "Authorization": "Bearer scrape-secret-123"}
    )
    assert with_token.status_code == 200
    # Declared proxies append to X-Forwarded-For: a request that names its client only in
    # another header did not come through them, and its loopback address proves nothing.
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    if "X-Forwarded-For" not in proxy_header:
        assert_problem(anon_client.get("/metrics", headers=proxy_header), 403, "permission_denied")
    # Through the declared proxy, the client it names is the one judged.
    settings.OMS_METRICS_ALLOWED_NETWORKS = ["198.51.100.0/24"]
    declared = {**proxy_header, "X-Forwarded-For": "198.51.100.9"}
    assert anon_client.get("/metrics", headers=declared).status_code == 200
    outside = {**proxy_header, "X-Forwarded-For": "203.0.113.7"}
    assert_problem(anon_client.get("/metrics", headers=outside), 403, "permission_denied")


def test_readyz_does_not_hang_on_a_broker_that_never_answers(
    settings: Any, anon_client: APIClient
) -> None:
    import socket
    import time

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # accepts connections, never says a word
    try:
        settings.OMS_READY_CHECK_BROKER = True
        settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{silent.getsockname()[1]}/0"
        started = time.monotonic()
        body = assert_problem(anon_client.get("/readyz"), 503, "not_ready")
        assert time.monotonic() - started < 10
        assert body["checks"]["broker"]["status"] == "failing"
    finally:
        silent.close()


def test_readiness_and_metrics_cost_the_same_queries_whatever_the_segment_count(
    settings: Any, customer_client: APIClient, anon_client: APIClient
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    settings.OMS_SUBSCRIPTIONS_RUN_AFTER_COMMIT = False
    create_order(customer_client)
    settings.OMS_READY_CHECK_BROKER = False
    counted: dict[int, tuple[int, int]] = {}
    for segments in (4, 16):
        settings.OMS_SUBSCRIPTION_SEGMENTS = segments
        with CaptureQueriesContext(connection) as ready:
            assert anon_client.get("/readyz").status_code == 200
        with CaptureQueriesContext(connection) as scraped:
            assert anon_client.get("/metrics").status_code == 200
        counted[segments] = (len(ready), len(scraped))
    assert counted[4] == counted[16]
    # The database answers, then one query per subscription, the checkpoints and the parked.
    from apps.events.registry import registry

    assert counted[4][0] <= 1 + len(registry.names()) + 2
