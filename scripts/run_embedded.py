"""``make run``: the web server and the embedded worker side by side, stopped together."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Run as a script (`python scripts/run_embedded.py`), so the project's packages are not on the path.
sys.path.insert(0, str(ROOT))

from core.serving import embedded_address, embedded_base_url  # noqa: E402


def banner(base: str) -> str:
    """What is served where, printed at start-up."""
    return (
        "\nOMS is starting (embedded mode: SQLite, the embedded worker runs the subscriptions)\n"
        f"  API         {base}/api/v1/orders/\n"
        f"  Swagger UI  {base}/api/docs/\n"
        f"  OpenAPI     {base}/api/schema/\n"
        f"  Console     {base}/console/ (staff)\n"
        f"  Admin       {base}/admin/\n"
        f"  Health      {base}/healthz  {base}/readyz  {base}/metrics\n"
        f"  Webhooks    {base}/api/v1/webhooks/payment/ and /shipping/ "
        "(the simulated provider and carrier call them)\n"
        "Another address: OMS_ADDRESS=host:port make run. Stop with Ctrl-C.\n"
    )


def main() -> int:
    address = embedded_address()
    base = embedded_base_url()
    print(banner(base), flush=True)
    # SIGTERM (from a supervisor or `kill`) stops both children too, as Ctrl-C does.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    manage = [sys.executable, str(ROOT / "manage.py")]
    # The simulated payment provider and carrier answer by webhook: their handlers (subscriptions)
    # and their sender run in the worker, which calls this server back.
    env = {"OMS_SIMULATOR_ENABLED": "1", "OMS_SIMULATOR_BASE_URL": base, **os.environ}
    # /metrics adds up both processes' counts (the worker's deliveries too); an earlier run's
    # counts are dropped.
    metrics_dir = Path(env.get("OMS_VAR_DIR") or ROOT / "var") / "prometheus"
    shutil.rmtree(metrics_dir, ignore_errors=True)
    metrics_dir.mkdir(parents=True)
    env.setdefault("PROMETHEUS_MULTIPROC_DIR", str(metrics_dir))
    worker = subprocess.Popen([*manage, "worker"], cwd=ROOT, env=env)
    server = subprocess.Popen([*manage, "runserver", address, "--noreload"], cwd=ROOT, env=env)
    try:
        # Stop everything when either child ends: a server without its worker would silently
        # stop reacting to events and sending the simulator's webhooks.
        while server.poll() is None and worker.poll() is None:
            time.sleep(0.5)
        if worker.poll() is not None:
            print("the worker stopped; stopping the server", flush=True)
        return server.returncode or worker.returncode or 0
    except KeyboardInterrupt:
        return 0
    finally:
        for process in (server, worker):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in (server, worker):
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


if __name__ == "__main__":
    sys.exit(main())
