"""The log configuration of every process (web, ``manage.py worker``, Celery worker and beat).

One line per request, command and event delivery, each with the ids it concerns
(``shared/log_context.py``). JSON in production (one object per line, for the log pipeline),
readable text in development. Every line goes through the root handler only, once.
"""

from __future__ import annotations

from typing import Any


def logging_config(log_format: str, level: str) -> dict[str, Any]:
    """``LOGGING`` for ``log_format`` (``json`` or ``text``) at ``level``."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "context": {"()": "shared.log_context.ContextFilter"},
            "request_path_only": {"()": "shared.log_context.RequestPathOnly"},
            # Beat's line for every task it sends (two a second while idle): DEBUG, not INFO.
            # "beat: Starting..." and its warnings stay.
            "beat_dispatch_at_debug": {
                "()": "shared.log_context.RoutineAtDebug",
                "messages": ["Scheduler: Sending due task"],
            },
        },
        "formatters": {
            "text": {
                "()": "shared.log_context.TextFormatter",
                "format": "%(asctime)s %(levelname)s %(name)s: %(message)s",
            },
            "json": {
                "()": "pythonjsonlogger.json.JsonFormatter",
                "format": "%(levelname)s %(name)s %(message)s",
                "rename_fields": {"levelname": "level", "name": "logger"},
                # ISO 8601 in UTC, e.g. 2026-01-31T12:00:00.123456+00:00
                "timestamp": "time",
            },
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": log_format,
                "filters": ["context", "request_path_only"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # Django's own loggers lose the handlers Django gives them and propagate to the root:
            # otherwise each of their lines is printed twice.
            "django": {"handlers": [], "level": "INFO", "propagate": True},
            # 4xx and 5xx are on the request's own line; a 5xx's traceback still comes from here.
            "django.request": {"handlers": [], "level": "ERROR", "propagate": True},
            # runserver's access line repeats the request's own line.
            "django.server": {"handlers": [], "level": "WARNING", "propagate": True},
            # A request with a Host not allowed is answered 400 and logged on its own line; scanners
            # send thousands, each with a traceback here.
            "django.security.DisallowedHost": {
                "handlers": [],
                "level": "CRITICAL",
                "propagate": False,
            },
            # httpx logs every request at INFO: the provider simulator would flood the
            # worker's output.
            "httpx": {"level": "WARNING"},
            "celery.beat": {"filters": ["beat_dispatch_at_debug"]},
        },
    }
