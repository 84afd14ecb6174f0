"""The embedded worker: runs every subscription's segments and the periodic jobs until stopped.

It handles what is there, then waits: on PostgreSQL for a ``NOTIFY oms_log`` (sent by every
commit that appended events) or the poll interval, whichever comes first; on SQLite for the poll
interval. A lost wake-up costs latency, never an event. Several workers (on several machines) can
run side by side: each segment is run by one of them at a time (its checkpoint row lock).
"""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections, connection

from apps.events.periodic import run_due_jobs
from apps.events.subscriptions import run_segment, segments_with_work

logger = logging.getLogger(__name__)

CHANNEL = "oms_log"


class Command(BaseCommand):
    help = "Run the subscriptions (handlers) and the periodic jobs until stopped."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="one round, then exit")
        parser.add_argument("--interval", type=float, default=settings.OMS_WORKER_INTERVAL_SECONDS)

    def handle(self, *args: Any, once: bool = False, interval: float = 1.0, **options: Any) -> None:
        stop = threading.Event()

        def request_stop(signum: int, frame: FrameType | None) -> None:
            self.stdout.write(f"worker: signal {signum}, finishing the current batch")
            stop.set()

        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)
        self.stdout.write(f"worker: running subscriptions (poll every {interval}s)")
        failures = 0
        listening_on: object = None  # the database connection the LISTEN was issued on
        while not stop.is_set():
            try:
                if connection.vendor == "postgresql" and (
                    connection.connection is None or connection.connection is not listening_on
                ):
                    listening_on = self.listen()
                handled = self.run_once(stop)
                failures = 0
            except Exception:
                # A database restart or a locked SQLite file must not end the work for good: log,
                # back off (up to a minute) and try again with a fresh connection.
                failures += 1
                handled = 0
                listening_on = None
                logger.exception("worker: round failed (%s in a row)", failures)
                connection.close()
                stop.wait(min(60.0, interval * 2**failures))
            if once:
                break
            if handled == 0 and not stop.is_set():
                self.wait(interval, listening_on is not None)
            # A long-lived loop must not keep a connection the database has dropped.
            close_old_connections()
        self.stdout.write("worker: stopped")

    @staticmethod
    def run_once(stop: threading.Event) -> int:
        """Run the due periodic jobs and one batch of every segment; return events handled."""
        run_due_jobs()
        handled = 0
        for key in segments_with_work():
            if stop.is_set():
                break
            handled += run_segment(key.subscription, key.segment)
        return handled

    @staticmethod
    def listen() -> object:
        """LISTEN on this process's connection; returns that connection."""
        connection.ensure_connection()
        with connection.cursor() as cursor:
            cursor.execute(f"LISTEN {CHANNEL}")
        return connection.connection

    @staticmethod
    def wait(interval: float, listening: bool) -> None:
        """Until a commit appends events (PostgreSQL) or ``interval`` has passed."""
        if not listening or connection.connection is None:
            threading.Event().wait(interval)
            return
        try:
            for _ in connection.connection.notifies(timeout=interval, stop_after=1):
                break
        except Exception:
            logger.warning("worker: lost the LISTEN connection; polling until it is back")
            connection.close()
