"""Celery's own output in the service's log format: one JSON object per line in production.

Left to itself, Celery configures logging its own way and writes to the terminal around it: the
worker's and beat's banners, the warnings it raises before logging is set up (running as root),
"worker: Warm shutdown". A log pipeline that reads one JSON object per line cannot take those.
So Celery is told to leave logging to ``LOGGING`` (``core/settings.py``, the same handler,
formatter and filters as every other process; ``LOG_LEVEL`` rather than ``--loglevel``), and in
JSON mode the banners are replaced by one log line with their facts and the shutdown line is
logged rather than printed. In text mode (development) the banners stay: they are for people.

Only Ctrl-C's interactive prompts ("Hitting Ctrl+C again...") are still printed: they answer a
person at a terminal, who is not reading JSON.
"""

from __future__ import annotations

import logging
import logging.config
from typing import Any

import celery
from celery import signals
from celery.apps import beat as celery_beat
from celery.apps import worker as celery_worker
from celery.apps.worker import (  # type: ignore[attr-defined]
    install_worker_int_handler,
    install_worker_term_handler,
    install_worker_term_hard_handler,
)
from celery.worker import WorkController
from django.conf import settings

logger = logging.getLogger("oms.celery")


def json_mode() -> bool:
    return bool(settings.OMS_LOG_FORMAT == "json")


def configure_logging() -> None:
    logging.config.dictConfig(settings.LOGGING)
    # Warnings (Celery's SecurityWarning among them) become log lines like any other.
    logging.captureWarnings(True)


@signals.setup_logging.connect
def use_the_service_logging(**kwargs: Any) -> None:
    """A receiver of this signal tells Celery to configure no logging of its own."""
    configure_logging()


@signals.celeryd_init.connect
def log_from_the_start(**kwargs: Any) -> None:
    # The worker checks its privileges (and warns when run as root) right after this signal,
    # before it sets up logging: the warning must already find the service's format.
    configure_logging()


@signals.worker_shutting_down.connect
def log_the_shutdown(sig: str = "", how: str = "", **kwargs: Any) -> None:
    if json_mode():
        logger.info("worker: %s shutdown (%s)", how, sig, extra={"signal": sig, "shutdown": how})


class Worker(celery_worker.Worker):
    """``celery worker``, its banner a log line and its shutdown line logged in JSON mode."""

    def emit_banner(self) -> None:
        if not json_mode():
            super().emit_banner()
            return
        hostname = getattr(self, "hostname", "")
        logger.info(
            "worker %s starting",
            hostname,
            extra={
                "hostname": hostname,
                "celery_version": celery.__version__,
                "transport": self.app.connection().as_uri(),  # the password masked
                "concurrency": getattr(self, "concurrency", None),
                "queues": sorted(self.app.amqp.queues),
                "tasks": sorted(name for name in self.app.tasks if not name.startswith("celery.")),
            },
        )

    def install_platform_tweaks(self, worker: WorkController) -> None:
        super().install_platform_tweaks(worker)
        if json_mode():
            # The same handlers without their printed "worker: Warm shutdown (MainProcess)":
            # log_the_shutdown logs it.
            install_worker_term_handler(worker, verbose=False)
            install_worker_term_hard_handler(worker, verbose=False)
            install_worker_int_handler(worker, verbose=False)


class Beat(celery_beat.Beat):
    """``celery beat``, without its printed banner in JSON mode (it logs "beat: Starting...")."""

    def __init__(self, **options: Any) -> None:
        options["quiet"] = options.get("quiet", False) or json_mode()
        super().__init__(**options)
