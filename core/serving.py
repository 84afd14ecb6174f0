"""Where ``make run`` serves: one answer for the launcher that binds it and the tools that call it.

``OMS_ADDRESS`` (``host:port``) picks the address; without it the service listens on loopback,
port 8000. ``scripts/run_embedded.py`` serves there and points the simulated providers' webhooks
at it; ``manage.py simulate`` drives its orders there unless told otherwise. Production binds
gunicorn through ``GUNICORN_BIND`` instead (``gunicorn.conf.py``), and ``scripts/run_prod.py
probe`` calls it there.

A bind address is not always one to call: ``0.0.0.0`` and ``::`` mean every interface, which a
client cannot connect to by that name. ``reachable_address`` gives the one to call from this
machine, for both launchers.
"""

from __future__ import annotations

import os

DEFAULT_ADDRESS = "127.0.0.1:8000"
# Bound to every interface, a server listens on loopback among them. An empty host (":8000", or
# a port alone) binds every interface for gunicorn and loopback for runserver: loopback either way.
LOOPBACK_FOR_WILDCARD = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}


def embedded_address() -> str:
    """The ``host:port`` that ``make run`` serves on."""
    return os.environ.get("OMS_ADDRESS") or DEFAULT_ADDRESS


def embedded_base_url() -> str:
    """The URL of the service that ``make run`` serves, as this machine calls it."""
    return f"http://{reachable_address(embedded_address())}"


def reachable_address(bind: str) -> str:
    """The ``host:port`` at which this machine calls a server bound to ``bind`` (``host:port``,
    an IPv6 host in brackets or not): a wildcard host becomes loopback."""
    host, _, port = bind.rpartition(":")
    host = host.strip("[]")
    host = LOOPBACK_FOR_WILDCARD.get(host, host)
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
