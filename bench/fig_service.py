"""Figure 1: the service level, in one process, against the ``eventsourcing`` peer.

* create: ``OrderService.create_order`` (order row, items, event, outbox rows, dispatch), with
  every registered handler and projection running inline after commit;
* lifecycle: create → paid → processing → shipped → delivered. A warm-up order tells which steps
  the registered handlers take by themselves (they run inline); the benchmark issues the commands
  only for the others, so once payments and shipping react to events, their real path is measured;
* the peer, in the same run and interleaved with ours: ``eventsourcing`` creating an order
  aggregate and recording a payment event (see bench/peer.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from bench.budget import Runs, join
from bench.config import BenchConfig
from bench.fixtures import fresh_start, handler_names, setup_django
from bench.lifecycle import LIFECYCLE, commands_by_target, drive_to_delivered
from bench.results import Row, Target, emit


def event_count() -> int:
    from apps.events.models import StoredEvent

    return StoredEvent.objects.count()


def timed(run: Callable[[], Any], seconds: float, max_orders: int) -> tuple[float, int, float]:
    """Orders per second, orders done and elapsed seconds of one bounded run."""
    done = 0
    started = time.perf_counter()
    deadline = started + seconds
    while done < max_orders and time.perf_counter() < deadline:
        run()
        done += 1
    elapsed = time.perf_counter() - started
    return done / elapsed, done, elapsed


def main() -> None:
    cfg = BenchConfig()
    setup_django()
    from apps.orders.models import Order
    from apps.orders.services import OrderService
    from bench import peer
    from bench.workload import create_command

    users = fresh_start()
    service = OrderService()
    command = create_command(users.customer.pk, cfg.items_per_order)
    commands = commands_by_target(service)
    handlers = handler_names()
    print(f"  registered handlers: {', '.join(handlers) or 'none'}", flush=True)

    def create() -> Any:
        return service.create_order(command)

    # A warm-up order tells which steps the handlers take: the measured runs command the rest.
    steps = drive_to_delivered(create().id, commands)
    by_handlers = [step for step in LIFECYCLE if step not in steps]
    print(f"  lifecycle commands issued: {steps}; taken by handlers: {by_handlers}", flush=True)

    cycled: list[Any] = []

    def lifecycle() -> None:
        order_id = create().id
        for target in steps:
            commands[target](order_id)
        cycled.append(order_id)

    app = peer.open_peer(cfg.peer_database_url)
    try:
        # Warm-up: connections, caches, code paths.
        timed(create, 1.0, 30)
        timed(lifecycle, 2.0, 30)
        peer.measure(app, 1.0, 50, items=cfg.items_per_order, pay=True)

        create_rates: list[float] = []
        create_event_rates: list[float] = []
        cycle_rates: list[float] = []
        cycle_event_rates: list[float] = []
        peer_rates: list[float] = []
        peer_event_rates: list[float] = []
        peer_create_rates: list[float] = []
        runs = Runs(cfg)
        for run in runs:
            events_before = event_count()
            rate, _, elapsed = timed(create, cfg.service_seconds, cfg.service_max_orders)
            events_after = event_count()
            create_rates.append(rate)
            create_event_rates.append((events_after - events_before) / elapsed)

            rate, _ = peer.measure(
                app,
                cfg.service_seconds,
                cfg.service_max_orders,
                items=cfg.items_per_order,
                pay=True,
            )
            peer_rates.append(rate)
            peer_event_rates.append(2 * rate)  # one creation and one payment event per order

            events_before = event_count()
            rate, _, elapsed = timed(lifecycle, cfg.service_seconds, cfg.service_max_orders)
            events_after = event_count()
            cycle_rates.append(rate)
            cycle_event_rates.append((events_after - events_before) / elapsed)
            rate_only, _ = peer.measure(
                app,
                cfg.service_seconds,
                cfg.service_max_orders,
                items=cfg.items_per_order,
                pay=False,
            )
            peer_create_rates.append(rate_only)
            print(
                f"  run {run + 1}/{cfg.runs}: create {create_rates[-1]:.0f}/s, "
                f"lifecycle {cycle_rates[-1]:.0f}/s, peer {peer_rates[-1]:.0f}/s, "
                f"peer create-only {rate_only:.0f}/s",
                flush=True,
            )
        pending_left = Order.objects.filter(id__in=cycled).exclude(state="DELIVERED").count()
    finally:
        app.close()

    handled = f"handlers inline: {len(handlers)}" + (
        f" ({', '.join(handlers)})" if handlers else ""
    )
    steps_note = (
        f"commands issued: {', '.join(steps)}; steps taken by handlers: "
        f"{', '.join(by_handlers) or 'none'}"
    )
    peer_label = "eventsourcing: create aggregate + record payment"
    emit(
        Row(
            figure="1.1",
            name=f"service: create order ({cfg.items_per_order} items), orders/s",
            unit="orders/s",
            samples=create_rates,
            compare_label=peer_label,
            compare_samples=peer_rates,
            target=Target("ratio", ">=", 1.0, "ratio ≥ 1.0"),
            note=join(handled, runs.note()),
        ),
        Row(
            figure="1.2",
            name="service: create order, events/s",
            unit="events/s",
            samples=create_event_rates,
            compare_label="eventsourcing events/s",
            compare_samples=peer_event_rates,
        ),
        Row(
            figure="1.3",
            name="service: full lifecycle create → delivered, orders/s",
            unit="orders/s",
            samples=cycle_rates,
            compare_label=peer_label,
            compare_samples=peer_rates,
            note=join(
                steps_note, handled, f"orders not delivered at the end: {pending_left}", runs.note()
            ),
        ),
        Row(
            figure="1.4",
            name="service: full lifecycle, events/s",
            unit="events/s",
            samples=cycle_event_rates,
            compare_label="eventsourcing events/s",
            compare_samples=peer_event_rates,
        ),
        Row(
            figure="1.5",
            name="service: create order, orders/s (vs peer creating only)",
            unit="orders/s",
            samples=create_rates,
            compare_label="eventsourcing: create aggregate only",
            compare_samples=peer_create_rates,
            note="like for like: one command, one transaction each",
        ),
    )


if __name__ == "__main__":
    main()
