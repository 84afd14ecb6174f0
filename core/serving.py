"""Where ``make run`` serves: one answer for the launcher that binds it and the tools that call it.

``OMS_ADDRESS`` (``host:port``) picks the address; without it the service listens on loopback,
port 8000. ``scripts/run_embedded.py`` serves there and points the simulated providers' webhooks
at it; ``manage.py simulate`` drives its orders there unless told otherwise. Production binds
gunicorn through ``GUNICORN_BIND`` instead (``gunicorn.conf.py``).
"""

from __future__ import annotations

import os

DEFAULT_ADDRESS = "127.0.0.1:8000"


def embedded_address() -> str:
    """The ``host:port`` that ``make run`` serves on."""
    return os.environ.get("OMS_ADDRESS") or DEFAULT_ADDRESS


def embedded_base_url() -> str:
    """The URL of the service that ``make run`` serves."""
    return f"http://{embedded_address()}"
