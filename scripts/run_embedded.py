"""``make run``: the web server and the embedded worker side by side, stopped together."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ADDRESS = os.environ.get("OMS_ADDRESS", "127.0.0.1:8000")


def main() -> int:
    base = f"http://{ADDRESS}"
    print(
        "\nOMS is starting (embedded mode: SQLite, inline events, embedded worker)\n"
        f"  API         {base}/api/v1/orders/\n"
        f"  Swagger UI  {base}/api/docs/\n"
        f"  OpenAPI     {base}/api/schema/\n"
        f"  Admin       {base}/admin/\n"
        "Stop with Ctrl-C.\n",
        flush=True,
    )
    # SIGTERM (from a supervisor or `kill`) stops both children too, as Ctrl-C does.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    manage = [sys.executable, str(ROOT / "manage.py")]
    worker = subprocess.Popen([*manage, "worker"], cwd=ROOT)
    server = subprocess.Popen([*manage, "runserver", ADDRESS, "--noreload"], cwd=ROOT)
    try:
        return server.wait()
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
