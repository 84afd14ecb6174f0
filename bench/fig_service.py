"""Figure 1: the service level, in one process, against the ``eventsourcing`` peer.

Commands and reactions are measured apart, as they run apart in production (the commands in the
request, the reactions in the subscriptions' workers):

* create: ``OrderService.create_order`` (order row, items, event, projections, one transaction).
  Its reactions are left to the subscriptions, as in production, so it compares with the peer
  creating an order aggregate: the same work, one command and one transaction each;
* create + pay: the create, then the ``ConfirmPayment`` command (event ``OrderPaid``), against the
  peer creating an order aggregate and recording a payment event (see bench/peer.py);
* reactions: right after each create run, ``subscriptions.run_until_idle()`` in this process
  handles the backlog it left (``payments.request_payment`` on every ``OrderCreated``) with the
  real handlers: events handled per second;
* lifecycle, end to end: create → paid → processing → shipped → delivered, in batches of
  ``LIFECYCLE_BATCH`` orders, with ``run_until_idle()`` running the reactions between the steps.
  A warm-up order tells which steps the handlers take by themselves (shipping moves a paid order
  to PROCESSING); the batches issue the commands only for the others.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

from bench.budget import Runs, join
from bench.config import BenchConfig
from bench.fixtures import fresh_start, handler_names, setup_django
from bench.lifecycle import LIFECYCLE, commands_by_target, drive_to_delivered
from bench.results import Row, Target, emit

LIFECYCLE_BATCH = 25


def event_count() -> int:
    from apps.events.models import StoredEvent

    return StoredEvent.objects.count()


def timed(run: Callable[[], Any], seconds: float, max_orders: int) -> tuple[float, int, float]:
    """Orders per second, orders done and elapsed seconds of one bounded run; ``run`` returns
    how many orders it did when that is more than one."""
    done = 0
    started = time.perf_counter()
    deadline = started + seconds
    while done < max_orders and time.perf_counter() < deadline:
        count = run()
        done += count if isinstance(count, int) else 1
    elapsed = time.perf_counter() - started
    return done / elapsed, done, elapsed


def main() -> None:
    cfg = BenchConfig()
    setup_django()
    from apps.events.models import ParkedEvent
    from apps.events.subscriptions import run_until_idle
    from apps.orders.models import Order
    from apps.orders.services import OrderService
    from bench import peer
    from bench.raw_write import write_order
    from bench.workload import create_command, order_body

    users = fresh_start()
    service = OrderService()
    command = create_command(users.customer.pk, cfg.items_per_order)
    commands = commands_by_target(service)
    handlers = handler_names()
    print(f"  subscriptions: {', '.join(handlers) or 'none'}", flush=True)

    def create() -> Any:
        return service.create_order(command)

    raw_body = {**order_body(cfg.items_per_order), "customer_id": users.customer.pk}

    def create_in_raw_sql() -> None:
        write_order(raw_body)

    def create_and_pay() -> None:
        commands["PAID"](create().id)

    # A warm-up order tells which steps the handlers take: the batches command the rest.
    steps = drive_to_delivered(create().id, commands, react=run_until_idle)
    by_handlers = [step for step in LIFECYCLE if step not in steps]
    print(f"  lifecycle commands issued: {steps}; taken by handlers: {by_handlers}", flush=True)

    cycled: list[Any] = []

    def lifecycle() -> int:
        batch = [create().id for _ in range(LIFECYCLE_BATCH)]
        run_until_idle()
        for target in LIFECYCLE:
            if target in steps:
                for order_id in batch:
                    commands[target](order_id)
                run_until_idle()
        cycled.extend(batch)
        return len(batch)

    def react() -> tuple[int, float]:
        started = time.perf_counter()
        handled = run_until_idle()
        return handled, time.perf_counter() - started

    app = peer.open_peer(cfg.peer_database_url)
    try:
        # Warm-up: connections, caches, code paths.
        timed(create, 1.0, 30)
        timed(create_in_raw_sql, 1.0, 30)
        timed(create_and_pay, 1.0, 30)
        timed(lifecycle, 2.0, 2 * LIFECYCLE_BATCH)
        react()
        peer.measure(app, 1.0, 50, items=cfg.items_per_order, pay=True)
        peer.measure(app, 1.0, 50, items=cfg.items_per_order, pay=False)
        cycled.clear()

        create_rates: list[float] = []
        create_event_rates: list[float] = []
        pay_rates: list[float] = []
        reaction_rates: list[float] = []
        reaction_backlogs: list[int] = []
        reaction_seconds: list[float] = []
        cycle_rates: list[float] = []
        cycle_event_rates: list[float] = []
        peer_create_rates: list[float] = []
        floor_rates: list[float] = []
        peer_pay_rates: list[float] = []
        runs = Runs(cfg)
        for run in runs:
            events_before = event_count()
            rate, done, elapsed = timed(create, cfg.service_seconds, cfg.service_max_orders)
            create_rates.append(rate)
            create_event_rates.append((event_count() - events_before) / elapsed)
            # The reactions the creates left, on their own: the real handlers, this process.
            handled, seconds = react()
            if handled < done:
                raise RuntimeError(f"{done} orders created, but only {handled} events handled")
            reaction_rates.append(handled / seconds)
            reaction_backlogs.append(handled)
            reaction_seconds.append(seconds)

            rate_only, _ = peer.measure(
                app,
                cfg.service_seconds,
                cfg.service_max_orders,
                items=cfg.items_per_order,
                pay=False,
            )
            peer_create_rates.append(rate_only)
            # The same rows in raw SQL (their reactions are drained, unmeasured, below).
            rate, _, _ = timed(create_in_raw_sql, cfg.service_seconds, cfg.service_max_orders)
            floor_rates.append(rate)

            rate, _, _ = timed(create_and_pay, cfg.service_seconds, cfg.service_max_orders)
            pay_rates.append(rate)
            react()  # their reactions, unmeasured: the next runs start with nothing behind
            rate, _ = peer.measure(
                app,
                cfg.service_seconds,
                cfg.service_max_orders,
                items=cfg.items_per_order,
                pay=True,
            )
            peer_pay_rates.append(rate)

            events_before = event_count()
            rate, _, elapsed = timed(lifecycle, cfg.service_seconds, cfg.service_max_orders)
            cycle_rates.append(rate)
            cycle_event_rates.append((event_count() - events_before) / elapsed)
            print(
                f"  run {run + 1}/{cfg.runs}: create {create_rates[-1]:.0f}/s "
                f"(peer {peer_create_rates[-1]:.0f}/s, raw-SQL floor {floor_rates[-1]:.0f}/s), "
                f"create+pay {pay_rates[-1]:.0f}/s "
                f"(peer {peer_pay_rates[-1]:.0f}/s), reactions {reaction_rates[-1]:.0f} events/s "
                f"({reaction_backlogs[-1]} in {reaction_seconds[-1]:.1f} s), "
                f"lifecycle {cycle_rates[-1]:.0f}/s",
                flush=True,
            )
        not_delivered = Order.objects.filter(id__in=cycled).exclude(state="DELIVERED").count()
        parked = ParkedEvent.objects.count()
    finally:
        app.close()

    subscribed = f"subscriptions: {len(handlers)}" + (
        f" ({', '.join(handlers)})" if handlers else ""
    )
    left = "reactions left to the subscriptions (measured apart: 1.4)"
    floor = statistics.median(floor_rates)
    peer_create = statistics.median(peer_create_rates)
    unlike = (
        "the peer writes one row in one table per create; a create here writes 7 rows in 5 "
        "tables (the order, 3 items, the event, the summary and the first state change, the "
        f"read models kept in the transaction); those rows alone, in raw SQL (1.7), make "
        f"{floor:.0f} orders/s, {floor / peer_create:.2f} x the peer"
    )
    steps_note = (
        f"batches of {LIFECYCLE_BATCH} orders; commands issued: {', '.join(steps)}; steps taken "
        f"by handlers: {', '.join(by_handlers) or 'none'}; run_until_idle() after the creates and "
        "after each commanded step"
    )
    emit(
        Row(
            figure="1.1",
            name=f"service: create order ({cfg.items_per_order} items), orders/s",
            unit="orders/s",
            samples=create_rates,
            compare_label="eventsourcing: create aggregate",
            compare_samples=peer_create_rates,
            target=Target("ratio", ">=", 1.0, "ratio ≥ 1.0"),
            note=join(left, "one command, one transaction each", unlike, runs.note()),
        ),
        Row(
            figure="1.2",
            name="service: create order, events/s",
            unit="events/s",
            samples=create_event_rates,
            compare_label="eventsourcing events/s",
            compare_samples=peer_create_rates,  # one creation event per order
        ),
        Row(
            figure="1.3",
            name="service: create + pay (two commands), orders/s",
            unit="orders/s",
            samples=pay_rates,
            compare_label="eventsourcing: create aggregate + record payment",
            compare_samples=peer_pay_rates,
            note=join(left, "pay: the ConfirmPayment command (OrderPaid)"),
        ),
        Row(
            figure="1.4",
            name="service: reactions, deliveries/s (run_until_idle, handlers and fan-out)",
            unit="deliveries/s",
            samples=reaction_rates,
            note=join(
                "the backlog each create run left (OrderCreated → payments.request_payment, and "
                "every event → outbound.fan_out; a delivery is an event for one subscription), "
                "drained in this process right after it",
                f"deliveries per run: {', '.join(str(n) for n in reaction_backlogs)}; seconds to "
                f"drain: {', '.join(f'{s:.1f}' for s in reaction_seconds)}",
                subscribed,
            ),
        ),
        Row(
            figure="1.5",
            name="service: full lifecycle create → delivered, end to end, orders/s",
            unit="orders/s",
            samples=cycle_rates,
            note=join(
                steps_note,
                f"orders not delivered at the end: {not_delivered}; parked events: {parked}",
                runs.note(),
            ),
        ),
        Row(
            figure="1.6",
            name="service: full lifecycle, events/s",
            unit="events/s",
            samples=cycle_event_rates,
        ),
        Row(
            figure="1.7",
            name="service: create order against the raw-SQL floor of the same rows, orders/s",
            unit="orders/s",
            samples=create_rates,
            compare_label="raw SQL: the same rows, one transaction (bench/raw_write.py)",
            compare_samples=floor_rates,
            note="like for like: the same rows and transaction; the difference is the ORM, "
            "validation, events and projections as code",
        ),
    )


if __name__ == "__main__":
    main()
