"""One drill: services, processes, load, faults, quiescence, checks, report."""

from __future__ import annotations

import base64
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

from drill import faults, topology
from drill.procs import ROOT, Managed, free_port
from drill.report import (
    DrillResult,
    Row,
    as_text,
    http_statuses,
    server_errors_row,
    write_section,
)
from drill.services import (
    LOAD_APP,
    Broker,
    DrillError,
    database_name,
    recreate_database,
    with_application_name,
)
from drill.topology import Context

DEFAULT_DATABASE_URL = "postgres://127.0.0.1:5432/oms_drill"


@dataclass(frozen=True)
class Options:
    mode: str  # "celery" or "embedded"
    orders: int
    seed: int
    rounds: int  # how many times each fault is injected
    concurrency: int
    database_url: str
    report: Path | None
    sabotage: bool
    inject: bool
    quiescence_seconds: float


def _whsec() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


# Faster retries than the defaults, so that a drill settles in minutes (documented settings; the
# report lists them). The subscriptions' dispatch, lease and batch keep their production values.
DRILL_SETTINGS = {
    "OMS_DELIVERY_RETRY_BASE_SECONDS": "1",
    "OMS_DELIVERY_RETRY_CAP_SECONDS": "8",
    "OMS_SIMULATOR_DUPLICATE_RATE": "0.1",
    "OMS_SIMULATOR_REORDER_RATE": "0.1",
}


def service_env(
    opts: Options, ctx: Context, *, database_url: str, broker_url: str
) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("OMS_", "DATABASE_", "CELERY_", "REDIS_URL", "CACHE_URL"))
        and key not in {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS"}
    }
    env.update(DRILL_SETTINGS)
    env.update(
        {
            "DATABASE_URL": database_url,
            "OMS_VAR_DIR": str(ctx.run_dir),
            "OMS_SIMULATOR_ENABLED": "1",
            "OMS_SIMULATOR_BASE_URL": ctx.base_url,
            "OMS_SIMULATOR_SEED": f"drill-{opts.seed}",
            "OMS_EXTRA_APPS": "drill.faultyapp",
            "OMS_DRILL_FAULT_FLAG": str(ctx.run_dir / "handler-fails.flag"),
            "PYTHONUNBUFFERED": "1",
        }
    )
    if opts.sabotage:
        env["OMS_DRILL_SABOTAGE"] = "1"
    if opts.mode == "celery":
        # Production: DEBUG off, its own secrets, Celery workers on a broker of the drill's own.
        env.update(
            {
                "DEBUG": "0",
                "SECRET_KEY": secrets.token_urlsafe(40),
                "ALLOWED_HOSTS": "127.0.0.1,localhost",
                "SECURE_SSL_REDIRECT": "0",
                # The simulator plays the provider and the carrier: their simulated clients,
                # declared, as production requires of a demo.
                "OMS_ALLOW_SIMULATED_PROVIDERS": "1",
                "OMS_WEBHOOK_SECRETS_PAYMENT": _whsec(),
                "OMS_WEBHOOK_SECRETS_SHIPPING": _whsec(),
                "CELERY_BROKER_URL": broker_url,
                "OMS_CELERY_QUEUE": ctx.queue,
            }
        )
    return env


def manage(
    env: dict[str, str], *args: str, log: Path, timeout: float
) -> subprocess.CompletedProcess[str]:
    with log.open("a") as out:
        return subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), *args],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=out,
            text=True,
            timeout=timeout,
            check=False,
        )


