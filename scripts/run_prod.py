"""``make run-prod`` and the production containers: the production processes, started and
stopped together, all of them on one machine or one role per container.

1. Refuses to start without PostgreSQL (``DATABASE_URL``) and a ``SECRET_KEY``; ``DEBUG`` is 0.
2. ``check --deploy`` (errors stop it: a simulator left on, simulated provider clients, a public
   development secret; warnings are printed and the start goes on), then the database and
   static-file steps of the role.
3. Starts the role's processes: gunicorn with ``gunicorn.conf.py``, and the subscription runners:
   a Celery worker and Celery beat (``--runner celery``, the default), or ``manage.py worker``
   processes (``--runner worker``, no broker needed).
4. Runs until SIGTERM or Ctrl-C, or until one of them stops: then stops the others (SIGTERM,
   then SIGKILL after ``--grace`` seconds) and exits with the first failure's status.

Roles (the first argument):

- ``all`` (the default, ``make run-prod``): ``migrate``, ``collectstatic``, then every process.
- ``migrate``: applies the migrations and exits; once per release, before the others start.
- ``web``: gunicorn only; ``collectstatic``, no ``migrate``.
- ``worker``: the subscription runners only (Celery worker, or ``manage.py worker`` processes).
- ``beat``: Celery beat only; exactly one in a deployment, or periodic jobs are sent twice.
- ``probe``: not a role but the web role's health check: ``GET /readyz`` of the gunicorn of
  this machine, with a ``Host`` that ``ALLOWED_HOSTS`` accepts; exits 0 when ready.

``web``, ``worker`` and ``beat`` refuse to start while the database lacks a migration of this
code (``migrate --check``): a process of a new release never runs on an old schema.

Prometheus counters of every process are kept in ``PROMETHEUS_MULTIPROC_DIR`` (default
``var/prometheus``), so ``/metrics`` adds up all of them. ``all`` empties it at start; the
single roles leave it alone, as processes of other roles of the machine may be writing there
(each container of compose.yaml gets a fresh one).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Run as a script (`python scripts/run_prod.py`), so the project's packages are not on the path.
sys.path.insert(0, str(ROOT))

from core.serving import reachable_address  # noqa: E402

ROLES = ("all", "migrate", "web", "worker", "beat")
PROBE = "probe"
PROBE_TIMEOUT_SECONDS = 8.0

DEPLOY_CHECK = ("check", "--deploy", "--fail-level", "ERROR")
MIGRATE = ("migrate", "--noinput")
MIGRATIONS_APPLIED = ("migrate", "--check")
COLLECTSTATIC = ("collectstatic", "--noinput", "--verbosity", "0")
# The settings are checked before anything is changed: a misconfigured release never migrates.
STEPS: dict[str, tuple[tuple[str, ...], ...]] = {
    "all": (DEPLOY_CHECK, MIGRATE, COLLECTSTATIC),
    "migrate": (DEPLOY_CHECK, MIGRATE),
    "web": (DEPLOY_CHECK, MIGRATIONS_APPLIED, COLLECTSTATIC),
    "worker": (DEPLOY_CHECK, MIGRATIONS_APPLIED),
    "beat": (DEPLOY_CHECK, MIGRATIONS_APPLIED),
}
FAILURE_HINTS: dict[tuple[str, ...], str] = {
    MIGRATIONS_APPLIED: "the database lacks migrations of this release: run "
    "`scripts/run_prod.py migrate` first (in compose.yaml, the migrate service does)",
}


class Stop(Exception):
    """A stop signal arrived."""


def _stop(signum: int, frame: object) -> None:
    raise Stop(signal.Signals(signum).name)


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "role",
        nargs="?",
        choices=(*ROLES, PROBE),
        default="all",
        help="what this machine or container runs (default: all)",
    )
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
    arguments = parser.parse_args(argv)
    if arguments.role == "beat" and arguments.runner != "celery":
        parser.error(
            "beat is Celery beat: with --runner worker the worker processes run the periodic "
            "jobs themselves"
        )
    return arguments


def production_environment(role: str) -> dict[str, str]:
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
    if role == "all":
        # Counts of processes of an earlier run would be added to this run's (only the metric
        # files go: the directory may be one the operator chose for other things too).
        for stale in metrics_dir.glob("*.db"):
            stale.unlink()
    return env


def prepare(role: str, env: dict[str, str]) -> None:
    manage = [sys.executable, str(ROOT / "manage.py")]
    for step in STEPS[role]:
        print(f"run-prod: manage.py {' '.join(step)}", flush=True)
        status = subprocess.run([*manage, *step], cwd=ROOT, env=env, check=False).returncode
        if status != 0:
            hint = FAILURE_HINTS.get(step)
            raise SystemExit(
                f"run-prod: manage.py {' '.join(step)} failed with status {status}"
                + (f": {hint}" if hint else "")
            )


def commands(role: str, runner: str, processes: int) -> dict[str, list[str]]:
    """The processes of ``role``, by name, in the order they start."""
    python = sys.executable
    started: dict[str, list[str]] = {}
    if role in ("all", "web"):
        started["web"] = [python, "-m", "gunicorn", "-c", "gunicorn.conf.py", "core.wsgi"]
    if role in ("all", "worker"):
        if runner == "celery":
            started["celery-worker"] = [
                *(python, "-m", "celery", "-A", "core", "worker", "--loglevel=INFO"),
                f"--concurrency={processes}",
            ]
        else:
            for number in range(1, processes + 1):
                started[f"worker-{number}"] = [python, str(ROOT / "manage.py"), "worker"]
    if role in ("all", "beat") and runner == "celery":
        schedule = Path(os.environ.get("OMS_VAR_DIR") or ROOT / "var") / "celerybeat-schedule"
        started["celery-beat"] = [
            *(python, "-m", "celery", "-A", "core", "beat", "--loglevel=INFO"),
            f"--schedule={schedule}",
        ]
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


def readiness_url() -> str:
    """``/readyz`` on the address gunicorn binds (``GUNICORN_BIND``), from this machine."""
    bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
    return f"http://{reachable_address(bind)}/readyz"


def request_host() -> str:
    """A ``Host`` the settings accept: Django answers 400 to any other, before ``/readyz``
    runs, and a deployment may allow only its public name."""
    allowed = [name.strip() for name in os.environ.get("ALLOWED_HOSTS", "").split(",")]
    allowed = [name for name in allowed if name and name != "*"]
    if not allowed:  # unset (the settings allow 127.0.0.1) or "*"
        return "127.0.0.1"
    for loopback in ("127.0.0.1", "localhost"):
        if loopback in allowed:
            return loopback
    return allowed[0].lstrip(".")  # ".example.com" allows example.com itself


def probe() -> int:
    if os.environ.get("GUNICORN_BIND", "").startswith(("unix:", "fd://")):
        print("probe: gunicorn does not listen on a TCP port (GUNICORN_BIND)", file=sys.stderr)
        return 1
    url = readiness_url()
    request = urllib.request.Request(url, headers={"Host": request_host()})
    try:
        with urllib.request.urlopen(request, timeout=PROBE_TIMEOUT_SECONDS) as answer:
            # Another success (204, 206...) is not /readyz's "ready": something else answered.
            if answer.status == 200:
                print(f"probe: {url} ready", flush=True)
                return 0
            print(f"probe: {url} answered {answer.status}, not 200", file=sys.stderr)
    except urllib.error.HTTPError as refused:
        body = refused.read().decode(errors="replace")
        with contextlib.suppress(ValueError, AttributeError):
            body = json.loads(body).get("detail") or body
        print(f"probe: {url} answered {refused.code}: {body}", file=sys.stderr)
    except OSError as unreachable:  # refused, timed out, no such host
        print(f"probe: cannot reach {url}: {unreachable}", file=sys.stderr)
    return 1


def main(argv: list[str]) -> int:
    arguments = parse_arguments(argv)
    if arguments.role == PROBE:
        return probe()
    env = production_environment(arguments.role)
    if arguments.runner == "celery":
        env.setdefault("OMS_READY_CHECK_BROKER", "1")  # also when the default broker is used
    prepare(arguments.role, env)
    if arguments.role == "migrate":
        print("run-prod: the database is migrated", flush=True)
        return 0
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    started: dict[str, subprocess.Popen[bytes]] = {}
    status = 0
    try:
        for name, command in commands(arguments.role, arguments.runner, arguments.workers).items():
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
