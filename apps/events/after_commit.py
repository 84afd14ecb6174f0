"""What happens once a transaction that appended events commits: wake the runners.

On PostgreSQL the commit itself sends ``NOTIFY oms_log`` (from the trigger that gives positions),
and the embedded worker listens; nothing runs in the committing process. On SQLite, where there
is no NOTIFY, the worker polls.

Tests set ``OMS_SUBSCRIPTIONS_RUN_AFTER_COMMIT``: the committing process then runs every
subscription until idle right after the commit, so a test sees the reactions of its request
without a worker. The handlers and the runner are the same as in production; only who calls the
runner differs. Production never sets it (requests must not do the reactions' work).
"""

from __future__ import annotations

import threading

from django.conf import settings
from django.db import transaction

_state = threading.local()


def log_grew() -> None:
    """Called by ``store.append`` inside the appending transaction."""
    if not settings.OMS_SUBSCRIPTIONS_RUN_AFTER_COMMIT or getattr(_state, "running", False):
        return
    transaction.on_commit(_run_subscriptions)


# Enough rounds for any cascade of reactions (create → payment requested; paid → shipment
# requested → processing); bounded, so that a test with concurrent requests does not make one
# request drain everybody's work for as long as new work keeps arriving.
ROUNDS = 10


def _run_subscriptions() -> None:
    from apps.events.subscriptions import run_until_idle

    # The handlers append events of their own; this loop picks them up, and their commits must
    # not start a second loop inside this one.
    _state.running = True
    try:
        run_until_idle(max_batches=ROUNDS, until_idle=False)
    finally:
        _state.running = False
