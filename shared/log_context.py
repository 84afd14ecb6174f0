"""What a log line is about: the correlation id, user, order and event of the work in progress.

The request middleware, the command handlers and the subscription runner bind the ids they know
with :func:`bound` (a request's user is on its own line and on its commands' lines);
:class:`ContextFilter` (installed on the log handlers by ``LOGGING``) copies
them onto every record written meanwhile, so each line carries them without every call passing
them along. Only ids are bound: never a token, a secret or a body.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

FIELDS = ("correlation_id", "user_id", "order_id", "event_id")

_bound: ContextVar[dict[str, str] | None] = ContextVar("oms_log_context", default=None)


@contextmanager
def bound(**fields: Any) -> Iterator[None]:
    """Add ``fields`` (None values skipped) to the lines logged inside the block."""
    added = {name: str(value) for name, value in fields.items() if value is not None}
    token = _bound.set({**(_bound.get() or {}), **added})
    try:
        yield
    finally:
        _bound.reset(token)


def current() -> dict[str, str]:
    return dict(_bound.get() or {})


class ContextFilter(logging.Filter):
    """Copies the bound ids onto each record (an explicit ``extra`` of the same name wins)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in (_bound.get() or {}).items():
            if not hasattr(record, name):
                setattr(record, name, value)
        return True


class RequestPathOnly(logging.Filter):
    """Django's own request lines carry the request object, whose text holds the query string
    (which may hold a token); only its path is kept."""

    def filter(self, record: logging.LogRecord) -> bool:
        request = getattr(record, "request", None)
        if request is not None and not isinstance(request, str):
            record.request = getattr(request, "path", "")
        return True


class TextFormatter(logging.Formatter):
    """Development lines: readable text, the bound ids and the line's extras appended."""

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extras = {
            name: value
            for name, value in record.__dict__.items()
            if name not in _STANDARD_ATTRIBUTES and not name.startswith("_")
        }
        if extras:
            line += " " + " ".join(f"{name}={value}" for name, value in extras.items())
        return line


_STANDARD_ATTRIBUTES = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys() | {"message", "asctime"}
)
