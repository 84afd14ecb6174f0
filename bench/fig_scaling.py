"""Figure 4: read latency as the database grows to 1k, 10k and 100k orders.

Orders (with items and the events of their state) are bulk-inserted with COPY (bench/seed.py),
then each read endpoint is timed in-process through Django's test client with token
authentication: p50 of ``OMS_BENCH_SCALING_REQUESTS`` requests per run, on orders picked at
random among the customer's delivered ones (five events each). The bench customer owns one
order in twenty, so their list is a real index range at every size; staff list all orders.

Read models fed by events (projections) do not see rows inserted behind their back. When
``manage.py rebuild_projections`` exists it runs after each seeding, if its measured replay rate
says it ends in the figure's time; otherwise the endpoints that read those models are checked
(the newest order must show up, with all its events) and left out at that size, with the reason.
"""

from __future__ import annotations

import random
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from bench.config import ROOT, BenchConfig
from bench.fixtures import fresh_start, management_commands, setup_django
from bench.results import Row, Target, emit, unavailable
from bench.seed import seed_orders
from bench.stats import median, percentile

CUSTOMERS = 20
LIST_OWN = "list (customer: own orders)"
LIST_ALL = "list (staff: all orders)"
ENDPOINTS = [LIST_OWN, LIST_ALL, "detail", "events", "history"]


def label(size: int) -> str:
    return f"{size // 1000}k" if size >= 1000 and size % 1000 == 0 else str(size)


def event_count() -> int:
    from apps.events.models import StoredEvent

    return StoredEvent.objects.count()


