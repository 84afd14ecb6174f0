"""Figure 3: SQL queries per request, at two sizes. The count must not grow with the size.

Measured in-process through Django's test client with token authentication and the production
settings (the request publishes nothing; the reactions are left to the subscriptions, which no
worker runs here, so their queries are not the request's). Each request is made once before it
is counted, so that one-off work (content types, the first token look-up) is not mistaken for
growth.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bench.config import BenchConfig
from bench.fixtures import BenchUsers, fresh_start, purge_queue, setup_django
from bench.lifecycle import commands_by_target, drive_to_delivered
from bench.results import Row, Target, emit
from bench.workload import create_command, order_body


def count_queries(call: Callable[[], Any]) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    call()  # warm: the same request once, uncounted
    with CaptureQueriesContext(connection) as captured:
        response = call()
    if response.status_code >= 300:
        raise RuntimeError(f"{response.status_code}: {response.content[:300]!r}")
    return len(captured)


def make_order(users: BenchUsers, items: int, *, delivered: bool) -> Any:
    from apps.orders.services import OrderService

    service = OrderService()
    order = service.create_order(create_command(users.customer.pk, items))
    if delivered:
        drive_to_delivered(order.id, commands_by_target(service))
    return order


def events_of(order: Any) -> int:
    from apps.events.models import StoredEvent

    return StoredEvent.objects.filter(aggregate_id=order.id).count()


def main() -> None:
    cfg = BenchConfig()
    setup_django()
    from rest_framework.test import APIClient

    users = fresh_start()
    customer = APIClient()
    customer.credentials(HTTP_AUTHORIZATION=f"Token {users.customer_token}")
    rows: list[Row] = []

    def row(
        number: int, name: str, small_label: str, small: int, large_label: str, large: int
    ) -> None:
        rows.append(
            Row(
                figure=f"3.{number}",
                name=f"queries: {name}, at {large_label}",
                unit="queries",
                samples=[float(large)],
                compare_label=f"at {small_label}",
                compare_samples=[float(small)],
                compare_unit="queries",
                target=Target("ratio", "<=", 1.0, "no growth (ratio 1.0)"),
            )
        )

    def post_order(items: int) -> Callable[[], Any]:
        return lambda: customer.post("/api/v1/orders/", order_body(items), format="json")

    row(
        1,
        "POST /api/v1/orders/",
        "1 item",
        count_queries(post_order(1)),
        "50 items",
        count_queries(post_order(50)),
    )

    small = make_order(users, 1, delivered=False)
    large = make_order(users, 40, delivered=False)
    row(
        2,
        "GET /api/v1/orders/{id}/",
        "1 item",
        count_queries(lambda: customer.get(f"/api/v1/orders/{small.id}/")),
        "40 items",
        count_queries(lambda: customer.get(f"/api/v1/orders/{large.id}/")),
    )

    young = make_order(users, 3, delivered=False)
    old = make_order(users, 3, delivered=True)

    def read(order: Any, suffix: str) -> Callable[[], Any]:
        return lambda: customer.get(f"/api/v1/orders/{order.id}/{suffix}/")

    for number, suffix in ((3, "events"), (4, "history")):
        row(
            number,
            f"GET /api/v1/orders/{{id}}/{suffix}/",
            f"{events_of(young)} event(s)",
            count_queries(read(young, suffix)),
            f"{events_of(old)} events",
            count_queries(read(old, suffix)),
        )

    for _ in range(60):
        make_order(users, 7, delivered=False)
    row(
        5,
        "GET /api/v1/orders/ (list)",
        "page size 5",
        count_queries(lambda: customer.get("/api/v1/orders/?page_size=5")),
        "page size 50",
        count_queries(lambda: customer.get("/api/v1/orders/?page_size=50")),
    )

    pay_small = [make_order(users, 1, delivered=False) for _ in range(2)]
    pay_large = [make_order(users, 50, delivered=False) for _ in range(2)]

    def pay(orders: list[Any]) -> Callable[[], Any]:
        pending = list(orders)
        # The pay request has no required field (the provider gives the reference).
        return lambda: customer.post(f"/api/v1/orders/{pending.pop().id}/pay/", {}, format="json")

    row(
        6,
        "POST /api/v1/orders/{id}/pay/",
        "1 item",
        count_queries(pay(pay_small)),
        "50 items",
        count_queries(pay(pay_large)),
    )
    emit(*rows)
    purge_queue(cfg.queue)


if __name__ == "__main__":
    main()
