"""Figure 5: event delivery through the Celery backend, and the lifecycle with the simulator.

Deliveries/s: ``OMS_BENCH_DELIVERY_EVENTS`` bench events are appended (each has one delivery, to
the bench's no-op handler) while no worker listens, so their tasks wait in the bench's Redis
queue; then a worker with a prefork pool of 1 or 2 processes is started and drains them. The rate
is taken from the deliveries' own ``succeeded_at`` stamps (first to last), so the worker's
start-up is not counted. One worker process per core is the most this machine can run in
parallel, and PostgreSQL and Redis share those cores.

End to end: when ``manage.py simulate`` exists, it drives orders through the HTTP API of a
gunicorn started here, with a Celery worker and the simulator answering, and its orders/s is read
from its summary. Until then the row says it is not available.
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import subprocess
import sys
import time
import uuid

from bench.budget import Runs, join
from bench.config import ROOT, BenchConfig
from bench.fixtures import fresh_start, management_commands, purge_queue, setup_django
from bench.procs import free_port, stop_on_sigterm
from bench.results import Row, Target, emit, unavailable
from bench.servers import celery_beat, celery_worker, gunicorn, wait_celery, wait_web

BATCH = 250


def enqueue(count: int) -> list[int]:
    """Append ``count`` bench events (one delivery each); their tasks are sent on commit."""
    from django.db import transaction

    from apps.events import store
    from apps.events.models import Delivery
    from bench.handlers import BENCH_HANDLER, BenchPing

    first = Delivery.objects.order_by("-id").values_list("id", flat=True).first() or 0
    for start in range(0, count, BATCH):
        with transaction.atomic():
            for number in range(start, min(count, start + BATCH)):
                store.append(
                    [BenchPing(aggregate_id=uuid.uuid4(), number=number)], expected_version=0
                )
    ids = list(
        Delivery.objects.filter(id__gt=first, handler=BENCH_HANDLER).values_list("id", flat=True)
    )
    if len(ids) != count:
        raise RuntimeError(f"expected {count} bench deliveries, found {len(ids)}")
    return ids


def drain_rate(cfg: BenchConfig, concurrency: int, ids: list[int]) -> float:
    from apps.events.models import Delivery

    rows = Delivery.objects.filter(id__in=ids)
    # Even 20 deliveries/s would finish in time, unless the figure's deadline comes first.
    deadline_seconds = max(10.0, min(30 + len(ids) / 20, cfg.time_left() - 5))
    with celery_worker(cfg, f"celery-drain{concurrency}", concurrency) as worker:
        wait_celery(worker)
        deadline = time.monotonic() + deadline_seconds
        while time.monotonic() < deadline:
            if not rows.exclude(status="succeeded").exists():
                break
            time.sleep(0.25)
        else:
            left = rows.exclude(status="succeeded").count()
            raise RuntimeError(
                f"{left} of {len(ids)} deliveries not done after {deadline_seconds:.0f}s"
            )
    stamps = sorted(s for s in rows.values_list("succeeded_at", flat=True) if s is not None)
    span = (stamps[-1] - stamps[0]).total_seconds()
    return (len(stamps) - 1) / span if span > 0 else 0.0


ORDERS_PER_SECOND = re.compile(
    r"([\d.]+)\s*orders?\s*(?:/\s*s\b|per\s+second)|orders?\s*(?:/\s*s\b|per\s+second)\D*([\d.]+)",
    re.IGNORECASE,
)


def read_summary(stdout: str, as_json: bool) -> tuple[float | None, str]:
    """The orders/s of a ``simulate`` summary, and its final states when it says them."""
    if as_json:
        try:
            summary = json.loads(stdout[stdout.index("{") :])
            states = summary.get("states") or {}
            outcome = ", ".join(f"{count} {state}" for state, count in sorted(states.items()))
            return float(summary["orders_per_second"]), outcome
        except (ValueError, KeyError, TypeError):
            pass
    match = ORDERS_PER_SECOND.search(stdout)
    return (float(match.group(1) or match.group(2)), "") if match else (None, "")


def simulator_env(base_url: str) -> dict[str, str]:
    """The simulator switched on (production settings leave it off), calling our own server back
    with signed webhooks after short provider delays."""
    env = dict(os.environ)
    env.update(
        OMS_SIMULATOR_ENABLED="1",
        OMS_SIMULATOR_BASE_URL=base_url,
        OMS_SIMULATOR_MIN_DELAY_SECONDS=os.environ.get("OMS_SIMULATOR_MIN_DELAY_SECONDS", "0.05"),
        OMS_SIMULATOR_MAX_DELAY_SECONDS=os.environ.get("OMS_SIMULATOR_MAX_DELAY_SECONDS", "0.2"),
        OMS_SIMULATOR_INTERVAL_SECONDS=os.environ.get("OMS_SIMULATOR_INTERVAL_SECONDS", "0.2"),
    )
    for provider in ("PAYMENT", "SHIPPING"):
        secret = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
        env.setdefault(f"OMS_WEBHOOK_SECRETS_{provider}", secret)
    return env


def simulate(cfg: BenchConfig) -> Row:
    name = "end to end: lifecycle with the simulator answering, orders/s"
    if "simulate" not in management_commands():
        return unavailable(
            "5.3", name, "`manage.py simulate` does not exist yet (the webhooks issue adds it)"
        )
    if cfg.time_left() < 60:
        return Row(figure="5.3", name=name, failed="no time left in the figure's budget")
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = simulator_env(base_url)
    help_text = subprocess.run(
        [sys.executable, "manage.py", "simulate", "--help"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    ).stdout
    argv = [sys.executable, "manage.py", "simulate", "--orders", str(cfg.simulate_orders)]
    argv += ["--concurrency", str(2 * cfg.cores), "--seed", "1"]
    for option in ("--base-url", "--url", "--server"):
        if option in help_text:
            argv += [option, base_url]
            break
    as_json = "--json" in help_text
    if as_json:
        argv.append("--json")
    rates: list[float] = []
    worker = celery_worker(cfg, "celery-simulate", cfg.cores, env)
    web, _ = gunicorn(cfg, port, env)
    with worker, web, celery_beat(env):
        wait_web(web, port)
        wait_celery(worker)
        runs = Runs(cfg)
        outcomes: list[str] = []
        for run in runs:
            wait = max(20.0, min(120.0, cfg.time_left() - 20))
            timeout = ["--timeout", f"{wait:.0f}"] if "--timeout" in help_text else []
            completed = subprocess.run(
                [*argv, *timeout],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                timeout=max(30.0, cfg.time_left() - 10),
                check=False,
            )
            output = completed.stdout + completed.stderr
            rate, outcome = read_summary(completed.stdout, as_json)
            if completed.returncode != 0 or rate is None:
                tail = " ".join(output.strip().splitlines()[-3:])[-300:]
                return Row(figure="5.3", name=name, failed=f"simulate: {tail}")
            rates.append(rate)
            outcomes.append(outcome)
            print(f"  simulate run {run + 1}/{cfg.runs}: {rates[-1]:.1f} orders/s", flush=True)
    return Row(
        figure="5.3",
        name=name,
        unit="orders/s",
        samples=rates,
        note=join(
            f"`manage.py simulate --orders {cfg.simulate_orders}` against gunicorn, a Celery "
            f"worker and beat; simulated provider delays {env['OMS_SIMULATOR_MIN_DELAY_SECONDS']}"
            f"-{env['OMS_SIMULATOR_MAX_DELAY_SECONDS']} s",
            f"final states per run: {' | '.join(outcomes)}" if any(outcomes) else "",
            runs.note(),
        ),
    )


def main() -> None:
    stop_on_sigterm()
    cfg = BenchConfig()
    setup_django()
    fresh_start()
    purge_queue(cfg.queue)
    rates: dict[int, list[float]] = {1: [], 2: []}
    # The end-to-end figure needs time after the drains only when the simulator exists.
    runs = Runs(cfg, reserve=100.0 if "simulate" in management_commands() else 0.0)
    try:
        for run in runs:
            for concurrency in (1, 2):
                ids = enqueue(cfg.delivery_events)
                rates[concurrency].append(drain_rate(cfg, concurrency, ids))
                print(
                    f"  run {run + 1}/{cfg.runs}: {concurrency} worker process(es): "
                    f"{rates[concurrency][-1]:.0f} deliveries/s",
                    flush=True,
                )
    finally:
        purge_queue(cfg.queue)
    reason = (
        f"this machine has {cfg.cores} cores, shared by the worker processes, PostgreSQL and Redis"
    )
    emit(
        Row(
            figure="5.1",
            name="Celery deliveries/s, one worker process",
            unit="deliveries/s",
            samples=rates[1],
            note=join(
                f"{cfg.delivery_events} deliveries per run to a no-op handler, local Redis",
                runs.note(),
            ),
        ),
        Row(
            figure="5.2",
            name="Celery deliveries/s, two worker processes",
            unit="deliveries/s",
            samples=rates[2],
            compare_label="one worker process",
            compare_samples=rates[1],
            target=Target(
                "ratio",
                ">=",
                1.7,
                "≥ 1.7 x one process, or a stated reason",
                reason_if_missed=reason,
            ),
            note=reason,
        ),
    )
    emit(simulate(cfg))


if __name__ == "__main__":
    main()
