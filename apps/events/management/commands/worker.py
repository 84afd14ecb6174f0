"""The embedded worker: runs due and overdue deliveries in a loop until SIGTERM or SIGINT."""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections

from apps.events.dispatcher import due_delivery_ids
from apps.events.periodic import run_due_jobs
from apps.events.runner import run_delivery

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Run due deliveries (retries and ones lost before dispatch) until stopped."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="sweep once and exit")
        parser.add_argument("--interval", type=float, default=settings.OMS_WORKER_INTERVAL_SECONDS)

    def handle(self, *args: Any, once: bool = False, interval: float = 1.0, **options: Any) -> None:
        stop = threading.Event()

        def request_stop(signum: int, frame: FrameType | None) -> None:
            self.stdout.write(f"worker: signal {signum}, finishing the current delivery")
            stop.set()

        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)
        self.stdout.write(f"worker: running due deliveries every {interval}s")
        failures = 0
        while not stop.is_set():
            try:
                ran = self.run_once(stop)
                failures = 0
            except Exception:
                # A database restart or a locked SQLite file must not end the retries for good:
                # log, back off (up to a minute) and try again with a fresh connection.
                failures += 1
                ran = 0
                logger.exception("worker: sweep failed (%s in a row)", failures)
                stop.wait(min(60.0, interval * 2**failures))
            if once:
                break
            if ran == 0:
                stop.wait(interval)
            # A long-lived loop must not keep a connection the database has dropped.
            close_old_connections()
        self.stdout.write("worker: stopped")

    @staticmethod
    def run_once(stop: threading.Event) -> int:
        """Run the due periodic jobs and deliveries; return how many deliveries ran."""
        ran = 0
        run_due_jobs()
        # Deliveries are run one by one here (not through the backend): this process is the
        # inline backend's retry engine, and with Celery the beat task does this job instead.
        for delivery_id in due_delivery_ids():
            if stop.is_set():
                break
            run_delivery(delivery_id)
            ran += 1
        return ran
