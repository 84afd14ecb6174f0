"""gunicorn's production configuration: ``gunicorn -c gunicorn.conf.py core.wsgi``.

Every value can be changed without editing this file, through the environment variables named
below. The defaults were chosen by measurement (BENCHMARKS.md, figure 2, "HTTP"): on 2 cores,
sync workers, two per core, served ``POST /api/v1/orders/`` and the reads fastest and with the
lowest p99 at 8 connections. A request spends part of its time waiting on PostgreSQL; a second
process per core keeps the core busy meanwhile. Threads (``gthread``) add a GIL handover to
every request for the same overlap, and more processes than that only add switching.
"""

from __future__ import annotations

import os


def _debug() -> bool:
    return os.environ.get("DEBUG", "1").lower() in {"1", "true", "yes", "on"}


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", 2 * _cores()))
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "sync")
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
# A request that takes longer than this is stuck (the slowest endpoint answers in well under a
# second); the master kills and replaces its worker instead of letting it hold a slot forever.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
# Behind a proxy that reuses its connections to us.
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
# Recycle each worker after this many requests (jittered so that they do not all restart at
# once): whatever a long-lived process accumulates is given back. Figure 6 measures the RSS.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "20000"))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", "2000"))
# Each worker opens its own database connection after the fork (CONN_MAX_AGE keeps it).
preload_app = False
# The application logs one line per request itself, with its correlation id, user and order
# (core/middleware.py); gunicorn's access line would repeat it. GUNICORN_ACCESS_LOG=- turns it on.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# gunicorn's own lines (workers booting, timeouts) in the format of the application's.
if (os.environ.get("OMS_LOG_FORMAT") or ("text" if _debug() else "json")) == "json":
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "json": {
                "()": "pythonjsonlogger.json.JsonFormatter",
                "format": "%(levelname)s %(name)s %(message)s",
                "rename_fields": {"levelname": "level", "name": "logger"},
                "timestamp": "time",
            }
        },
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json"}},
        "loggers": {
            "gunicorn.error": {"handlers": ["console"], "level": "INFO", "propagate": False},
            # gunicorn turns its access log on whenever this dict is given: off unless asked for.
            "gunicorn.access": {
                "handlers": ["console"] if accesslog else [],
                "level": "INFO" if accesslog else "CRITICAL",
                "propagate": False,
            },
        },
    }


def child_exit(server: object, worker: object) -> None:
    """A worker's metric files stay (its counts still add up) but are marked as of a dead
    process (prometheus_client's multiprocess mode)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)  # type: ignore[attr-defined]
