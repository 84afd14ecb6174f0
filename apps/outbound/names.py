"""Public names of events on the wire: ``OrderPaid`` → ``order.paid``,
``PaymentAuthorizationExpired`` → ``payment.authorization_expired``.

The first word names the resource, the rest what happened to it: the style consumers know from
Standard Webhooks' examples and most providers' catalogues. The mapping is mechanical, so a new
event type gets its public name without a table to keep.
"""

from __future__ import annotations

import re

from apps.events.base import known_event_types

_WORDS = re.compile(r"[A-Z][a-z0-9]*")


def public_name(event_type: str) -> str:
    words = [word.lower() for word in _WORDS.findall(event_type)] or [event_type.lower()]
    head, *rest = words
    return f"{head}.{'_'.join(rest)}" if rest else head


def public_names() -> list[str]:
    """Every event's public name (what an endpoint may subscribe to)."""
    return sorted({public_name(event_type) for event_type in known_event_types()})
