"""``@observed_command``: one log line and one count per command a service handles.

A service method takes one command dataclass; the decorator binds the command's order and user to
the log context (so every line logged while it runs carries them), then writes one line when it
ends, ``ok``, ``refused`` (a domain error: the answer is a 4xx) or ``error``, and counts it in
``oms_commands_total``. Commands issued by other commands are observed too, each on its own line.
The order it concerned, or created, is reported to the request's line as well
(``log_context.learned``).
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec, TypeVar

from shared import log_context, metrics
from shared.exceptions import DomainError

logger = logging.getLogger("oms.commands")

Service = TypeVar("Service")
Command = TypeVar("Command")
Result = TypeVar("Result")
Rest = ParamSpec("Rest")


def observed_command(
    method: Callable[Concatenate[Service, Command, Rest], Result],
) -> Callable[Concatenate[Service, Command, Rest], Result]:
    @functools.wraps(method)
    def handle(self: Service, command: Command, *args: Rest.args, **kwargs: Rest.kwargs) -> Result:
        name = type(command).__name__
        actor = getattr(command, "actor", None)
        order_id = getattr(command, "order_id", None)
        started = time.perf_counter()
        outcome = "error"
        refusal: str | None = None
        with log_context.bound(order_id=order_id, user_id=getattr(actor, "user_id", None)):
            try:
                result = method(self, command, *args, **kwargs)
                outcome = "ok"
                if order_id is None:
                    order_id = _order_id_of(result)
                return result
            except DomainError as exc:
                outcome, refusal = "refused", exc.code
                raise
            finally:
                metrics.commands.labels(name, outcome).inc()
                extra: dict[str, Any] = {
                    "command": name,
                    "outcome": outcome,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                }
                if refusal:
                    extra["code"] = refusal
                if order_id is not None:
                    extra["order_id"] = str(order_id)
                    # The request's own line names the order too, even one the URL does not.
                    log_context.learned(order_id=order_id)
                logger.info("command %s %s", name, outcome, extra=extra)

    return handle


def _order_id_of(result: Any) -> Any:
    """The order a command created (an order), or the order of the row it returns (a payment,
    a shipment)."""
    return getattr(result, "order_id", None) or getattr(result, "id", None)
