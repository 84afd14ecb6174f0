"""Figure 5: the subscriptions run by Celery workers, with the order flow's real handlers.

Deliveries/s (an event handled by one subscription): while no worker runs, a backlog is
prepared: ``OMS_BENCH_DELIVERY_EVENTS`` / 2 new orders (their ``OrderCreated`` waits for
``payments.request_payment``) and as many paid orders (their ``OrderPaid`` waits for
``shipping.create_shipment``; they were created, had their payment requested and were paid
beforehand, unmeasured); every event also waits for ``outbound.fan_out``, which reads them all.
A Celery worker with a prefork pool of 1, then 2 processes, is started and left idle until
ready; then the figure dispatches
(``events.dispatch_subscriptions``, what beat sends, from this process on beat's interval) and
times the drain from the first dispatch until ``lag.status()`` shows nothing behind. The
worker's start-up is not counted. The CPU the worker processes, PostgreSQL and the whole machine
used during each drain is measured, so a missed target states where the cores went.

End to end: a worker (one process per core) and Celery beat run as in production. This process
creates ``OMS_BENCH_E2E_ORDERS`` orders through the service and answers as the payment provider
would (submits each requested payment and records its success at once). An order is fully
processed when the reactions are done: its payment requested, and after its payment its shipment
created and the order PROCESSING. The rate runs from the first create to the last order
processed; the backlog when the last order was created and the time it took to drain are
reported, and the backlog at the end.

The simulator stays off (production settings), so only the product's subscriptions run.
"""

from __future__ import annotations

import os
import time
from typing import Any

from apps.payments.commands import RecordPaymentResult, SubmitPayment
from bench.backlog import backlog, free_leases, wait_drained
from bench.budget import Runs, join
from bench.config import BenchConfig
from bench.fixtures import fresh_start, handler_names, purge_queue, setup_django
from bench.lifecycle import commands_by_target
from bench.procs import CpuMeter, stop_on_sigterm
from bench.results import Row, Target, emit
from bench.servers import celery_beat, celery_worker, wait_celery
from bench.stats import median
from bench.workload import create_command

ORDER_FLOW = ("payments.request_payment", "shipping.create_shipment")
POLL_SECONDS = 0.1


def segments() -> int:
    from apps.events.subscriptions import segments as count

    return count()


def dispatch_interval() -> float:
    from django.conf import settings

    return float(settings.OMS_SUBSCRIPTION_DISPATCH_SECONDS)


