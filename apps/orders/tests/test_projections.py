"""The read side: projections, rebuild, verification against the log, statistics."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.forms.models import model_to_dict

from apps.events.models import StoredEvent
from apps.events.projection import get, rebuild, registered
from apps.orders.models import DailyRevenue, Order, OrderStateChange, OrderSummary
from apps.orders.state_machine import OrderState
from apps.orders.tests.factories import create_order, move_to

pytestmark = pytest.mark.django_db(transaction=True)

WORKLOAD = [
    OrderState.PENDING,
    OrderState.PAID,
    OrderState.PROCESSING,
    OrderState.SHIPPED,
    OrderState.DELIVERED,
    OrderState.DELIVERED,
    OrderState.CANCELLED,
    OrderState.FAILED,
]


def read_models() -> dict[str, list[dict[str, Any]]]:
    def rows(model: Any, *key: str, exclude: tuple[str, ...] = ()) -> list[dict[str, Any]]:
        return [model_to_dict(row, exclude=exclude) for row in model.objects.order_by(*key)]

    return {
        "summary": rows(OrderSummary, "order_id"),
        "history": rows(OrderStateChange, "event_id"),
        # The surrogate id is not part of the projection's content.
        "revenue": rows(DailyRevenue, "day", "currency", "stripe", exclude=("id",)),
    }


@pytest.fixture
def mixed_workload(customer: Any, other_customer: Any) -> list[Order]:
    orders = []
    for index, target in enumerate(WORKLOAD):
        owner = customer if index % 2 else other_customer
        orders.append(move_to(create_order(owner, items=index % 3 + 1), target))
    # A paid order that is then cancelled (refund path).
    paid = move_to(create_order(customer, currency="USD"), OrderState.PAID)
    orders.append(move_to(paid, OrderState.CANCELLED) if paid.state == "PAID" else paid)
    return orders


def test_live_projections_follow_every_order(mixed_workload: list[Order]) -> None:
    for order in mixed_workload:
        summary = OrderSummary.objects.get(order_id=order.id)
        row = Order.objects.get(id=order.id)
        assert (summary.state, summary.order_version, summary.total) == (
            row.state,
            row.version,
            row.total,
        )
        history = list(
            OrderStateChange.objects.filter(order_id=order.id).values_list("to_state", flat=True)
        )
        assert history[0] == "PENDING"
        assert history[-1] == row.state
    delivered = OrderSummary.objects.filter(state="DELIVERED")
    assert all(
        s.paid_at and s.delivered_at and s.ms_payment_to_delivery is not None for s in delivered
    )
    # Nothing is behind: each summary has applied the last event of its order's stream that it
    # reads, in the command's own transaction.
    summary_types = get("order_summary").event_types
    for order in mixed_workload:
        last = (
            StoredEvent.objects.filter(partition_key=order.id, event_type__in=summary_types)
            .order_by("-sequence")
            .values_list("sequence", flat=True)
            .first()
        )
        assert OrderSummary.objects.get(order_id=order.id).last_sequence == last


def test_rebuild_gives_rows_identical_to_the_live_ones_and_verify_finds_nothing(
    mixed_workload: list[Order], capsys: pytest.CaptureFixture[str]
) -> None:
    live = read_models()
    call_command("rebuild_projections", "--batch-size", "7")
    assert read_models() == live
    call_command("verify_event_store")
    assert "0 mismatches" in capsys.readouterr().out


def test_rebuild_of_one_projection_starts_from_an_empty_table(mixed_workload: list[Order]) -> None:
    live = read_models()
    OrderStateChange.objects.filter(order_id=mixed_workload[0].id).delete()
    OrderStateChange.objects.create(
        event_id="00000000-0000-0000-0000-000000000001",
        order_id=mixed_workload[0].id,
        sequence=0,
        event_type="Bogus",
        to_state="PAID",
        at=mixed_workload[0].created_at,
    )
    assert (
        rebuild("order_history")
        == StoredEvent.objects.filter(event_type__in=get("order_history").event_types).count()
    )
    assert read_models() == live


def test_a_corrupted_order_row_is_named_by_verify(
    mixed_workload: list[Order], capsys: pytest.CaptureFixture[str]
) -> None:
    victim = mixed_workload[1]
    Order.objects.filter(id=victim.id).update(total=Decimal("999.00"))
    # Named twice: the total its events folded to, and the payment's amount, which it no longer is.
    with pytest.raises(CommandError, match="2 mismatch"):
        call_command("verify_event_store")
    out = capsys.readouterr().out
    assert str(victim.id) in out
    assert "total" in out
    assert sum(str(o.id) in out for o in mixed_workload) == 1


def test_a_stale_summary_row_is_named_by_verify(
    mixed_workload: list[Order], capsys: pytest.CaptureFixture[str]
) -> None:
    victim = mixed_workload[2]
    OrderSummary.objects.filter(order_id=victim.id).update(state="PENDING")
    with pytest.raises(CommandError):
        call_command("verify_event_store")
    assert f"order {victim.id} [summary]: state" in capsys.readouterr().out


def test_replaying_applied_events_changes_no_projection(mixed_workload: list[Order]) -> None:
    before = read_models()
    for cls in registered().values():
        target = cls()
        for stored in StoredEvent.objects.filter(event_type__in=cls.event_types):
            with transaction.atomic():
                target.apply(stored)
    assert read_models() == before


def expected_stats_from_events() -> dict[str, Any]:
    """The statistics, computed directly from the event log."""
    events = StoredEvent.objects.filter(aggregate_type="order").order_by("sequence")
    state: dict[Any, str] = {}
    created: dict[Any, Any] = {}
    paid: dict[Any, Any] = {}
    to_pay: list[float] = []
    to_deliver: list[float] = []
    revenue: dict[str, Decimal] = defaultdict(Decimal)
    for event in events:
        key = event.aggregate_id
        if event.event_type == "OrderCreated":
            created[key] = event.occurred_at
            state[key] = event.payload["state"]
            continue
        state[key] = event.payload["to_state"]
        if event.event_type == "OrderPaid":
            paid[key] = event.occurred_at
            to_pay.append((event.occurred_at - created[key]).total_seconds())
            revenue[event.payload["currency"]] += Decimal(event.payload["amount"])
        if event.event_type == "OrderDelivered":
            to_deliver.append((event.occurred_at - paid[key]).total_seconds())
    counts = {s.value: 0 for s in OrderState}
    for value in state.values():
        counts[value] += 1

    def p95(values: list[float]) -> float:
        return sorted(values)[math.ceil(0.95 * len(values)) - 1]

    return {
        "counts": counts,
        "revenue": {c: str(a.quantize(Decimal("0.01"))) for c, a in revenue.items()},
        "to_pay": (len(to_pay), round(sum(to_pay) / len(to_pay), 3), round(p95(to_pay), 3)),
        "to_deliver": (len(to_deliver), round(p95(to_deliver), 3)),
    }


def test_stats_match_the_events_and_a_new_paid_order_shows_up(
    mixed_workload: list[Order], staff_client: Any, customer: Any
) -> None:
    def fetch() -> dict[str, Any]:
        response = staff_client.get("/api/v1/orders/stats/")
        assert response.status_code == 200, response.content
        body: dict[str, Any] = response.json()
        return body

    first = fetch()
    expected = expected_stats_from_events()
    assert first["orders_per_state"] == expected["counts"]
    assert first["revenue"]["per_currency"] == expected["revenue"]
    to_pay = first["time_to_payment"]
    assert (to_pay["count"], to_pay["mean_seconds"], to_pay["p95_seconds"]) == pytest.approx(
        expected["to_pay"], abs=0.002
    )
    to_deliver = first["time_from_payment_to_delivery"]
    assert (to_deliver["count"], to_deliver["p95_seconds"]) == pytest.approx(
        expected["to_deliver"], abs=0.002
    )
    assert first["as_of_position"] == StoredEvent.objects.order_by("-position").first().position  # type: ignore[union-attr]
    assert first["max_age_seconds"] > 0
    assert fetch()["cached"] is True

    move_to(create_order(customer), OrderState.PAID)
    second = fetch()
    assert second["cached"] is False
    assert second["as_of_position"] > first["as_of_position"]
    assert second["time_to_payment"]["count"] == to_pay["count"] + 1
    assert Decimal(second["revenue"]["per_currency"]["EUR"]) > Decimal(
        first["revenue"]["per_currency"]["EUR"]
    )
    assert second == {**fetch(), "cached": False}


@pytest.mark.parametrize(
    ("client_name", "status_code"), [("anon_client", 401), ("customer_client", 403)]
)
def test_stats_are_for_staff(
    request: pytest.FixtureRequest, client_name: str, status_code: int
) -> None:
    client: Callable[..., Any] = request.getfixturevalue(client_name)
    assert client.get("/api/v1/orders/stats/").status_code == status_code  # type: ignore[attr-defined]


def test_stats_are_cached_in_redis_when_configured(
    settings: Any, staff_client: Any, customer: Any
) -> None:
    from django.core.cache import cache

    from scripts.services import require_services, tcp_reachable

    url = "redis://127.0.0.1:6379/13"
    if problem := tcp_reachable(url, 6379):
        if require_services():
            pytest.fail(f"Redis is required (OMS_REQUIRE_SERVICES=1): {problem}")
        pytest.skip(f"needs Redis: {problem}")
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}
    }
    cache.clear()
    create_order(customer)
    first = staff_client.get("/api/v1/orders/stats/").json()
    assert first["cached"] is False
    assert cache.get("orders:stats:v1")["as_of_position"] == first["as_of_position"]
    assert staff_client.get("/api/v1/orders/stats/").json()["cached"] is True
    move_to(create_order(customer), OrderState.CANCELLED)  # applying events drops the entry
    assert staff_client.get("/api/v1/orders/stats/").json()["orders_per_state"]["CANCELLED"] == 1
    cache.clear()