def run(opts: Options) -> DrillResult:
    started = time.monotonic()
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    run_dir = ROOT / "var" / "drill" / f"{opts.mode}-{stamp}-{os.getpid()}"
    run_dir.mkdir(parents=True, exist_ok=True)
    ctx = Context(port=free_port(), run_dir=run_dir, queue=f"oms-drill-{os.getpid()}")
    print(
        f"drill {opts.mode}: {opts.orders} orders, seed {opts.seed}; logs in {run_dir}", flush=True
    )

    broker: Broker | None = None
    if opts.mode == "celery":
        database_name(opts.database_url)  # refuses a name that is not the drill's
        recreate_database(opts.database_url)
        database_url = opts.database_url
        broker = Broker(run_dir)
        broker.start()
        broker_url = broker.url
    else:
        sqlite_dir = Path(tempfile.mkdtemp(prefix="oms-drill-"))
        database_url = f"sqlite:///{sqlite_dir / 'oms.sqlite3'}"
        broker_url = ""
    env = service_env(opts, ctx, database_url=database_url, broker_url=broker_url)
    load_env = {**env, "DATABASE_URL": with_application_name(database_url, LOAD_APP)}
    if opts.mode == "embedded":
        load_env["DATABASE_URL"] = database_url
    control_log = run_dir / "control.log"
    procs: dict[str, Managed] = {}
    load: subprocess.Popen[str] | None = None
    result = DrillResult(
        mode=opts.mode,
        orders=opts.orders,
        seed=opts.seed,
        settings={**DRILL_SETTINGS, "simulate --concurrency": str(opts.concurrency)},
    )
    try:
        migrated = manage(env, "migrate", "--noinput", log=control_log, timeout=300)
        if migrated.returncode != 0:
            raise DrillError(f"migrate failed; see {control_log}")
        procs = topology.processes(opts.mode, ctx, env)
        for process in procs.values():
            process.start()
        for process in procs.values():
            topology.wait_ready(opts.mode, process, ctx)

        injector = faults.Injector(
            mode=opts.mode,
            ctx=ctx,
            procs=procs,
            broker=broker,
            database_url=database_url,
            flag=Path(env["OMS_DRILL_FAULT_FLAG"]),
            orders=opts.orders,
            seed=opts.seed,
        )
        schedule = faults.plan(opts.mode, opts.seed, opts.rounds) if opts.inject else []
        load_started = time.monotonic()
        load = subprocess.Popen(
            [
                sys.executable,
                str(ROOT / "manage.py"),
                "simulate",
                "--orders",
                str(opts.orders),
                "--concurrency",
                str(opts.concurrency),
                "--seed",
                str(opts.seed),
                "--base-url",
                ctx.base_url,
                "--timeout",
                str(max(300.0, opts.orders * 1.5)),
                "--no-sender",
            ],
            cwd=ROOT,
            env=load_env,
            stdout=subprocess.PIPE,
            stderr=(run_dir / "load.log").open("a"),
            text=True,
        )
        injector.start(schedule, load_started)
        load_output, _ = load.communicate()
        injector.finish()
        result.faults = injector.records
        result.load = load_output.strip().splitlines()
        print("\n".join(result.load), flush=True)
        # The processes may have died of a fault the drill did not plan: that is a finding.
        dead = [name for name, process in procs.items() if not process.alive()]

        checked = manage(
            env,
            "drill_check",
            "--expected-orders",
            str(opts.orders),
            "--wait",
            str(opts.quiescence_seconds),
            log=control_log,
            timeout=opts.quiescence_seconds + 600,
        )
        rows = [
            Row(
                "load completed (simulate)",
                _load_found(load.returncode, result.load),
                load.returncode == 0,
            )
        ]
        if opts.inject:
            injected = sum(1 for r in result.faults if r.ok)
            rows.append(
                Row(
                    "faults injected",
                    f"{injected} of {len(result.faults)}",
                    injected == len(result.faults) and bool(result.faults),
                )
            )
        rows.append(Row("service processes alive at the end", ", ".join(dead) or "all", not dead))
        if checked.returncode == 0:
            rows += [Row(c["name"], c["found"], c["ok"]) for c in json.loads(checked.stdout)]
        else:
            rows.append(Row("checks ran", f"drill_check failed; see {control_log}", False))
        # The web server's log holds the service's request lines in both modes (gunicorn's own
        # access log is off in JSON mode); a text-mode gunicorn also writes access.log.
        statuses = http_statuses(run_dir / "web.log") or http_statuses(run_dir / "access.log")
        rows.append(server_errors_row(statuses))
        result.rows = rows
    finally:
        if load is not None and load.poll() is None:  # interrupted: the load goes too
            load.kill()
            load.wait()
        for process in procs.values():
            process.stop()
        if broker is not None:
            broker.stop()
    result.seconds = time.monotonic() - started
    return result


def _load_found(code: int, lines: list[str]) -> str:
    wall = next(
        (line.split(":", 1)[1].strip() for line in lines if line.startswith("wall time")), "?"
    )
    return f"exit {code}, wall time {wall}"


def main(opts: Options) -> int:
    def stop(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(f"stopped by signal {signum}")

    signal.signal(signal.SIGTERM, stop)
    try:
        result = run(opts)
    except DrillError as exc:
        print(f"drill: {exc}", file=sys.stderr)
        return 2
    print(as_text(result), flush=True)
    if opts.report is not None:
        write_section(opts.report, result)
        print(f"drill: wrote the {opts.mode} section of {opts.report}", flush=True)
    return 0 if result.passed else 1