def prepare_backlog(customer_id: int, items: int, count: int) -> int:
    """``count`` events for the order flow's subscriptions, with no worker running: half new
    orders (OrderCreated), half paid ones (OrderPaid). Returns how many deliveries (an event for
    one subscription) are behind."""
    from apps.events.registry import registry
    from apps.events.subscriptions import run_until_idle
    from apps.orders.services import OrderService

    service = OrderService()
    pay = commands_by_target(service)["PAID"]
    command = create_command(customer_id, items)
    paid = [service.create_order(command).id for _ in range(count - count // 2)]
    run_until_idle()  # their payment requests, as a worker would have done before they were paid
    for order_id in paid:
        pay(order_id)
    for _ in range(count // 2):
        service.create_order(command)
    # Each event is behind once for every subscription that reads it (the order flow's handler,
    # and the outbound webhooks' fan-out, which reads every event).
    expected = (count - count // 2) * len(registry.handler_names_for("OrderPaid")) + (
        count // 2
    ) * len(registry.handler_names_for("OrderCreated"))
    state = backlog()
    if state.behind != expected:
        raise RuntimeError(
            f"prepared {count} events, {expected} deliveries for the subscriptions; "
            f"{state.behind} behind"
        )
    return state.behind


def drain(cfg: BenchConfig, worker: Any, events: int) -> tuple[float, dict[str, float]]:
    """Dispatch as beat would and time the drain of the backlog; (seconds, CPU used)."""
    meter = CpuMeter(worker.pid)
    # Even 20 events/s would finish in time, unless the figure's deadline comes first.
    allowed = max(10.0, min(30 + events / 20, cfg.time_left() - 5))
    meter.start()
    seconds, left = wait_drained(allowed, poll=POLL_SECONDS, dispatch_every=dispatch_interval())
    cpu = meter.stop()
    if seconds is None:
        raise RuntimeError(f"backlog not drained after {allowed:.0f} s: {left.describe()}")
    if left.dead:
        raise RuntimeError(f"the drain left dead events: {left.describe()}")
    return seconds, cpu


def reset_queue(cfg: BenchConfig) -> None:
    """No task left over from the last measurement, and no lease it would have held."""
    purge_queue(cfg.queue)
    free_leases()


def cpu_note(cpus: list[dict[str, float]], cores: int) -> str:
    if not cpus:
        return ""
    busy = median([c["machine_busy"] for c in cpus]) * 100
    tree = median([c["tree_cores"] for c in cpus])
    postgres = median([c["postgres_cores"] for c in cpus])
    polling = median([c["self_cores"] for c in cpus])
    other = max(0.0, busy / 100 * cores - tree - postgres - polling)
    return (
        f"during the drains the {cores} cores were {busy:.0f}% busy: the worker's processes used "
        f"{tree:.2f} cores, PostgreSQL {postgres:.2f}, the bench's dispatching and polling "
        f"{polling:.2f}, everything else (Redis, other work on the machine) {other:.2f}"
    )


def answer_payments(created: list[Any], answered: set[Any]) -> None:
    """The payment provider, answering at once: submit every payment of ``created`` that the
    subscription has requested, and record its success (which pays the order)."""
    from apps.orders.commands import Actor
    from apps.payments.models import Payment
    from apps.payments.services import PaymentService

    payments, actor = PaymentService(), Actor.system()
    requested = Payment.objects.filter(order_id__in=created, status="requested")
    for order_id in requested.values_list("order_id", flat=True):
        if order_id in answered:
            continue
        payment = payments.submit_payment(SubmitPayment(order_id=order_id, actor=actor))
        payments.record_result(
            RecordPaymentResult(
                provider_reference=payment.provider_reference, succeeded=True, actor=actor
            )
        )
        answered.add(order_id)


def end_to_end(cfg: BenchConfig, customer_id: int) -> list[Row]:
    """Orders created here, reactions by a worker and beat as in production, the provider's
    answers given at once by this process."""
    from apps.orders.models import Order
    from apps.orders.services import OrderService

    name = "end to end: orders fully processed per second"
    if cfg.time_left() < 40:
        return [Row(figure="5.5", name=name, failed="no time left in the figure's budget")]
    orders = OrderService()
    command = create_command(customer_id, cfg.items_per_order)
    count = cfg.e2e_orders
    rates: list[float] = []
    behind_at_end: list[float] = []
    drains: list[float] = []
    lags: list[float] = []
    notes: list[str] = []
    reset_queue(cfg)
    env = dict(os.environ)
    worker = celery_worker(cfg, "celery-e2e", cfg.cores, env)
    with worker, celery_beat(env):
        wait_celery(worker)
        runs = Runs(cfg, reserve=5.0)
        for run in runs:
            wait_drained(max(5.0, min(60.0, cfg.time_left() - 20)))
            created: list[Any] = []
            answered: set[Any] = set()
            started = time.monotonic()

            for number in range(count):
                created.append(orders.create_order(command).id)
                if number % 20 == 19:
                    answer_payments(created, answered)
            at_last_create = backlog()
            created_at = time.monotonic()
            deadline = created_at + max(10.0, min(120.0, cfg.time_left() - 10))
            done = 0
            while time.monotonic() < deadline:
                answer_payments(created, answered)
                done = Order.objects.filter(id__in=created, state="PROCESSING").count()
                if done == count and backlog().behind == 0:
                    break
                time.sleep(POLL_SECONDS * 2)
            finished = time.monotonic()
            final = backlog()
            if done < count or final.behind:
                raise RuntimeError(
                    f"end to end: {count - done} of {count} orders not processed after "
                    f"{finished - created_at:.0f} s; {final.describe()}"
                )
            rates.append(count / (finished - started))
            behind_at_end.append(at_last_create.behind)
            drains.append(finished - created_at)
            lags.append(at_last_create.oldest_seconds)
            notes.append(f"run {run + 1}: at the end {final.describe()}")
            print(
                f"  end to end run {run + 1}/{cfg.runs}: {rates[-1]:.1f} orders/s; "
                f"{at_last_create.describe()} when the last order was created, processed "
                f"{drains[-1]:.1f} s later",
                flush=True,
            )
    reset_queue(cfg)
    setup = (
        f"{count} orders per run created in this process, which also answers as the payment "
        f"provider at once; a Celery worker ({cfg.cores} processes) and beat (dispatch every "
        f"{dispatch_interval():g} s) run the reactions"
    )
    return [
        Row(
            figure="5.5",
            name=name,
            unit="orders/s",
            samples=rates,
            note=join(
                setup,
                "fully processed: payment requested, paid, shipment created, order PROCESSING",
                runs.note(),
            ),
        ),
        Row(
            figure="5.6",
            name="end to end: events behind when the last order was created",
            unit="events",
            samples=behind_at_end,
            note=join(
                f"age of the oldest event behind then: {median(lags):.1f} s (median)",
                "; ".join(notes),
            ),
        ),
        Row(
            figure="5.7",
            name="end to end: last order created → every order processed",
            unit="s",
            samples=drains,
        ),
    ]


def main() -> None:
    stop_on_sigterm()
    cfg = BenchConfig()
    setup_django()
    users = fresh_start()
    reset_queue(cfg)
    handlers = handler_names()
    missing = [name for name in ORDER_FLOW if name not in handlers]
    if missing:
        raise RuntimeError(f"the order flow's subscriptions are not registered: {missing}")
    print(f"  subscriptions: {', '.join(handlers)}", flush=True)
    events = max(2, cfg.delivery_events)
    rates: dict[int, list[float]] = {1: [], 2: []}
    times: dict[int, list[float]] = {1: [], 2: []}
    cpus: dict[int, list[dict[str, float]]] = {1: [], 2: []}
    runs = Runs(cfg, reserve=60.0)
    try:
        for run in runs:
            for concurrency in (1, 2):
                reset_queue(cfg)
                behind = prepare_backlog(users.customer.pk, cfg.items_per_order, events)
                worker = celery_worker(cfg, f"celery-drain{concurrency}", concurrency)
                with worker:
                    wait_celery(worker)
                    seconds, cpu = drain(cfg, worker, behind)
                reset_queue(cfg)
                rates[concurrency].append(behind / seconds)
                times[concurrency].append(seconds)
                cpus[concurrency].append(cpu)
                print(
                    f"  run {run + 1}/{cfg.runs}: {concurrency} worker process(es): "
                    f"{behind} deliveries in {seconds:.2f} s, "
                    f"{rates[concurrency][-1]:.0f} deliveries/s; "
                    f"machine {cpu['machine_busy'] * 100:.0f}% busy, worker "
                    f"{cpu['tree_cores']:.2f} cores, PostgreSQL {cpu['postgres_cores']:.2f}",
                    flush=True,
                )
    finally:
        reset_queue(cfg)
    setup = (
        f"{events} events per run ({events - events // 2} OrderPaid for shipping.create_shipment, "
        f"{events // 2} OrderCreated for payments.request_payment), "
        f"{segments()} segments per subscription; drain timed from the first "
        f"dispatch to nothing behind in lag.status(), dispatch every "
        f"{dispatch_interval():g} s as beat does"
    )
    reason = cpu_note(cpus[2], cfg.cores)
    emit(
        Row(
            figure="5.1",
            name="Celery: deliveries/s, one worker process (real handlers, the fan-out included)",
            unit="deliveries/s",
            samples=rates[1],
            note=join(setup, cpu_note(cpus[1], cfg.cores), runs.note()),
        ),
        Row(
            figure="5.2",
            name="Celery: deliveries/s, two worker processes",
            unit="deliveries/s",
            samples=rates[2],
            compare_label="one worker process",
            compare_samples=rates[1],
            target=Target(
                "ratio",
                ">=",
                1.7,
                "≥ 1.7 x one process, or a stated reason",
                reason_if_missed=f"measured: {reason}",
            ),
            note=reason,
        ),
        Row(
            figure="5.3",
            name="Celery: time to drain the backlog, one worker process",
            unit="s",
            samples=times[1],
        ),
        Row(
            figure="5.4",
            name="Celery: time to drain the backlog, two worker processes",
            unit="s",
            samples=times[2],
            compare_label="one worker process",
            compare_samples=times[1],
        ),
    )
    emit(*end_to_end(cfg, users.customer.pk))


if __name__ == "__main__":
    main()
