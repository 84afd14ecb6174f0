"""``make run-prod``: the production processes of one machine, started and stopped together.

1. Refuses to start without PostgreSQL (``DATABASE_URL``) and a ``SECRET_KEY``; ``DEBUG`` is 0.
2. ``migrate``, ``collectstatic``, ``check --deploy`` (errors stop it: a simulator left on, a
   public development secret).
3. Starts gunicorn with ``gunicorn.conf.py`` and the subscription runners: a Celery worker and
   Celery beat (``--runner celery``, the default), or ``manage.py worker`` processes
   (``--runner worker``, no broker needed).
4. Runs until SIGTERM or Ctrl-C, or until one of them stops: then stops the others (SIGTERM,
   then SIGKILL after ``--grace`` seconds) and exits with the first failure's status.

Prometheus counters of every process are kept in ``PROMETHEUS_MULTIPROC_DIR`` (default
``var/prometheus``), emptied at start, so ``/metrics`` adds up all of them.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class Stop(Exception):
    """A stop signal arrived."""


def _stop(signum: int, frame: object) -> None:
    raise Stop(signal.Signals(signum).name)


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--runner",
        choices=("celery", "worker"),
        default=os.environ.get("OMS_RUNNER", "celery"),
        help="who runs the subscriptions (default: celery, or OMS_RUNNER)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=int(os.environ.get("OMS_RUNNER_PROCESSES", "2")),
        help="Celery worker processes, or `manage.py worker` processes (default 2)",
    )
    parser.add_argument(
        "--grace",
        type=float,
        default=40.0,
        help="seconds the processes have to stop before they are killed (default 40, more "
        "than gunicorn's graceful timeout of 30)",
    )
    return parser.parse_args(argv)


def production_environment() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("DEBUG", "0")
    problems = []
    if env["DEBUG"].lower() not in {"0", "false", "no", "off"}:
        problems.append("DEBUG must be 0 in production")
    if not env.get("SECRET_KEY"):
        problems.append("SECRET_KEY is not set (a long random value, kept secret)")
    if not env.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        problems.append("DATABASE_URL must name a PostgreSQL database (postgres://…)")
    if problems:
        raise SystemExit("run-prod: " + "; ".join(problems))
    var_dir = Path(env.get("OMS_VAR_DIR") or ROOT / "var")
    metrics_dir = Path(env.setdefault("PROMETHEUS_MULTIPROC_DIR", str(var_dir / "prometheus")))
    metrics_dir.mkdir(parents=True, exist_ok=True)
    # Counts of processes of an earlier run would be added to this run's (only the metric
    # files go: the directory may be one the operator chose for other things too).
    for stale in metrics_dir.glob("*.db"):
        stale.unlink()
    return env


def prepare(env: dict[str, str]) -> None:
    manage = [sys.executable, str(ROOT / "manage.py")]
    for step in (
        ["migrate", "--noinput"],
        ["collectstatic", "--noinput", "--verbosity", "0"],
        ["check", "--deploy", "--fail-level", "ERROR"],
    ):
        print(f"run-prod: manage.py {' '.join(step)}", flush=True)
        subprocess.run([*manage, *step], cwd=ROOT, env=env, check=True)


def commands(runner: str, processes: int) -> dict[str, list[str]]:
    python = sys.executable
    started = {"web": [python, "-m", "gunicorn", "-c", "gunicorn.conf.py", "core.wsgi"]}
    if runner == "celery":
        schedule = Path(os.environ.get("OMS_VAR_DIR") or ROOT / "var") / "celerybeat-schedule"
        started["celery-worker"] = [
            *(python, "-m", "celery", "-A", "core", "worker", "--loglevel=INFO"),
            f"--concurrency={processes}",
        ]
        started["celery-beat"] = [
            *(python, "-m", "celery", "-A", "core", "beat", "--loglevel=INFO"),
            f"--schedule={schedule}",
        ]
    else:
        for number in range(1, processes + 1):
            started[f"worker-{number}"] = [python, str(ROOT / "manage.py"), "worker"]
    return started


def supervise(started: dict[str, subprocess.Popen[bytes]]) -> int:
    """Wait until a process ends; return its status (0 when it ended cleanly)."""
    while True:
        for name, process in started.items():
            status = process.poll()
            if status is not None:
                print(f"run-prod: {name} stopped with status {status}; stopping", flush=True)
                return status or 1
        time.sleep(0.5)


def stop_all(started: dict[str, subprocess.Popen[bytes]], grace: float) -> None:
    for process in started.values():
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + grace
    for name, process in started.items():
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            print(f"run-prod: {name} did not stop within {grace:.0f} s; killing it", flush=True)
            # Its whole session: gunicorn's workers and Celery's pool with it.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def main(argv: list[str]) -> int:
    arguments = parse_arguments(argv)
    env = production_environment()
    if arguments.runner == "celery":
        env.setdefault("OMS_READY_CHECK_BROKER", "1")  # also when the default broker is used
    prepare(env)
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    started: dict[str, subprocess.Popen[bytes]] = {}
    status = 0
    try:
        for name, command in commands(arguments.runner, arguments.workers).items():
            # In a session of their own: a Ctrl-C or a signal to this group reaches only this
            # script, which stops them in order (Celery's pool processes killed mid-task by the
            # terminal's signal would abandon the task they were running).
            started[name] = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)
        print(
            f"run-prod: running {', '.join(started)} (pids "
            f"{', '.join(str(p.pid) for p in started.values())}); stop with SIGTERM or Ctrl-C",
            flush=True,
        )
        status = supervise(started)
    except Stop as stop:
        print(f"run-prod: {stop} received; stopping", flush=True)
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stop_all(started, arguments.grace)
    print("run-prod: stopped", flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