def rebuild_projections(timeout: float) -> float:
    """Run ``manage.py rebuild_projections``; its duration in seconds."""
    started = time.monotonic()
    completed = subprocess.run(
        [sys.executable, "manage.py", "rebuild_projections"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=max(10.0, timeout),
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"rebuild_projections failed: {completed.stderr[-500:]}")
    return time.monotonic() - started


def results_of(response: Any) -> list[Any]:
    data = response.json()
    return list(data["results"] if isinstance(data, dict) and "results" in data else data)


def invisible(endpoints: dict[str, Callable[[Any], Any]], newest: dict[str, Any]) -> dict[str, str]:
    """Endpoints that do not show the newest seeded order (a read model the seeder cannot fill
    would answer fast with old or no rows), each with what it showed instead."""
    found: dict[str, str] = {}
    for name, expected in ((LIST_OWN, newest["own"]), (LIST_ALL, newest["all"])):
        rows = results_of(endpoints[name](None))
        first = str(rows[0].get("id") or rows[0].get("order_id")) if rows else None
        if first != str(expected):
            found[name] = "its first row is not the newest seeded order"
    for name in ("events", "history"):
        count = len(results_of(endpoints[name](newest["delivered"])))
        if count < 5:
            found[name] = f"it shows {count} of the newest delivered order's 5 events"
    return found


def main() -> None:
    cfg = BenchConfig()
    setup_django()
    from django.contrib.auth import get_user_model
    from rest_framework.test import APIClient

    from apps.orders.models import Order
    from shared import clock

    users = fresh_start()
    user_model = get_user_model()
    others = user_model.objects.bulk_create(
        user_model(username=f"bench-seed-{n}") for n in range(CUSTOMERS - 1)
    )
    customer_ids = [users.customer.pk, *(user.pk for user in others)]
    customer = APIClient()
    customer.credentials(HTTP_AUTHORIZATION=f"Token {users.customer_token}")
    staff = APIClient()
    staff.credentials(HTTP_AUTHORIZATION=f"Token {users.staff_token}")
    endpoints: dict[str, Callable[[Any], Any]] = {
        LIST_OWN: lambda _: customer.get("/api/v1/orders/"),
        LIST_ALL: lambda _: staff.get("/api/v1/orders/"),
        "detail": lambda order_id: customer.get(f"/api/v1/orders/{order_id}/"),
        "events": lambda order_id: customer.get(f"/api/v1/orders/{order_id}/events/"),
        "history": lambda order_id: customer.get(f"/api/v1/orders/{order_id}/history/"),
    }
    has_rebuild = "rebuild_projections" in management_commands()
    sizes = sorted(cfg.scaling_sizes)
    epoch = clock.now() - timedelta(seconds=max(sizes) + 86_400)

    p50: dict[tuple[str, int], list[float]] = {}
    skipped: dict[tuple[str, int], str] = {}
    notes: list[str] = []
    replay_rates: list[float] = []
    seeded = 0
    seconds_per_order = 0.0003  # first guesses, replaced by what the first size took
    measuring = 0.0  # the endpoints' runs at the last size (the rebuild is planned on its own)
    for size in sizes:
        if seeded and (size - seeded) * seconds_per_order + measuring * 1.2 > cfg.time_left() - 5:
            notes.append(f"{label(size)} not measured: it would not end in the time budget")
            for name in ENDPOINTS:
                skipped[(name, size)] = "the figure's time budget ended first"
            break
        started = time.monotonic()
        for table, rows in seed_orders(seeded, size - seeded, customer_ids, epoch):
            print(f"  seeded {rows} rows into {table}", flush=True)
        seconds_per_order = (time.monotonic() - started) / (size - seeded)
        seeded = size
        print(f"  {size} orders in {time.monotonic() - started:.1f} s", flush=True)

        if has_rebuild:
            events = event_count()
            # The replay rate of the smaller sizes says whether this one ends in time.
            expected = events / replay_rates[-1] if replay_rates else 0.0
            if expected < cfg.time_left() - measuring * 1.2 - 10:
                seconds = rebuild_projections(cfg.time_left() - 10)
                replay_rates.append(events / seconds)
                print(f"  rebuild_projections: {events} events in {seconds:.1f} s", flush=True)
            else:
                notes.append(
                    f"{label(size)}: rebuild_projections not run: at "
                    f"{replay_rates[-1]:.0f} events/s its {events} events would take "
                    f"about {expected / 60:.0f} min, past the figure's time budget"
                )

        own = Order.objects.filter(customer_id=users.customer.pk)
        delivered = list(own.filter(state="DELIVERED").values_list("id", flat=True))
        newest = {
            "own": own.order_by("-created_at", "-id").values_list("id", flat=True).first(),
            "all": Order.objects.order_by("-created_at", "-id").values_list("id", flat=True)[0],
            "delivered": own.filter(state="DELIVERED")
            .order_by("-created_at")
            .values_list("id", flat=True)
            .first(),
        }
        hidden = invisible(endpoints, newest)
        for name, why in hidden.items():
            skipped[(name, size)] = f"the endpoint does not show the seeded rows ({why})"
        visible = [name for name in ENDPOINTS if name not in hidden]
        sample = random.Random(size).sample(delivered, min(50, len(delivered)))
        measuring_started = time.monotonic()
        # Every size gets the same number of runs, so the smallest and largest compare alike.
        for run in range(cfg.runs):
            for name in visible:
                timings = []
                for n in range(cfg.scaling_requests):
                    order_id = sample[n % len(sample)]
                    began = time.perf_counter()
                    response = endpoints[name](order_id)
                    timings.append((time.perf_counter() - began) * 1000)
                    if response.status_code != 200:
                        raise RuntimeError(f"{name}: HTTP {response.status_code}")
                p50.setdefault((name, size), []).append(percentile(timings, 0.5))
            print(
                f"  {label(size)} run {run + 1}/{cfg.runs}: "
                + ", ".join(f"{name} {p50[(name, size)][-1]:.1f} ms" for name in visible),
                flush=True,
            )
        measuring = time.monotonic() - measuring_started

    emit(*endpoint_rows(sizes, p50, skipped), replay_row(has_rebuild, replay_rates, notes))


def endpoint_rows(
    sizes: list[int], p50: dict[tuple[str, int], list[float]], skipped: dict[tuple[str, int], str]
) -> list[Row]:
    smallest, target_size = sizes[0], sizes[-1]
    rows = []
    for number, name in enumerate(ENDPOINTS, start=1):
        measured = [size for size in sizes if (name, size) in p50]
        target = Target("ratio", "<=", 1.5, f"{label(target_size)} / {label(smallest)} ≤ 1.5")
        if not measured:
            rows.append(
                Row(
                    figure=f"4.{number}",
                    name=f"scaling: p50 of {name}",
                    failed=skipped.get((name, smallest), "not measured"),
                    target=target,
                )
            )
            continue
        largest = measured[-1]
        middle = [f"{label(s)}: {median(p50[(name, s)]):.2f} ms" for s in measured[1:-1]]
        missing = [
            f"{label(s)} not measured: {skipped[(name, s)]}" for s in sizes if (name, s) in skipped
        ]
        row = Row(
            figure=f"4.{number}",
            name=f"scaling: p50 of {name} at {label(largest)} orders",
            unit="ms",
            samples=p50[(name, largest)],
            compare_label=f"at {label(smallest)} orders",
            compare_samples=p50[(name, smallest)] if largest != smallest else [],
            target=target,
            note="; ".join([*middle, *missing]),
        )
        if largest != target_size:
            row.target_note = f"not evaluated: {label(target_size)} was not measured"
        rows.append(row)
    return rows


def replay_row(has_rebuild: bool, rates: list[float], notes: list[str]) -> Row:
    name = "rebuild_projections: events replayed/s while seeding figure 4"
    if not has_rebuild:
        return unavailable("4.6", name, "`manage.py rebuild_projections` does not exist yet")
    return Row(
        figure="4.6",
        name=name,
        unit="events/s",
        samples=rates,
        note="; ".join(["one value per seeded size", *notes]),
    )


if __name__ == "__main__":
    main()
