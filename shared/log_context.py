"""What a log line is about: the correlation id, user, order and event of the work in progress.

The request middleware, the command handlers and the subscription runner bind the ids they know
with :func:`bound` (a request's user is on its own line and on its commands' lines);
:class:`ContextFilter` (installed on the log handlers by ``LOGGING``) copies
them onto every record written meanwhile, so each line carries them without every call passing
them along. Only ids are bound: never a token, a secret or a body, and always as strings, so
that a field has one JSON type on every line.

Some ids are learned only as the work goes: the order a create made, the order a payment
belongs to. A line written after the work (the request's own) opens :func:`collecting` around
it, and the commands inside report what they touched with :func:`learned`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

FIELDS = ("correlation_id", "user_id", "order_id", "event_id")

_bound: ContextVar[dict[str, str] | None] = ContextVar("oms_log_context", default=None)
_collected: ContextVar[Collected | None] = ContextVar("oms_log_collected", default=None)


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


class Collected:
    """The ids the work inside a :func:`collecting` block reported, by field."""

    def __init__(self) -> None:
        self._values: dict[str, set[str]] = {}

    def add(self, name: str, value: str) -> None:
        self._values.setdefault(name, set()).add(value)

    def only(self, name: str) -> str | None:
        """The one value reported for ``name``; None when there was none, or several (a line
        about several orders names none of them rather than one at random)."""
        values = self._values.get(name, set())
        return next(iter(values)) if len(values) == 1 else None


@contextmanager
def collecting() -> Iterator[Collected]:
    """Collect the ids that the work inside reports with :func:`learned`."""
    collected = Collected()
    token = _collected.set(collected)
    try:
        yield collected
    finally:
        _collected.reset(token)


def learned(**fields: Any) -> None:
    """Report ids found while working (None values skipped) to the enclosing
    :func:`collecting` block, if any."""
    collected = _collected.get()
    if collected is None:
        return
    for name, value in fields.items():
        if value is not None:
            collected.add(name, str(value))


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


class RoutineAtDebug(logging.Filter):
    """A library's routine INFO lines (``messages``: how their text starts), written at DEBUG
    instead: shown only when the logger is set to DEBUG. Installed on the library's logger."""

    def __init__(self, messages: Sequence[str] = ()) -> None:
        super().__init__()
        self.messages = tuple(messages)

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno != logging.INFO or not str(record.msg).startswith(self.messages):
            return True
        record.levelno, record.levelname = logging.DEBUG, logging.getLevelName(logging.DEBUG)
        return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)


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
